#include "app/run_compare.hh"

#include <gtest/gtest.h>

#include "core/histogram.hh"

namespace horde::app {
namespace {

figure_change figure(better_when d, std::optional<double> base, std::optional<double> now) {
  return {"f", "", d, base, now};
}

TEST(RunCompare, DirectionDecidesBetterOrWorse) {
  using enum better_when;
  EXPECT_EQ(judge_change(figure(lower, 10, 8)), change_verdict::better);
  EXPECT_EQ(judge_change(figure(lower, 10, 12)), change_verdict::worse);
  EXPECT_EQ(judge_change(figure(higher, 10, 12)), change_verdict::better);
  EXPECT_EQ(judge_change(figure(higher, 10, 8)), change_verdict::worse);
  EXPECT_EQ(judge_change(figure(higher, 0, 0)), change_verdict::same);
  EXPECT_EQ(judge_change(figure(lower, 100000, 100001)), change_verdict::same);  // within 0.05%
  EXPECT_EQ(judge_change(figure(lower, std::nullopt, 3)), change_verdict::unknown);
}

TEST(RunCompare, ChangeInAbsoluteAndPercent) {
  const auto f = figure(better_when::lower, 4, 5);
  EXPECT_EQ(*change_absolute(f), 1.0);
  EXPECT_EQ(*change_percent(f), 25.0);
  EXPECT_EQ(*change_percent(figure(better_when::lower, 8, 2)), -75.0);
  EXPECT_FALSE(change_percent(figure(better_when::lower, 0, 5)));  // no % of nothing
  EXPECT_EQ(*change_absolute(figure(better_when::lower, 0, 5)), 5.0);
  EXPECT_FALSE(change_absolute(figure(better_when::lower, 1, std::nullopt)));
}

nlohmann::json result_with(uint64_t opened, uint64_t rtt_ns, double seconds) {
  core::histogram h;
  for (int i = 0; i < 100; ++i)
    h.record(rtt_ns);
  nlohmann::json buckets = nlohmann::json::array();
  h.for_each_bucket([&](uint32_t index, uint64_t count) { buckets.push_back({index, count}); });
  const nlohmann::json histogram = {{"count", 100}, {"max_ns", rtt_ns}, {"buckets", buckets}};
  return {{"schema", "horde.run/1"},
          {"elapsed_seconds", seconds},
          {"connections", {{"opened", opened}, {"failed", 0}}},
          {"messages", {{"sent", 1000}, {"received", 1000}}},
          {"latency", {{"round_trip", histogram}}},
          {"scenario", {{"latency", {{"login", histogram}}}}}};
}

TEST(RunCompare, FiguresFromTwoResults) {
  const auto figures =
      compare_results(result_with(100, 2'000'000, 10), result_with(90, 1'000'000, 5));
  const auto find = [&](const std::string& name) {
    for (const auto& f : figures)
      if (f.name == name) return f;
    ADD_FAILURE() << name;
    return figure_change{};
  };
  EXPECT_EQ(judge_change(find("connections opened")), change_verdict::worse);
  EXPECT_EQ(*find("messages sent/s").base, 100.0);
  EXPECT_EQ(*find("messages sent/s").now, 200.0);
  EXPECT_EQ(judge_change(find("messages sent/s")), change_verdict::better);
  EXPECT_NEAR(*find("round trip p99").base, 2.0, 0.01);
  EXPECT_EQ(judge_change(find("round trip p99")), change_verdict::better);
  EXPECT_EQ(judge_change(find("login p50")), change_verdict::better);
  EXPECT_EQ(judge_change(find("CPU per million messages")), change_verdict::unknown);
  const std::string text = compare_text(figures, "a.json", "b.json");
  EXPECT_NE(text.find("round trip p99"), std::string::npos);
  EXPECT_NE(text.find("(-50.0%)  better"), std::string::npos) << text;
}

}  // namespace
}  // namespace horde::app

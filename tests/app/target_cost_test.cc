// The target's cost from made-up series: memory per connection, CPU per
// million messages, the slope and the leak verdict, and the report's lines.
#include "app/target_cost.hh"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "app/report.hh"

namespace horde::app {
namespace {

constexpr double mib = 1024.0 * 1024.0;

// A soak: ramp to 2,000 connections over 5 s, hold to `seconds`, with the
// target's RSS at `base` + 1 KiB per connection + `growth_per_s` a second.
run_result soak(int seconds, double growth_per_s, uint64_t base = 100 * 1024 * 1024) {
  run_result r;
  r.sampled_target.names = {"pid 7 (srv)"};
  r.sampled_target.before_connections = target_figures{base, 0, 0, 10, 4};
  for (int t = 1; t <= seconds; ++t) {
    series_point p;
    p.t = t;
    p.open = t < 5 ? uint64_t(400 * t) : 2000;
    p.upgraded = p.open;
    target_point tp;
    tp.sum.rss_bytes = base + p.open * 1024 + uint64_t(growth_per_s * t);
    tp.sum.cpu_user_seconds = 0.1 * t;
    tp.sum.cpu_system_seconds = 0.05 * t;
    p.target = tp;
    r.series.push_back(p);
  }
  return r;
}

TEST(FitLine, ExactLineAndNoise) {
  const auto fit = fit_line({1, 2, 3, 4}, {3, 5, 7, 9});
  ASSERT_TRUE(fit);
  EXPECT_DOUBLE_EQ(fit->slope, 2);
  EXPECT_DOUBLE_EQ(fit->intercept, 1);
  EXPECT_DOUBLE_EQ(fit->r_squared, 1);
  const auto flat = fit_line({1, 2, 3}, {5, 5, 5});
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->slope, 0);
  EXPECT_EQ(flat->r_squared, 0);
  EXPECT_FALSE(fit_line({1}, {1}));
  EXPECT_FALSE(fit_line({2, 2}, {1, 3}));
  // Large x and y (seconds since boot, bytes) keep their digits.
  const auto big = fit_line({1e9, 1e9 + 1, 1e9 + 2}, {4e9, 4e9 + 10, 4e9 + 20});
  ASSERT_TRUE(big);
  EXPECT_NEAR(big->slope, 10, 1e-6);
}

TEST(TargetCost, MemoryPerConnectionAtTheHold) {
  const auto cost = judge_target(soak(8, 0));
  ASSERT_TRUE(cost);
  EXPECT_EQ(cost->open_at_hold, 2000u);
  ASSERT_TRUE(cost->memory_per_connection);
  EXPECT_DOUBLE_EQ(*cost->memory_per_connection, 1024);
  EXPECT_FALSE(cost->slope);  // 4 points after the ramp
  EXPECT_NE(cost->verdict.find("too short"), std::string::npos) << cost->verdict;
}

TEST(TargetCost, CpuPerMillionMessages) {
  run_result r = soak(10, 0);
  r.metrics.counters.messages_sent = 500'000;
  r.metrics.counters.messages_received = 500'000;
  const auto cost = judge_target(r);
  ASSERT_TRUE(cost);
  EXPECT_NEAR(cost->cpu_seconds, 1.5, 1e-9);
  ASSERT_TRUE(cost->cpu_per_million_messages);
  EXPECT_NEAR(*cost->cpu_per_million_messages, 1.5, 1e-9);
  r.metrics.counters.messages_sent = 10;
  r.metrics.counters.messages_received = 10;
  EXPECT_FALSE(judge_target(r)->cpu_per_million_messages);
}

TEST(TargetCost, FlatSoak) {
  const auto cost = judge_target(soak(120, 0));
  ASSERT_TRUE(cost && cost->slope);
  EXPECT_FALSE(cost->slope->growing);
  EXPECT_EQ(cost->verdict, "flat");
}

TEST(TargetCost, GrowingSoakIsALeak) {
  // 100 KiB/s over ~115 s: 11.2 MiB, over 4 MiB and 5% of ~102 MiB.
  const auto cost = judge_target(soak(120, 100 * 1024));
  ASSERT_TRUE(cost && cost->slope);
  EXPECT_TRUE(cost->slope->growing);
  EXPECT_NEAR(cost->slope->bytes_per_hour, 100 * 1024 * 3600.0, 1);
  EXPECT_GT(cost->slope->r_squared, 0.99);
  EXPECT_EQ(cost->verdict, "growing 351.6 MiB/h — a leak?");
}

TEST(TargetCost, SmallGrowthOnABigHeapIsFlat) {
  // 30 KiB/s over ~115 s is 3.4 MiB: under 4 MiB.
  EXPECT_EQ(judge_target(soak(120, 30 * 1024))->verdict, "flat");
  // 100 KiB/s on a 1 GiB heap: 11 MiB is under 5% of it.
  EXPECT_EQ(judge_target(soak(120, 100 * 1024, 1024 * mib))->verdict, "flat");
}

TEST(TargetCost, SawtoothWithoutFitIsFlat) {
  run_result r = soak(120, 0);
  // A collector's sawtooth: +40 MiB every other second, a slight upward tilt.
  for (size_t i = 0; i < r.series.size(); ++i)
    r.series[i].target->sum.rss_bytes += (i % 2) * uint64_t(40 * mib) + i * 10'000;
  const auto cost = judge_target(r);
  ASSERT_TRUE(cost && cost->slope);
  EXPECT_LT(cost->slope->r_squared, 0.5);
  EXPECT_EQ(cost->verdict, "flat");
}

TEST(TargetCost, BytesPerCycledConnection) {
  run_result r = soak(120, 100 * 1024);
  // Reconnects: each second 100 connections close and 100 open.
  for (auto& p : r.series)
    p.upgraded = p.open + (p.t > 5 ? uint64_t(100 * (p.t - 5)) : 0);
  const auto cost = judge_target(r);
  ASSERT_TRUE(cost && cost->slope && cost->slope->bytes_per_cycled_connection);
  EXPECT_EQ(cost->slope->connections_cycled, 100u * 115);
  EXPECT_NEAR(*cost->slope->bytes_per_cycled_connection, 1024, 1);
}

TEST(TargetCost, NoneWithoutATarget) {
  EXPECT_FALSE(judge_target(run_result{}));
  EXPECT_FALSE(to_json(run_result{}).contains("target_cost"));
}

TEST(TargetCost, ReportAndJson) {
  run_result r = soak(120, 100 * 1024);
  r.elapsed_seconds = 120;
  r.sampled_target.samples = 121;
  r.sampled_target.sampling_cpu_seconds = 0.0121;
  char* text = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  print_summary(out, r);
  std::fclose(out);
  const std::string summary(text, size);
  std::free(text);
  EXPECT_NE(summary.find("target       pid 7 (srv)"), std::string::npos) << summary;
  // Without a plan the hold is the last point: 1 KiB each plus 120 s of growth over 2,000.
  EXPECT_NE(summary.find("memory per open connection 7168 B"), std::string::npos) << summary;
  EXPECT_NE(summary.find("growing 351.6 MiB/h — a leak?"), std::string::npos) << summary;
  EXPECT_NE(summary.find("100 us of CPU per sample (0.010% of a CPU)"), std::string::npos)
      << summary;
  const auto j = to_json(r);
  ASSERT_TRUE(j.contains("target_cost"));
  EXPECT_DOUBLE_EQ(j["target_cost"]["memory_per_connection_bytes"].get<double>(), 7168);
  EXPECT_TRUE(j["target_cost"]["memory_slope"]["growing"].get<bool>());
  EXPECT_GT(j["series"][10]["target_rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_FALSE(j["series"][10].contains("targets"));  // one target: the sum is it
}

}  // namespace
}  // namespace horde::app

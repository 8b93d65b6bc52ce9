// The summary, the JSON and the live line from made-up results.
#include "app/report.hh"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "app/report_format.hh"
#include "app/run_watch.hh"

namespace horde::app {
namespace {

std::string summary_of(const run_result& r) {
  char* text = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  print_summary(out, r);
  std::fclose(out);
  std::string s(text, size);
  std::free(text);
  return s;
}

TEST(Report, TinyRunsAreTooFewToMeasure) {
  run_result r;
  r.open_at_rss_sample = 3;
  r.rss_before_connections = 1000;
  r.rss_at_peak_open = 900'000;
  r.metrics.counters.messages_received = 40;
  r.usage_end.user_seconds = 1;
  const std::string text = summary_of(r);
  EXPECT_NE(text.find("memory per open connection: too few to measure (3 open"), std::string::npos)
      << text;
  EXPECT_NE(text.find("CPU per million messages: too few to measure (40 received"),
            std::string::npos)
      << text;
  const auto j = to_json(r);
  EXPECT_TRUE(j["self"]["memory_per_connection_bytes"].is_null());
  EXPECT_TRUE(j["self"]["cpu_seconds_per_million_messages"].is_null());

  r.open_at_rss_sample = 1000;
  r.rss_at_peak_open = 1000 + 1000 * 600;
  r.metrics.counters.messages_received = 100'000;
  EXPECT_NE(summary_of(r).find("memory per open connection 600 B"), std::string::npos);
  EXPECT_NE(summary_of(r).find("10.00 CPU-seconds per million"), std::string::npos);
  EXPECT_DOUBLE_EQ(to_json(r)["self"]["memory_per_connection_bytes"].get<double>(), 600);
  EXPECT_DOUBLE_EQ(to_json(r)["self"]["cpu_seconds_per_million_messages"].get<double>(), 10);
}

TEST(Report, PercentilesChooseTheColumnsAndTheJsonKeys) {
  run_result r;
  for (uint64_t v = 1; v <= 1000; ++v)
    r.metrics.latency.round_trip.record(v * 1000);
  r.percentiles = {50, 95, 99.9};
  const std::string text = summary_of(r);
  EXPECT_NE(text.find("p50       p95     p99.9       max      mean"), std::string::npos) << text;
  EXPECT_EQ(text.find("p90"), std::string::npos);
  const auto p = to_json(r)["latency"]["round_trip"]["percentiles_ns"];
  EXPECT_EQ(p.size(), 3u);
  EXPECT_GE(p["p95"].get<uint64_t>(), 950'000u);
  EXPECT_LT(p["p95"].get<uint64_t>(), 951'000u);
  EXPECT_TRUE(p.contains("p99.9"));
  EXPECT_EQ(percentile_label(50), "p50");
  EXPECT_EQ(percentile_label(99.99), "p99.99");
}

// Every counter core declares reaches the JSON by its name.
TEST(Report, EveryDeclaredCounterIsInTheJson) {
  run_result r;
  uint64_t n = 1;
#define HORDE_TEST_SET(name) r.metrics.counters.name = n++;
  HORDE_CONNECTION_COUNTERS(HORDE_TEST_SET)
  HORDE_MESSAGE_COUNTERS(HORDE_TEST_SET)
  HORDE_ENGINE_COUNTERS(HORDE_TEST_SET)
#undef HORDE_TEST_SET
  const auto counters = to_json(r)["counters"];
  n = 1;
#define HORDE_TEST_CHECK(name) EXPECT_EQ(counters[#name].get<uint64_t>(), n++) << #name;
  HORDE_CONNECTION_COUNTERS(HORDE_TEST_CHECK)
  HORDE_MESSAGE_COUNTERS(HORDE_TEST_CHECK)
  HORDE_ENGINE_COUNTERS(HORDE_TEST_CHECK)
#undef HORDE_TEST_CHECK
  EXPECT_EQ(counters.size(), n - 1);
}

TEST(Report, EchoAccountingAndCloseCodes) {
  run_result r;
  auto& c = r.metrics.counters;
  c.messages_sent = 199;
  c.messages_received = 228;
  c.messages_answered = 171;
  c.messages_duplicated = 57;
  c.messages_corrupted = 3;
  c.messages_truncated = 2;
  c.close_codes[4001 - core::first_close_code] = 7;
  const std::string text = summary_of(r);
  EXPECT_NE(text.find("answered 171  unanswered 28  duplicated 57  corrupted 3  truncated 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("close codes  from the server  4001: 7"), std::string::npos) << text;
  const auto j = to_json(r);
  EXPECT_EQ(j["messages"]["unanswered"], 28);
  EXPECT_EQ(j["messages"]["duplicated"], 57);
  EXPECT_EQ(j["connections"]["server_close_codes"]["4001"], 7);
}

// Each series point carries its own interval's percentiles: a spike in the
// last second shows there, not diluted by the run before it.
TEST(Report, SeriesPointsCarryTheirIntervalsPercentiles) {
  auto before = std::make_unique<core::metrics_snapshot>();
  for (int i = 0; i < 100'000; ++i)
    before->latency.round_trip.record(100'000);  // 0.1 ms for a long time
  auto now = std::make_unique<core::metrics_snapshot>();
  now->latency.round_trip = before->latency.round_trip;
  for (int i = 0; i < 100; ++i)
    now->latency.round_trip.record(50'000'000);  // then 50 ms for a second
  now->counters.messages_sent = 100'100;
  const series_point point = series_point_of(*now, *before, 61.0, 1.0);
  EXPECT_EQ(point.round_trip.count, 100u);
  EXPECT_GE(point.round_trip.p50_ns, 50'000'000u);
  EXPECT_LT(point.round_trip.p50_ns, 50'100'000u);
  EXPECT_EQ(point.round_trip.max_ns, 50'000'000u);
  EXPECT_LT(point.round_trip_p99_ns, 200'000u) << "the cumulative p99 hides the spike";

  run_result r;
  r.series.push_back(point);
  const auto j = to_json(r)["series"][0];
  EXPECT_EQ(j["interval"]["round_trip"]["count"], 100);
  EXPECT_EQ(j["interval"]["round_trip"]["max_ns"], 50'000'000);
  EXPECT_TRUE(j["interval"]["round_trip"].contains("p95_ns"));
  EXPECT_EQ(j["interval"]["seconds"], 1.0);
  EXPECT_TRUE(j.contains("round_trip_p99_ns"));

  series_point previous;
  previous.t = 60.0;
  const std::string line = progress_line(r, point, previous);
  EXPECT_NE(line.find("last 1s: rtt p50 50.0"), std::string::npos) << line;
}

}  // namespace
}  // namespace horde::app

// The Prometheus exposition from made-up snapshots: families, cumulative
// buckets that end at the count, escaped labels.
#include "app/prometheus_text.hh"

#include <gtest/gtest.h>

#include <string>

namespace horde::app {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(PrometheusText, CumulativeBucketsEndAtTheCount) {
  core::histogram h;
  h.record(50'000);          // 50 us: under 100 us
  h.record(100'000);         // exactly 100 us, an exact-enough bucket? within 1/1024
  h.record(3'000'000);       // 3 ms: under 5 ms
  h.record(20'000'000'000);  // 20 s: only +Inf
  const auto counts = cumulative_counts(h);
  EXPECT_EQ(counts.back(), 4u);
  EXPECT_EQ(counts[0], 1u);  // the 100 us record's bucket reaches past 100,000 ns
  EXPECT_EQ(counts[1], 2u);  // <= 250 us
  EXPECT_EQ(counts[4], 2u);  // <= 2.5 ms
  EXPECT_EQ(counts[5], 3u);  // <= 5 ms
  EXPECT_EQ(counts[prometheus_bounds.size() - 1], 3u);  // <= 10 s
  for (size_t i = 1; i < counts.size(); ++i)
    EXPECT_GE(counts[i], counts[i - 1]);
}

TEST(PrometheusText, FamiliesAndHistograms) {
  core::metrics_snapshot m;
  m.counters.attempts = 10;
  m.counters.upgraded = 9;
  m.counters.open_now = 8;
  m.counters.failures[0] = 1;
  m.latency.round_trip.record(2'000'000);
  m.latency.round_trip.record(4'000'000);
  series_point point;
  point.rss_bytes = 123;
  target_point tp;
  tp.sum.rss_bytes = 4096;
  point.target = tp;
  const std::string text = prometheus_text(m, {}, {}, point);
  EXPECT_TRUE(has_line(text, "# TYPE horde_connections_attempted_total counter")) << text;
  EXPECT_TRUE(has_line(text, "horde_connections_attempted_total 10"));
  EXPECT_TRUE(has_line(text, "horde_connections_opened_total 9"));
  EXPECT_TRUE(has_line(text, "horde_connections_open 8"));
  EXPECT_NE(text.find("horde_connections_failed_total{reason=\""), std::string::npos);
  EXPECT_TRUE(has_line(text, "# TYPE horde_round_trip_seconds histogram"));
  EXPECT_TRUE(has_line(text, "horde_round_trip_seconds_bucket{le=\"0.001\"} 0"));
  EXPECT_TRUE(has_line(text, "horde_round_trip_seconds_bucket{le=\"0.0025\"} 1"));
  EXPECT_TRUE(has_line(text, "horde_round_trip_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_TRUE(has_line(text, "horde_round_trip_seconds_count 2"));
  EXPECT_NE(text.find("horde_round_trip_seconds_sum 0.006"), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, "horde_target_resident_bytes 4096"));
  EXPECT_EQ(text.find("horde_host_"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

TEST(PrometheusText, NamedHistogramsCarryTheirName) {
  core::metrics_snapshot m;
  m.counters.named = {3};
  m.latency.named.resize(1);
  m.latency.named[0].record(2'000'000);
  const std::string text = prometheus_text(m, {"request.add.sent"}, {"say \"hi\"\\now"}, {});
  EXPECT_TRUE(has_line(text, "horde_scenario_events_total{name=\"request.add.sent\"} 3")) << text;
  EXPECT_TRUE(has_line(text,
                       "horde_scenario_seconds_bucket{name=\"say \\\"hi\\\"\\\\now\","
                       "le=\"0.0025\"} 1"))
      << text;
  EXPECT_TRUE(has_line(text, "horde_scenario_seconds_count{name=\"say \\\"hi\\\"\\\\now\"} 1"));
}

TEST(PrometheusText, LabelValueEscapes) {
  EXPECT_EQ(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace horde::app

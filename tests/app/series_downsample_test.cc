#include "app/series_downsample.hh"

#include <gtest/gtest.h>

#include "app/series_read.hh"

namespace horde::app {
namespace {

std::vector<series_point> seconds(size_t n) {
  std::vector<series_point> out(n);
  for (size_t i = 0; i < n; ++i) {
    auto& s = out[i];
    s.t = double(i + 1);
    s.interval_seconds = 1;
    s.open = 100 + (i == 5 ? 50 : 0);  // a one-second peak
    s.sent = 1000 * (i + 1);
    s.upgraded = 100;
    s.round_trip = {10, 1'000'000, 2'000'000, uint64_t(i == 7 ? 12'000'000 : 3'000'000), 5'000'000};
  }
  return out;
}

TEST(SeriesDownsample, EndsCoverEveryPointInEqualGroups) {
  EXPECT_TRUE(downsample_ends(0, 10).empty());
  EXPECT_EQ(downsample_ends(3, 10), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(downsample_ends(10, 5), (std::vector<size_t>{1, 3, 5, 7, 9}));
  EXPECT_EQ(downsample_ends(10, 4), (std::vector<size_t>{2, 5, 8, 9}));
  EXPECT_LE(downsample_ends(3600, chart_points_max).size(), chart_points_max);
  EXPECT_EQ(downsample_ends(3600, chart_points_max).back(), 3599u);
}

TEST(SeriesDownsample, ShortSeriesIsKeptAsItIs) {
  const auto series = seconds(20);
  const auto kept = downsample(series, chart_points_max);
  ASSERT_EQ(kept.size(), 20u);
  EXPECT_EQ(kept[5].open, 150u);
  EXPECT_EQ(kept[7].round_trip.p99_ns, 12'000'000u);
}

TEST(SeriesDownsample, MergedPointsKeepRatesExactAndPeaksVisible) {
  const auto kept = downsample(seconds(10), 2);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].t, 5.0);
  EXPECT_EQ(kept[0].interval_seconds, 5.0);
  EXPECT_EQ(kept[0].sent, 5000u);  // cumulative: (5000 - 0) / 5 s = 1000/s, exact
  EXPECT_EQ(kept[1].sent, 10000u);
  EXPECT_EQ(kept[0].open, 100u);
  EXPECT_EQ(kept[1].open, 150u);  // the peak in the second group
  EXPECT_EQ(kept[1].round_trip.count, 50u);
  EXPECT_EQ(kept[1].round_trip.p99_ns, 12'000'000u);  // the worst second's p99
  EXPECT_EQ(kept[0].round_trip.p99_ns, 3'000'000u);
}

TEST(SeriesRead, ReadsBackWhatTheJsonSeriesCarries) {
  const auto j = nlohmann::json::parse(R"([
    {"t": 1.5, "open": 7, "opened": 7, "failures": 1, "sent": 70, "received": 69,
     "interval": {"seconds": 1.0, "round_trip": {"count": 69, "p50_ns": 10, "p95_ns": 20,
                                                  "p99_ns": 30, "max_ns": 40}}},
    {"t": "bad"}, 5])");
  const auto series = series_of_json(j);
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].t, 1.5);
  EXPECT_EQ(series[0].upgraded, 7u);
  EXPECT_EQ(series[0].round_trip.p95_ns, 20u);
  EXPECT_EQ(series[0].interval_seconds, 1.0);
  EXPECT_EQ(series[1].t, 0.0);
  EXPECT_TRUE(series_of_json(nlohmann::json("no")).empty());
}

}  // namespace
}  // namespace horde::app

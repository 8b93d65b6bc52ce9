#include "app/ramp_summary.hh"

#include <gtest/gtest.h>

namespace horde::app {
namespace {

series_point point(double t, uint64_t upgraded) {
  series_point p;
  p.t = t;
  p.upgraded = upgraded;
  p.open = upgraded;
  return p;
}

TEST(RampSummary, ASteadyRampKeepsThePaceToTheLastConnection) {
  std::vector<series_point> series;
  for (int t = 1; t <= 10; ++t)
    series.push_back(point(t, uint64_t(t) * 1000));
  series.push_back(point(11, 10000));
  const auto ramp = summarize_ramp(series, 10000, 1000, 12);
  ASSERT_TRUE(ramp);
  ASSERT_TRUE(ramp->seconds_to_open_all);
  EXPECT_DOUBLE_EQ(*ramp->seconds_to_open_all, 10);
  EXPECT_DOUBLE_EQ(ramp->overall_per_s, 1000);
  ASSERT_TRUE(ramp->last_tenth_per_s);
  EXPECT_DOUBLE_EQ(*ramp->last_tenth_per_s, 1000);  // 9,000 at 9 s, 10,000 at 10 s
  EXPECT_FALSE(ramp->behind());
}

TEST(RampSummary, ARampThatSlowsNearTheEndShowsInItsLastTenth) {
  // 1,000/s to 9,000, then 100/s: all open only at 19 s.
  std::vector<series_point> series;
  for (int t = 1; t <= 9; ++t)
    series.push_back(point(t, uint64_t(t) * 1000));
  for (int t = 10; t <= 19; ++t)
    series.push_back(point(t, 9000 + uint64_t(t - 9) * 100));
  const auto ramp = summarize_ramp(series, 10000, 1000, 30);
  ASSERT_TRUE(ramp);
  EXPECT_DOUBLE_EQ(*ramp->seconds_to_open_all, 19);
  ASSERT_TRUE(ramp->last_tenth_per_s);
  EXPECT_DOUBLE_EQ(*ramp->last_tenth_per_s, 100);
  EXPECT_TRUE(ramp->behind());
}

TEST(RampSummary, ARampCutByTheRunsEndCountsOnlyTheDuration) {
  // Planned 10,000 over a 5 s run: 5,000 open at its end; the close phase follows.
  std::vector<series_point> series;
  for (int t = 1; t <= 5; ++t)
    series.push_back(point(t, uint64_t(t) * 1000));
  series.push_back(point(6, 5000));
  series.push_back(point(7, 5000));
  const auto ramp = summarize_ramp(series, 10000, 2000, 5);
  ASSERT_TRUE(ramp);
  EXPECT_FALSE(ramp->seconds_to_open_all);
  EXPECT_EQ(ramp->opened, 5000u);
  EXPECT_DOUBLE_EQ(ramp->overall_per_s, 1000);
  EXPECT_TRUE(ramp->behind());
  EXPECT_FALSE(summarize_ramp({}, 10, 1, 1));
  // All open by the first point: no pace to read at a one-second resolution.
  EXPECT_FALSE(summarize_ramp({point(1, 2000), point(2, 2000)}, 2000, 100000, 2));
}

}  // namespace
}  // namespace horde::app

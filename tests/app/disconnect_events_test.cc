#include "app/disconnect_events.hh"

#include <gtest/gtest.h>

namespace horde::app {
namespace {

series_point point(double t, uint64_t open, uint64_t failures) {
  series_point p;
  p.t = t;
  p.open = open;
  p.failures = failures;
  return p;
}

TEST(DisconnectEvents, HalfTheClientsDroppedAtOnceIsOneEventWithItsRecovery) {
  const std::vector<series_point> series = {point(1, 1000, 0),  point(2, 1000, 3),
                                            point(3, 520, 503), point(4, 900, 505),
                                            point(5, 995, 506), point(6, 1000, 507)};
  const auto events = find_disconnect_events(series);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at_seconds, 3);
  EXPECT_EQ(events[0].open_before, 1000u);
  EXPECT_EQ(events[0].ended, 503u);  // over the storm, until it recovered
  EXPECT_EQ(events[0].lowest_open, 520u);
  ASSERT_TRUE(events[0].recovered_after_seconds);
  EXPECT_DOUBLE_EQ(*events[0].recovered_after_seconds, 3.0);  // from t=2 to t=5
}

TEST(DisconnectEvents, SteadyChurnIsNotAnEventAndANeverRecoveredDropSaysSo) {
  std::vector<series_point> churn;
  for (int t = 1; t <= 10; ++t)
    churn.push_back(point(t, 1000, uint64_t(t) * 20));  // 2% a second: a closing server
  EXPECT_TRUE(find_disconnect_events(churn).empty());

  const std::vector<series_point> lost = {point(1, 1000, 0), point(2, 100, 900),
                                          point(3, 100, 900)};
  const auto events = find_disconnect_events(lost);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].recovered_after_seconds);
  EXPECT_EQ(events[0].lowest_open, 100u);
}

}  // namespace
}  // namespace horde::app

#include "core/load_profile.hh"

#include <gtest/gtest.h>

namespace horde::core {
namespace {

constexpr uint64_t s = 1'000'000'000;

TEST(LoadProfile, RampHoldRampDownIsPiecewiseLinear) {
  const load_profile p(0, {{30 * s, 100'000}, {120 * s, 100'000}, {30 * s, 0}});
  EXPECT_EQ(p.total_ns(), 180 * s);
  EXPECT_DOUBLE_EQ(p.peak(), 100'000);
  EXPECT_DOUBLE_EQ(p.at(0), 0);
  EXPECT_DOUBLE_EQ(p.at(15 * s), 50'000);
  EXPECT_DOUBLE_EQ(p.at(30 * s), 100'000);
  EXPECT_DOUBLE_EQ(p.at(100 * s), 100'000);
  EXPECT_DOUBLE_EQ(p.at(165 * s), 50'000);
  EXPECT_DOUBLE_EQ(p.at(180 * s), 0);
  EXPECT_DOUBLE_EQ(p.at(500 * s), 0);  // past the end: the last value
}

TEST(LoadProfile, AStepIsAZeroLengthRampAndASpikeComesBack) {
  const load_profile p(100, {{0, 1000}, {5 * s, 1000}, {0, 100}, {10 * s, 100}});
  EXPECT_DOUBLE_EQ(p.at(0), 1000);
  EXPECT_DOUBLE_EQ(p.at(4 * s), 1000);
  EXPECT_DOUBLE_EQ(p.at(5 * s), 100);
  EXPECT_DOUBLE_EQ(p.at(12 * s), 100);
}

}  // namespace
}  // namespace horde::core

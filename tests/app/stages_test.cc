#include "app/stages.hh"

#include <gtest/gtest.h>

namespace horde::app {
namespace {

TEST(Stages, ConnectionsRampHoldAndComeDown) {
  auto p = parse_connection_stages("30s:100k,2m:100k,30s:0");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->total_ns(), 180'000'000'000ull);
  EXPECT_DOUBLE_EQ(p->peak(), 100'000);
  EXPECT_DOUBLE_EQ(p->at(15'000'000'000), 50'000);
}

TEST(Stages, RatesStartAtTheRunsRateAndMistakesAreNamed) {
  auto p = parse_rate_stages("5s:100/s,5s:10/s", 10);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_DOUBLE_EQ(p->at(0), 10);
  EXPECT_DOUBLE_EQ(p->at(5'000'000'000), 100);
  EXPECT_DOUBLE_EQ(p->peak(), 100);
  auto zero = parse_rate_stages("5s:0/s", 10);
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("above 0"), std::string::npos);
  auto bad = parse_connection_stages("30s-100");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("DURATION:VALUE"), std::string::npos);
  EXPECT_FALSE(parse_connection_stages("0s:10,0s:0"));
}

}  // namespace
}  // namespace horde::app

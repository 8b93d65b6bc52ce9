#include "core/group_assignment.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace horde::core {
namespace {

TEST(group_assignment, uniform_gives_every_group_an_equal_share) {
  group_layout layout;
  layout.groups = 7;
  layout.per_connection = 3;
  std::vector<uint64_t> count(layout.groups);
  std::vector<uint32_t> mine(3);
  for (uint64_t c = 0; c < 10; ++c) {
    groups_of_connection(c, layout, mine);
    std::set<uint32_t> distinct(mine.begin(), mine.end());
    EXPECT_EQ(distinct.size(), 3u) << c;
    for (uint32_t g : mine)
      ++count[g];
  }
  // 30 subscriptions over 7 groups: 4 or 5 each.
  for (uint64_t n : count) {
    EXPECT_GE(n, 4u);
    EXPECT_LE(n, 5u);
  }
}

TEST(group_assignment, three_million_subscriptions_cover_three_million_groups_once) {
  group_layout layout;
  layout.groups = 3'000'000;
  layout.per_connection = 30;
  std::vector<uint8_t> hit(layout.groups);
  std::vector<uint32_t> mine(30);
  for (uint64_t c = 0; c < 100'000; ++c) {
    groups_of_connection(c, layout, mine);
    for (uint32_t g : mine)
      ++hit[g];
  }
  EXPECT_TRUE(std::all_of(hit.begin(), hit.end(), [](uint8_t h) { return h == 1; }));
}

TEST(group_assignment, zipf_draws_distinct_groups_and_favours_the_first) {
  group_layout layout;
  layout.groups = 1000;
  layout.per_connection = 5;
  layout.spread = popularity::zipf;
  layout.zipf_exponent = 1.0;
  std::vector<uint64_t> count(layout.groups);
  std::vector<uint32_t> mine(5);
  for (uint64_t c = 0; c < 2000; ++c) {
    groups_of_connection(c, layout, mine);
    EXPECT_EQ(std::set<uint32_t>(mine.begin(), mine.end()).size(), 5u);
    for (uint32_t g : mine)
      ++count[g];
  }
  EXPECT_GT(count[0], count[10]);
  EXPECT_GT(count[10], count[500]);
  // Same connection, same groups: every shard computes the same answer.
  std::vector<uint32_t> again(5);
  groups_of_connection(1234, layout, mine);
  groups_of_connection(1234, layout, again);
  EXPECT_EQ(mine, again);
}

TEST(group_assignment, zipf_with_k_equal_to_g_takes_every_group) {
  group_layout layout;
  layout.groups = 20;
  layout.per_connection = 20;
  layout.spread = popularity::zipf;
  std::vector<uint32_t> mine(20);
  groups_of_connection(3, layout, mine);
  EXPECT_EQ(std::set<uint32_t>(mine.begin(), mine.end()).size(), 20u);
}

TEST(zipf_sampler, matches_the_distribution_within_sampling_error) {
  for (double s : {0.8, 1.0, 1.2}) {
    const uint64_t n = 100;
    zipf_sampler zipf(n, s);
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const int draws = 200'000;
    std::vector<int> count(n + 1);
    for (int i = 0; i < draws; ++i) {
      const uint64_t r = zipf.sample([&] { return u(rng); });
      ASSERT_GE(r, 1u);
      ASSERT_LE(r, n);
      ++count[r];
    }
    double norm = 0;
    for (uint64_t r = 1; r <= n; ++r)
      norm += std::pow(double(r), -s);
    for (uint64_t r : {1u, 2u, 10u, 50u}) {
      const double expected = draws * std::pow(double(r), -s) / norm;
      EXPECT_NEAR(count[r], expected, 5 * std::sqrt(expected) + 1) << "s=" << s << " r=" << r;
    }
  }
}

TEST(group_assignment, each_group_has_one_owner_among_the_publishers) {
  group_layout layout;
  layout.groups = 10;
  layout.publishers = 3;
  std::map<uint64_t, uint64_t> owner;
  uint64_t total = 0;
  for (uint64_t p = 0; p < 3; ++p) {
    total += groups_owned(p, layout);
    for (uint64_t m = 0; m < groups_owned(p, layout); ++m) {
      const uint64_t g = owned_group(p, m, layout);
      ASSERT_LT(g, layout.groups);
      EXPECT_EQ(owner_of_group(g, layout), p);
      EXPECT_FALSE(owner.count(g));
      owner[g] = p;
    }
  }
  EXPECT_EQ(total, 10u);
  layout.publishers = 20;  // more publishers than groups: the extra own none
  EXPECT_EQ(groups_owned(15, layout), 0u);
  EXPECT_EQ(groups_owned(9, layout), 1u);
}

}  // namespace
}  // namespace horde::core

#include "core/port_allocator.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace horde::core {
namespace {

using pair_key = std::pair<uint16_t, uint16_t>;  // (source_index, port), orderable

pair_key key(source_port p) {
  return {p.source_index, p.port};
}

// Acquires until the allocator runs dry and returns everything it handed out.
std::vector<source_port> drain(port_allocator& alloc) {
  std::vector<source_port> out;
  while (auto p = alloc.acquire())
    out.push_back(*p);
  return out;
}

TEST(port_allocator, capacity_is_sources_times_share_minus_excluded) {
  // Ports 10000..10099, shard 1 of 4: indices 1, 5, 9, ... -> 25 ports.
  // 10001 and 10005 are in the share; 10002 is not, and 20000 is out of range,
  // so only two ports come off, on every source address.
  const std::vector<uint16_t> excluded{10001, 10005, 10002, 20000};
  port_allocator alloc(3, 10000, 10099, 1, 4, excluded);
  EXPECT_EQ(alloc.capacity(), 3u * (25 - 2));
  EXPECT_EQ(alloc.in_use(), 0u);
  EXPECT_EQ(drain(alloc).size(), alloc.capacity());

  // The unsharded case, and a duplicate in the excluded list counts once.
  const std::vector<uint16_t> twice{500, 500};
  port_allocator whole(2, 500, 599, 0, 1, twice);
  EXPECT_EQ(whole.capacity(), 2u * 99);
}

TEST(port_allocator, range_reaching_the_top_port_and_port_zero) {
  // The top of the range must not wrap a 16-bit counter, and port 0 ("none")
  // must never be handed out.
  port_allocator top(1, 65530, 65535, 0, 1, {});
  EXPECT_EQ(top.capacity(), 6u);
  port_allocator bottom(1, 0, 3, 0, 1, {});
  EXPECT_EQ(bottom.capacity(), 3u);
  for (source_port p : drain(bottom))
    EXPECT_NE(p.port, 0);
}

TEST(port_allocator, two_shards_split_the_range_disjointly_and_completely) {
  // An odd-sized range so the shares differ in size.
  constexpr uint16_t low = 40000, high = 40010, sources = 3;
  port_allocator shard0(sources, low, high, 0, 2, {});
  port_allocator shard1(sources, low, high, 1, 2, {});
  std::set<pair_key> seen0, seen1;
  for (source_port p : drain(shard0))
    EXPECT_TRUE(seen0.insert(key(p)).second);
  for (source_port p : drain(shard1))
    EXPECT_TRUE(seen1.insert(key(p)).second);

  std::vector<pair_key> overlap;
  std::set_intersection(seen0.begin(), seen0.end(), seen1.begin(), seen1.end(),
                        std::back_inserter(overlap));
  EXPECT_TRUE(overlap.empty());

  std::set<pair_key> all = seen0;
  all.insert(seen1.begin(), seen1.end());
  std::set<pair_key> expected;
  for (uint32_t port = low; port <= high; ++port) {
    for (uint16_t s = 0; s < sources; ++s)
      expected.insert({s, uint16_t(port)});
  }
  EXPECT_EQ(all, expected);
  EXPECT_EQ(shard0.capacity() + shard1.capacity(), expected.size());
}

TEST(port_allocator, excluded_ports_are_never_handed_out) {
  const std::vector<uint16_t> excluded{30000, 30003, 30007, 30009};
  port_allocator alloc(2, 30000, 30009, 0, 1, excluded);
  // Several full cycles, so pairs that went round the FIFO are checked too.
  for (int round = 0; round < 3; ++round) {
    const std::vector<source_port> got = drain(alloc);
    EXPECT_EQ(got.size(), 2u * 6);
    for (source_port p : got) {
      EXPECT_EQ(std::count(excluded.begin(), excluded.end(), p.port), 0) << p.port;
      alloc.release(p);
    }
  }
}

TEST(port_allocator, acquire_until_empty_then_nullopt) {
  port_allocator alloc(2, 1000, 1004, 0, 1, {});
  const std::vector<source_port> got = drain(alloc);
  EXPECT_EQ(got.size(), 10u);
  EXPECT_EQ(alloc.in_use(), 10u);
  EXPECT_FALSE(alloc.acquire().has_value());
  EXPECT_FALSE(alloc.acquire().has_value());  // stays empty, no wrap into reuse
  EXPECT_EQ(alloc.in_use(), 10u);

  port_allocator empty(2, 1000, 1004, 3, 4, std::vector<uint16_t>{1003});
  EXPECT_EQ(empty.capacity(), 0u);
  EXPECT_FALSE(empty.acquire().has_value());
}

TEST(port_allocator, released_pair_rejoins_at_the_back_of_the_fifo) {
  port_allocator alloc(2, 2000, 2009, 0, 1, {});
  const size_t capacity = alloc.capacity();
  std::vector<source_port> held;
  for (int i = 0; i < 5; ++i)
    held.push_back(*alloc.acquire());
  const size_t free_before = capacity - held.size();

  // Release the first and third pairs: they come back only after every pair
  // that was already free, and in the order they were released.
  alloc.release(held[0]);
  alloc.release(held[2]);
  EXPECT_EQ(alloc.in_use(), 3u);
  std::vector<source_port> rest = drain(alloc);
  ASSERT_EQ(rest.size(), free_before + 2);
  std::set<pair_key> earlier;
  for (size_t i = 0; i < free_before; ++i) {
    EXPECT_NE(key(rest[i]), key(held[0])) << i;
    EXPECT_NE(key(rest[i]), key(held[2])) << i;
    EXPECT_TRUE(earlier.insert(key(rest[i])).second) << i;
  }
  EXPECT_EQ(key(rest[free_before]), key(held[0]));
  EXPECT_EQ(key(rest[free_before + 1]), key(held[2]));
  EXPECT_EQ(alloc.in_use(), capacity);

  // From empty, a release is immediately available again.
  alloc.release(held[4]);
  ASSERT_EQ(alloc.in_use(), capacity - 1);
  auto again = alloc.acquire();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(key(*again), key(held[4]));
}

TEST(port_allocator, in_use_tracks_acquire_and_release) {
  port_allocator alloc(1, 3000, 3007, 0, 1, {});
  std::vector<source_port> held;
  for (size_t i = 1; i <= alloc.capacity(); ++i) {
    held.push_back(*alloc.acquire());
    EXPECT_EQ(alloc.in_use(), i);
  }
  for (size_t i = held.size(); i > 0; --i) {
    alloc.release(held[i - 1]);
    EXPECT_EQ(alloc.in_use(), i - 1);
  }
  alloc.release(source_port{0, 0});  // "none" is not a pair: ignored
  EXPECT_EQ(alloc.in_use(), 0u);
}

TEST(port_allocator, consecutive_acquires_alternate_source_addresses) {
  // Port-major order spreads the first connections over every address.
  port_allocator alloc(3, 5000, 5009, 0, 1, {});
  for (uint16_t port = 5000; port < 5003; ++port) {
    for (uint16_t source = 0; source < 3; ++source) {
      auto p = alloc.acquire();
      ASSERT_TRUE(p.has_value());
      EXPECT_EQ(p->source_index, source);
      EXPECT_EQ(p->port, port);
    }
  }
}

TEST(port_allocator, double_release_when_full_is_ignored) {
  port_allocator alloc(2, 6000, 6004, 0, 1, {});
  const size_t capacity = alloc.capacity();
  const source_port p = *alloc.acquire();
  alloc.release(p);
  alloc.release(p);  // already free and the ring is full: must not duplicate it
  EXPECT_EQ(alloc.in_use(), 0u);
  EXPECT_EQ(alloc.capacity(), capacity);

  const std::vector<source_port> got = drain(alloc);
  EXPECT_EQ(got.size(), capacity);
  std::set<pair_key> unique;
  for (source_port q : got)
    unique.insert(key(q));
  EXPECT_EQ(unique.size(), capacity);
}

}  // namespace
}  // namespace horde::core

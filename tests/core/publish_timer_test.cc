#include "core/publish_timer.hh"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace horde::core {
namespace {

TEST(publish_timer, the_last_delivery_of_a_timed_publish_completes_it) {
  publish_timer timer;
  EXPECT_EQ(timer.start(7, 1, 3, 0), publish_timer::claim::started);
  EXPECT_FALSE(timer.count_down(7, 2, 1));  // another publish: not timed
  EXPECT_FALSE(timer.count_down(8, 1, 1));  // another group
  EXPECT_FALSE(timer.count_down(7, 1, 2));
  EXPECT_TRUE(timer.count_down(7, 1, 1));
  EXPECT_FALSE(timer.count_down(7, 1, 1));                            // complete already
  EXPECT_EQ(timer.start(7, 1, 1, 0), publish_timer::claim::started);  // its slot is free again
}

TEST(publish_timer, many_publishes_of_one_group_are_timed_at_once) {
  publish_timer timer;
  int started = 0;
  for (uint32_t seq = 1; seq <= 1000; ++seq)
    started += timer.start(3, seq, 2, 0) == publish_timer::claim::started;
  EXPECT_GT(started, 980);  // a few share a slot with an earlier one
  int completed = 0;
  for (uint32_t seq = 1; seq <= 1000; ++seq)
    completed += timer.count_down(3, seq, 2);
  EXPECT_EQ(completed, started);
}

TEST(publish_timer, a_publish_that_lost_a_delivery_is_given_up_by_time_not_count) {
  publish_timer timer;
  constexpr uint64_t ms = 1'000'000, t0 = 5'000 * ms;
  EXPECT_EQ(timer.start(1, 1, 2, t0), publish_timer::claim::started);
  EXPECT_EQ(timer.start(1, 1, 2, t0 + (publish_timer::stale_after_ms - 1) * ms),
            publish_timer::claim::busy);  // slow, not lost
  EXPECT_EQ(timer.start(1, 1, 2, t0 + publish_timer::stale_after_ms * ms),
            publish_timer::claim::replaced_stale);
  EXPECT_TRUE(timer.count_down(1, 1, 2));
}

TEST(publish_timer, concurrent_count_downs_complete_a_publish_exactly_once) {
  publish_timer timer;
  constexpr uint32_t per_thread = 10000;
  ASSERT_EQ(timer.start(0, 1, 4 * per_thread, 0), publish_timer::claim::started);
  std::atomic<int> completions{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (uint32_t n = 0; n < per_thread; ++n)
        if (timer.count_down(0, 1, 1)) completions.fetch_add(1);
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(completions.load(), 1);
}

}  // namespace
}  // namespace horde::core

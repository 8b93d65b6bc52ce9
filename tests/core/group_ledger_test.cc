#include "core/group_ledger.hh"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace horde::core {
namespace {

TEST(group_ledger, a_publish_expects_exactly_the_subscriptions_joined_before_it) {
  group_ledger ledger(4);
  EXPECT_EQ(ledger.join(2), 0u);  // nothing published yet
  EXPECT_EQ(ledger.join(2), 0u);
  auto first = ledger.publish(2);
  EXPECT_EQ(first.seq, 1u);
  EXPECT_EQ(first.subscribers, 2u);
  EXPECT_EQ(ledger.leave(2), 1u);  // publish 1 still counted it
  auto second = ledger.publish(2);
  EXPECT_EQ(second.seq, 2u);
  EXPECT_EQ(second.subscribers, 1u);
  EXPECT_EQ(ledger.join(2), 2u);  // owed from publish 3 on
  EXPECT_EQ(ledger.publish(2).subscribers, 2u);
  EXPECT_EQ(ledger.in_force(1), 0u);
  EXPECT_EQ(ledger.publish(1).seq, 1u);  // groups are independent
}

TEST(group_ledger, the_last_delivery_of_a_timed_publish_completes_it) {
  group_ledger ledger(1);
  auto t = ledger.publish(0);
  t.subscribers = 3;
  EXPECT_EQ(ledger.start_timing(0, t, 0), group_ledger::timing::started);
  EXPECT_FALSE(ledger.count_down(0, t.seq + 1, 1));  // another publish: ignored
  EXPECT_FALSE(ledger.count_down(0, t.seq, 2));
  auto next = ledger.publish(0);
  next.subscribers = 3;
  EXPECT_EQ(ledger.start_timing(0, next, 0), group_ledger::timing::busy);
  EXPECT_TRUE(ledger.count_down(0, t.seq, 1));
  EXPECT_FALSE(ledger.count_down(0, t.seq, 1));  // complete already
  EXPECT_EQ(ledger.start_timing(0, next, 0), group_ledger::timing::started);
}

TEST(group_ledger, a_publish_that_lost_a_delivery_is_replaced_once_stale) {
  group_ledger ledger(1);
  constexpr uint64_t ms = 1'000'000, t0 = 5'000 * ms;
  EXPECT_EQ(ledger.start_timing(0, {1, 2}, t0), group_ledger::timing::started);
  // Many publishes later but within the time: slow, not lost.
  EXPECT_EQ(ledger.start_timing(0, {500, 2}, t0 + (group_ledger::stale_after_ms - 1) * ms),
            group_ledger::timing::busy);
  EXPECT_EQ(ledger.start_timing(0, {501, 2}, t0 + group_ledger::stale_after_ms * ms),
            group_ledger::timing::replaced_stale);
  EXPECT_TRUE(ledger.count_down(0, 501, 2));
}

TEST(group_ledger, withdrawing_counts_down_only_the_timed_publish_in_range) {
  group_ledger ledger(1);
  EXPECT_EQ(ledger.start_timing(0, {5, 2}, 0), group_ledger::timing::started);
  ledger.withdraw(0, 6, 9);  // not among them
  EXPECT_FALSE(ledger.count_down(0, 5, 1));
  ledger.withdraw(0, 3, 5);
  EXPECT_EQ(ledger.start_timing(0, {6, 1}, 0), group_ledger::timing::started);  // 5 was complete
}

TEST(group_ledger, concurrent_count_downs_complete_a_publish_exactly_once) {
  group_ledger ledger(1);
  constexpr uint32_t per_thread = 10000;
  ASSERT_EQ(ledger.start_timing(0, {1, 4 * per_thread}, 0), group_ledger::timing::started);
  std::atomic<int> completions{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (uint32_t n = 0; n < per_thread; ++n)
        if (ledger.count_down(0, 1, 1)) completions.fetch_add(1);
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(completions.load(), 1);
}

}  // namespace
}  // namespace horde::core

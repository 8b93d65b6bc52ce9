#include "core/delivery_check.hh"

#include <gtest/gtest.h>

namespace horde::core {
namespace {

TEST(delivery_check, in_order_deliveries) {
  subscription_state s;
  EXPECT_FALSE(s.in_force());
  s.start();
  uint64_t skipped = 0;
  for (uint64_t seq = 1; seq <= 100; ++seq)
    EXPECT_EQ(s.record(seq, skipped), delivery_kind::in_order);
  EXPECT_EQ(s.next, 101u);
}

TEST(delivery_check, a_gap_then_the_missing_one_late_then_its_duplicate) {
  subscription_state s;
  s.start();
  uint64_t skipped = 0;
  EXPECT_EQ(s.record(1, skipped), delivery_kind::in_order);
  EXPECT_EQ(s.record(4, skipped), delivery_kind::after_gap);
  EXPECT_EQ(skipped, 2u);  // 2 and 3 missing
  EXPECT_EQ(s.record(3, skipped), delivery_kind::late);
  EXPECT_EQ(s.record(3, skipped), delivery_kind::duplicate);
  EXPECT_EQ(s.record(4, skipped), delivery_kind::duplicate);
  EXPECT_EQ(s.record(1, skipped), delivery_kind::duplicate);
  EXPECT_EQ(s.record(2, skipped), delivery_kind::late);
  EXPECT_EQ(s.record(5, skipped), delivery_kind::in_order);
}

TEST(delivery_check, an_immediate_duplicate) {
  subscription_state s;
  s.start();
  uint64_t skipped = 0;
  EXPECT_EQ(s.record(1, skipped), delivery_kind::in_order);
  EXPECT_EQ(s.record(1, skipped), delivery_kind::duplicate);
  EXPECT_EQ(s.record(2, skipped), delivery_kind::in_order);
}

TEST(delivery_check, a_jump_past_the_window_forgets_what_it_cannot_hold) {
  subscription_state s;
  s.start();
  uint64_t skipped = 0;
  EXPECT_EQ(s.record(1, skipped), delivery_kind::in_order);
  EXPECT_EQ(s.record(200, skipped), delivery_kind::after_gap);
  EXPECT_EQ(skipped, 198u);
  EXPECT_EQ(s.record(199, skipped), delivery_kind::late);       // inside the window
  EXPECT_EQ(s.record(100, skipped), delivery_kind::duplicate);  // too old to tell
  EXPECT_EQ(s.record(169, skipped), delivery_kind::late);       // exactly 31 back
  EXPECT_EQ(s.record(168, skipped), delivery_kind::duplicate);  // 32 back: outside
}

TEST(delivery_check, numbers_published_before_the_join_are_not_owed) {
  subscription_state s;
  s.start(41);  // joined after number 41 was published
  uint64_t skipped = 0;
  EXPECT_EQ(s.record(40, skipped), delivery_kind::before_join);
  EXPECT_EQ(s.record(41, skipped), delivery_kind::before_join);
  EXPECT_EQ(s.record(42, skipped), delivery_kind::in_order);
  EXPECT_EQ(s.record(41, skipped), delivery_kind::before_join);  // still not a duplicate
  EXPECT_EQ(s.record(42, skipped), delivery_kind::duplicate);
}

TEST(delivery_check, a_leave_takes_back_what_was_owed_after_the_last_delivery) {
  subscription_state s;
  s.start(10);
  uint64_t skipped = 0;
  EXPECT_EQ(s.owed_after_last_delivery(10), 0u);  // nothing published while in force
  EXPECT_EQ(s.owed_after_last_delivery(13), 3u);  // 11..13, none arrived
  EXPECT_EQ(s.record(11, skipped), delivery_kind::in_order);
  EXPECT_EQ(s.owed_after_last_delivery(13), 2u);
  EXPECT_EQ(s.record(13, skipped), delivery_kind::after_gap);  // 12 missing: lost, not taken back
  EXPECT_EQ(s.owed_after_last_delivery(13), 0u);
}

}  // namespace
}  // namespace horde::core

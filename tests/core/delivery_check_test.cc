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
  EXPECT_EQ(s.record(137, skipped), delivery_kind::late);       // exactly 63 back
  EXPECT_EQ(s.record(136, skipped), delivery_kind::duplicate);  // 64 back: outside
}

}  // namespace
}  // namespace horde::core

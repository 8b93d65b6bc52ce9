#include "core/group_ledger.hh"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace horde::core

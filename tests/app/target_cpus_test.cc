#include "app/target_cpus.hh"

#include <gtest/gtest.h>

namespace horde::app {
namespace {

local_target target_on(std::vector<int> cpus) {
  return local_target{4321, "uws-server", std::move(cpus)};
}

TEST(TargetCpus, APinnedTargetKeepsItsCpus) {
  auto choice = choose_target_cpus({0, 1, 2, 3}, target_on({2, 3}), false);
  ASSERT_TRUE(choice.cpus);
  EXPECT_EQ(*choice.cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(choice.leave_for_target, 0u);
  EXPECT_NE(choice.note.find("pinned to CPUs 2,3"), std::string::npos) << choice.note;
  EXPECT_NE(choice.note.find("pid 4321"), std::string::npos);
}

TEST(TargetCpus, AnUnpinnedTargetGetsHalf) {
  auto choice = choose_target_cpus({0, 1}, target_on({0, 1}), false);
  EXPECT_FALSE(choice.cpus);
  EXPECT_EQ(choice.leave_for_target, 1u);
  EXPECT_NE(choice.note.find("1 of 2 CPUs left"), std::string::npos) << choice.note;
  EXPECT_EQ(choose_target_cpus({0, 1, 2, 3, 4, 5, 6, 7}, target_on({0, 1, 2, 3, 4, 5, 6, 7}), false)
                .leave_for_target,
            4u);
}

TEST(TargetCpus, TheUserAlwaysWins) {
  auto choice = choose_target_cpus({0, 1}, target_on({0, 1}), true);
  EXPECT_FALSE(choice.cpus);
  EXPECT_EQ(choice.leave_for_target, 0u);
  EXPECT_TRUE(choice.note.empty());
}

TEST(TargetCpus, NothingToDoWithoutALocalTargetOrAnOverlap) {
  EXPECT_TRUE(choose_target_cpus({0, 1}, std::nullopt, false).note.empty());
  // Pinned to CPUs horde does not use: already apart.
  auto apart = choose_target_cpus({0, 1}, target_on({2, 3}), false);
  EXPECT_FALSE(apart.cpus);
  EXPECT_EQ(apart.leave_for_target, 0u);
  // One CPU: nothing to leave, but say so.
  auto one = choose_target_cpus({0}, target_on({0}), false);
  EXPECT_EQ(one.leave_for_target, 0u);
  EXPECT_NE(one.note.find("only CPU"), std::string::npos);
}

}  // namespace
}  // namespace horde::app

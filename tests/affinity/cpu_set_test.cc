#include "affinity/cpu_set.hh"

#include <gtest/gtest.h>

namespace horde::affinity {
namespace {

TEST(CpuSet, ParsesKernelCpuLists) {
  EXPECT_EQ(*parse_cpu_list("0"), (std::vector<int>{0}));
  EXPECT_EQ(*parse_cpu_list("0-3,6,8-9"), (std::vector<int>{0, 1, 2, 3, 6, 8, 9}));
  EXPECT_EQ(*parse_cpu_list("2-2"), (std::vector<int>{2}));
}

TEST(CpuSet, RejectsMalformedLists) {
  for (const char* bad : {"", "a", "3-1", "1-", "-1", "1,,2", "0-99999", "1x"}) {
    EXPECT_FALSE(parse_cpu_list(bad)) << bad;
  }
}

TEST(CpuSet, AllowedCpusArePinnable) {
  auto cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(pin_current_thread(cpus.front()));
  if (cpus.back() < 1023) {
    EXPECT_FALSE(pin_current_thread(1023));  // not in this machine's set
  }
}

}  // namespace
}  // namespace horde::affinity

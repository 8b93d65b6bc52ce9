#include "sysctl/host_stats.hh"

#include <gtest/gtest.h>

#include "tests/sysctl/fake_root.hh"

namespace horde::sysctl {
namespace {

using testing_support::fake_root;

TEST(HostCpu, ReadsTheAllCpuLine) {
  const auto ticks = parse_host_cpu(
      "cpu  1053793 7 313230 1503667 293634 0 58288 3070 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
  ASSERT_TRUE(ticks);
  EXPECT_EQ(ticks->user, 1053800u);
  EXPECT_EQ(ticks->system, 313230u);
  EXPECT_EQ(ticks->softirq, 58288u);
  EXPECT_EQ(ticks->total, 1053793u + 7 + 313230 + 1503667 + 293634 + 58288 + 3070);
  EXPECT_FALSE(parse_host_cpu("cpu0 1 2 3 4\n"));
  EXPECT_FALSE(parse_host_cpu("cpu 1 2\n"));
  EXPECT_FALSE(parse_host_cpu("cpu 1 2 x 4\n"));
}

TEST(HostCpu, SharesBetweenTwoReadings) {
  const host_cpu_ticks before{100, 50, 10, 1000};
  const host_cpu_ticks after{150, 75, 20, 1200};
  const auto shares = shares_between(before, after);
  EXPECT_DOUBLE_EQ(shares.user, 0.25);
  EXPECT_DOUBLE_EQ(shares.system, 0.125);
  EXPECT_DOUBLE_EQ(shares.softirq, 0.05);
  const auto none = shares_between(after, after);
  EXPECT_EQ(none.user, 0);
}

TEST(InterfaceBytes, FindsLoopback) {
  const char* dev =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo: 64849075765 192762297    0 9375    0     0          0         0 64849075764 "
      "192762297    0    0    0     0       0          0\n"
      "  eth0: 215408380    5009    0    0    0     0          0         0   271818    3108    "
      "0    0    0     0       0          0\n";
  const auto lo = parse_interface_bytes(dev, "lo");
  ASSERT_TRUE(lo);
  EXPECT_EQ(lo->received, 64849075765u);
  EXPECT_EQ(lo->sent, 64849075764u);
  EXPECT_EQ(parse_interface_bytes(dev, "eth0")->sent, 271818u);
  EXPECT_FALSE(parse_interface_bytes(dev, "eth1"));
  EXPECT_FALSE(parse_interface_bytes("lo: 1 2 3\n", "lo"));
}

TEST(HostSample, UnderRoot) {
  fake_root root;
  root.write("proc/stat", "cpu  10 0 5 80 5 0 0 0 0 0\n");
  root.write("proc/meminfo", "MemTotal: 2048 kB\nMemAvailable:    1024 kB\n");
  root.write("proc/net/dev", "h\nh\n lo: 5 0 0 0 0 0 0 0 6 0 0 0 0 0 0 0\n");
  const auto sample = read_host_sample(root.path());
  ASSERT_TRUE(sample.cpu);
  EXPECT_EQ(sample.cpu->total, 100u);
  EXPECT_EQ(sample.memory_available_bytes, 1024u * 1024);
  ASSERT_TRUE(sample.loopback);
  EXPECT_EQ(sample.loopback->received, 5u);
  fake_root empty;
  const auto none = read_host_sample(empty.path());
  EXPECT_FALSE(none.cpu);
  EXPECT_FALSE(none.memory_available_bytes);
  EXPECT_FALSE(none.loopback);
}

}  // namespace
}  // namespace horde::sysctl

#include "sysctl/process_stats.hh"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/sysctl/fake_root.hh"

namespace horde::sysctl {
namespace {

using testing_support::fake_root;

// A real line (bash on this VM) with utime 1, stime 1, 1 thread, 1003 pages.
constexpr const char* bash_stat =
    "27954 (bash) S 27953 27954 27954 0 -1 4194560 3338 47859 0 4 1 1 32 6 20 0 1 0 1622334 "
    "5124096 1003 18446744073709551615 94654270062592 94654270851997 140723920266384 0 0 0 65536 "
    "4 1132560123 1 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessStat, ReadsCpuThreadsAndRss) {
  const auto stat = parse_process_stat(bash_stat);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->utime_ticks, 1u);
  EXPECT_EQ(stat->stime_ticks, 1u);
  EXPECT_EQ(stat->threads, 1u);
  EXPECT_EQ(stat->rss_pages, 1003u);
}

TEST(ProcessStat, CommandWithSpacesAndParentheses) {
  const auto stat = parse_process_stat(
      "7 (my (odd) server) R 1 7 7 0 -1 0 0 0 0 0 250 75 0 0 20 0 12 0 100 1000 4096 0\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->utime_ticks, 250u);
  EXPECT_EQ(stat->stime_ticks, 75u);
  EXPECT_EQ(stat->threads, 12u);
  EXPECT_EQ(stat->rss_pages, 4096u);
}

TEST(ProcessStat, RefusesTruncatedOrBadFields) {
  EXPECT_FALSE(parse_process_stat(""));
  EXPECT_FALSE(parse_process_stat("7 (x) R 1 7 7 0 -1 0 0 0 0 0 250"));
  EXPECT_FALSE(parse_process_stat("7 (x) R 1 7 7 0 -1 0 0 0 0 0 2x0 75 0 0 20 0 12 0 1 1 9 0"));
  EXPECT_FALSE(parse_process_stat("7 (x) R 1 7 7 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 -5 0"));
  // Every prefix of a good line is refused or read the same, never past its end.
  const std::string line = bash_stat;
  for (size_t n = 0; n < line.size(); ++n) {
    const auto stat = parse_process_stat(std::string_view(line).substr(0, n));
    if (stat) {
      EXPECT_EQ(stat->rss_pages, 1003u) << n;
    }
  }
}

TEST(StatusValue, FindsKeysInKiB) {
  const std::string status = "Name:\tsrv\nVmRSS:\t   51200 kB\nThreads:\t8\n";
  EXPECT_EQ(status_value(status, "VmRSS"), 51200u);
  EXPECT_EQ(status_value(status, "Threads"), 8u);
  EXPECT_FALSE(status_value(status, "VmHWM"));
  EXPECT_FALSE(status_value(status, "Vm"));
}

TEST(ProcessSample, ReadsUnderRootAndCountsFds) {
  fake_root root;
  root.write("proc/42/stat",
             "42 (srv) S 1 42 42 0 -1 0 0 0 0 0 300 100 0 0 20 0 4 0 100 1000 2560 0\n");
  for (int fd = 0; fd < 5; ++fd)
    root.write("proc/42/fd/" + std::to_string(fd), "");
  const auto sample = read_process_sample(root.path(), 42, 100, 4096);
  ASSERT_TRUE(sample);
  EXPECT_EQ(sample->rss_bytes, 2560u * 4096);
  EXPECT_DOUBLE_EQ(sample->cpu_user_seconds, 3.0);
  EXPECT_DOUBLE_EQ(sample->cpu_system_seconds, 1.0);
  EXPECT_EQ(sample->threads, 4u);
  const auto fds = count_process_fds(root.path(), 42);
  ASSERT_TRUE(fds);
  EXPECT_EQ(fds->fds, 5u);
  EXPECT_TRUE(fds->walked);
  EXPECT_FALSE(read_process_sample(root.path(), 43, 100, 4096));
  EXPECT_FALSE(count_process_fds(root.path(), 43));
}

TEST(ProcessSample, ThisProcess) {
  const auto sample = read_process_sample("/", int(getpid()), uint64_t(sysconf(_SC_CLK_TCK)),
                                          uint64_t(sysconf(_SC_PAGESIZE)));
  ASSERT_TRUE(sample);
  EXPECT_GT(sample->rss_bytes, 0u);
  EXPECT_GE(sample->threads, 1u);
  const auto fds = count_process_fds("/", int(getpid()));
  ASSERT_TRUE(fds);
  EXPECT_GE(fds->fds, 3u);
}

TEST(CgroupSample, ReadsTheThreeFiles) {
  fake_root root;
  root.write("cg/memory.current", "104857600\n");
  root.write("cg/cpu.stat",
             "usage_usec 3500000\nuser_usec 2500000\nsystem_usec 1000000\nnr_periods 0\n");
  root.write("cg/pids.current", "17\n");
  const auto sample = read_cgroup_sample(root.path() + "/cg");
  ASSERT_TRUE(sample);
  EXPECT_EQ(sample->memory_bytes, 104857600u);
  EXPECT_DOUBLE_EQ(sample->cpu_user_seconds, 2.5);
  EXPECT_DOUBLE_EQ(sample->cpu_system_seconds, 1.0);
  EXPECT_EQ(sample->pids, 17u);
  EXPECT_FALSE(read_cgroup_sample(root.path() + "/none"));
}

TEST(CgroupSample, MissingControllerLeavesZero) {
  fake_root root;
  root.write("cg/memory.current", "4096\n");
  const auto sample = read_cgroup_sample(root.path() + "/cg");
  ASSERT_TRUE(sample);
  EXPECT_EQ(sample->memory_bytes, 4096u);
  EXPECT_EQ(sample->pids, 0u);
}

}  // namespace
}  // namespace horde::sysctl

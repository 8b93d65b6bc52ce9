// `horde tune` and the preflight of `horde run`, as a user meets them: the
// real binary reading this machine's real limits.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/support/process_run.hh"

namespace horde {
namespace {

const std::string horde_binary = HORDE_BINARY;

std::string sysctl_value(const std::string& proc_sys_path) {
  std::ifstream in("/proc/sys/" + proc_sys_path);
  std::string value, word;
  while (in >> word)
    value += (value.empty() ? "" : " ") + word;
  return value;
}

std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

TEST(HordeTune, ReportsThisMachinesRealValues) {
  const std::string range = sysctl_value("net/ipv4/ip_local_port_range");
  const std::string somaxconn = sysctl_value("net/core/somaxconn");
  if (range.empty() || somaxconn.empty()) GTEST_SKIP() << "/proc/sys is not readable here";
  auto run = test::run_process({horde_binary, "tune", "-c", "1000", "--ports", ""}, 20000);
  ASSERT_FALSE(run.timed_out);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  const size_t space = range.find(' ');
  const std::string dashed = range.substr(0, space) + "-" + range.substr(space + 1);
  EXPECT_NE(run.out.find(dashed), std::string::npos) << "port range " << dashed << "\n" << run.out;
  EXPECT_NE(run.out.find("net.core.somaxconn"), std::string::npos);
  EXPECT_NE(run.out.find(grouped(std::stoull(somaxconn))), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("RLIMIT_NOFILE"), std::string::npos);
}

TEST(HordeTune, AnImpossiblePlanNamesTheKnobAndTheFix) {
  // One source address has at most 64,510 ports: ten million connections cannot fit.
  auto run = test::run_process({horde_binary, "tune", "-c", "10M", "--sources", "1"}, 20000);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("FAIL"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("fix:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("does NOT fit"), std::string::npos) << run.out;
}

TEST(HordeTune, WritesASysctlConfWithoutChangingAnything) {
  const std::string path = testing::TempDir() + "/horde_tune_" + std::to_string(getpid()) + ".conf";
  const std::string before = sysctl_value("net/ipv4/tcp_max_orphans");
  auto run = test::run_process(
      // 10M: past what a host tuned for a million (as horde's users run it)
      // already has, so the file always has lines to write.
      {horde_binary, "tune", "-c", "10M", "--sources", "200", "--write-sysctl-conf", path}, 20000);
  EXPECT_NE(run.exit_code, 2) << run.err;
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("net.ipv4.tcp_max_orphans"), std::string::npos) << text;
  EXPECT_EQ(sysctl_value("net/ipv4/tcp_max_orphans"), before)
      << "tune without --apply changed the host";
  std::remove(path.c_str());
}

TEST(HordeRunPreflight, RefusesAPlanTheHostCannotCarryAndSaysHowToFixIt) {
  // Ten million loopback connections: kernel socket memory alone (2 x 4.3 KB
  // each) is far beyond what any CI machine has available.
  auto run =
      test::run_process({horde_binary, "run", "-c", "10M", "--duration", "1s", "--quiet"}, 30000);
  EXPECT_EQ(run.exit_code, 3) << run.out << run.err;  // the run would not be valid
  EXPECT_NE(run.err.find("cannot run on this host"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("fix:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--force"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace horde

// apply_fixes on fake trees: it raises, never lowers, reports what it could
// not do, and touches nothing outside the tree (no setrlimit for a fake root).
#include "sysctl/apply_fixes.hh"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "tests/sysctl/fake_root.hh"

namespace horde::sysctl {
namespace {

using testing_support::fake_root;

struct vm_plan {
  kernel_limits limits;
  std::vector<check_line> lines;
};

// 100k connections from 3 addresses on the small VM: ports fail, the SYN
// backlog and orphan caps warn, descriptors adapt.
vm_plan plan_on(const fake_root& root) {
  auto limits = read_kernel_limits(root.path());
  EXPECT_TRUE(limits) << limits.error().message;
  plan_needs needs;
  needs.connections = 100000;
  needs.source_addresses = 3;
  needs.cpus = 2;
  vm_plan plan{limits ? *limits : kernel_limits{}, {}};
  plan.lines = plan_checks(needs, plan.limits);
  return plan;
}

bool has_entry(const std::vector<std::string>& entries, const std::string& text) {
  for (const std::string& entry : entries) {
    if (entry.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& entries) {
  std::string text;
  for (const std::string& entry : entries)
    text += entry + "\n";
  return text;
}

TEST(ApplyFixes, RaisesWhatThePlanNeedsInTheFakeTree) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  const vm_plan plan = plan_on(root);
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);

  const apply_outcome outcome = apply_fixes(plan.lines, plan.limits, root.path());
  EXPECT_TRUE(outcome.failed.empty()) << joined(outcome.failed);
  EXPECT_TRUE(has_entry(outcome.applied, "net.ipv4.ip_local_port_range: 32768 60999 -> 1025 65535"))
      << joined(outcome.applied);
  EXPECT_TRUE(has_entry(outcome.applied, "net.ipv4.tcp_max_syn_backlog: 2048 -> 4096"))
      << joined(outcome.applied);
  EXPECT_TRUE(has_entry(outcome.applied, "net.ipv4.tcp_max_orphans: 131072 -> 262144"))
      << joined(outcome.applied);
  EXPECT_EQ(root.read("proc/sys/net/ipv4/ip_local_port_range"), "1025 65535\n");
  EXPECT_EQ(root.read("proc/sys/net/ipv4/tcp_max_syn_backlog"), "4096\n");
  // Knobs that were enough are untouched.
  EXPECT_EQ(root.read("proc/sys/net/core/somaxconn"), "4096\n");
  EXPECT_EQ(root.read("proc/sys/net/ipv4/tcp_max_tw_buckets"), "131072\n");
  // Descriptor limits are per process: reported with their fix, not applied.
  EXPECT_TRUE(has_entry(outcome.skipped, "RLIMIT_NOFILE: per process")) << joined(outcome.skipped);

  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_cur);  // a fake root never reaches setrlimit
  EXPECT_EQ(after.rlim_max, before.rlim_max);

  // Applied, the tree now reads as a plan that fits on ports.
  const vm_plan again = plan_on(root);
  EXPECT_EQ(again.lines[0].verdict, verdict::ok) << again.lines[0].current;
}

TEST(ApplyFixes, NeverLowersALargerValue) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  const vm_plan plan = plan_on(root);
  // Someone widened the range and raised the backlog after the plan was made.
  root.sysctl("net/ipv4/ip_local_port_range", "1024\t65535");
  root.sysctl("net/ipv4/tcp_max_syn_backlog", "8192");
  root.sysctl("net/ipv4/tcp_max_orphans", "200000");

  const apply_outcome outcome = apply_fixes(plan.lines, plan.limits, root.path());
  EXPECT_EQ(root.read("proc/sys/net/ipv4/ip_local_port_range"), "1024\t65535\n");
  EXPECT_EQ(root.read("proc/sys/net/ipv4/tcp_max_syn_backlog"), "8192\n");
  EXPECT_TRUE(has_entry(outcome.skipped, "net.ipv4.ip_local_port_range: already 1024 65535"))
      << joined(outcome.skipped);
  EXPECT_TRUE(has_entry(outcome.skipped, "net.ipv4.tcp_max_syn_backlog: already 8192"))
      << joined(outcome.skipped);
  // A partly larger value only grows where it was short.
  EXPECT_TRUE(has_entry(outcome.applied, "net.ipv4.tcp_max_orphans: 200000 -> 262144"))
      << joined(outcome.applied);
}

// `horde tune --apply` for the ramp that dropped 7,775 packets at 1,000.
TEST(ApplyFixes, RaisesTheBacklogAConnectRampNeeds) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  auto limits = read_kernel_limits(root.path());
  ASSERT_TRUE(limits);
  plan_needs needs;
  needs.connections = 100000;
  needs.source_addresses = 4;
  needs.cpus = 2;
  needs.connect_rate = 30000;
  const auto lines = plan_checks(needs, *limits);
  const apply_outcome outcome = apply_fixes(lines, *limits, root.path());
  EXPECT_TRUE(has_entry(outcome.applied, "net.core.netdev_max_backlog: 1000 -> 16384"))
      << joined(outcome.applied);
  EXPECT_EQ(root.read("proc/sys/net/core/netdev_max_backlog"), "16384\n");

  // Applied, the plan reads ok; a larger value is never lowered.
  auto after = read_kernel_limits(root.path());
  ASSERT_TRUE(after);
  for (const check_line& line : plan_checks(needs, *after)) {
    if (line.knob == "net.core.netdev_max_backlog") {
      EXPECT_EQ(line.verdict, verdict::ok);
    }
  }
  root.sysctl("net/core/netdev_max_backlog", "65536");
  const apply_outcome again = apply_fixes(lines, *limits, root.path());
  EXPECT_EQ(root.read("proc/sys/net/core/netdev_max_backlog"), "65536\n");
  EXPECT_TRUE(has_entry(again.skipped, "net.core.netdev_max_backlog: already 65536"))
      << joined(again.skipped);
}

TEST(ApplyFixes, WidensOnlyTheShortEndOfARange) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  const vm_plan plan = plan_on(root);
  root.sysctl("net/ipv4/ip_local_port_range", "10000 60999");
  const apply_outcome outcome = apply_fixes(plan.lines, plan.limits, root.path());
  EXPECT_EQ(root.read("proc/sys/net/ipv4/ip_local_port_range"), "1025 65535\n");
  EXPECT_TRUE(has_entry(outcome.applied, "10000 60999 -> 1025 65535")) << joined(outcome.applied);

  root.sysctl("net/ipv4/ip_local_port_range", "1025 61000");
  check_line narrower = plan.lines[0];
  narrower.raise_to = "2000 65000";
  apply_fixes({narrower}, plan.limits, root.path());
  EXPECT_EQ(root.read("proc/sys/net/ipv4/ip_local_port_range"), "1025 65000\n");
}

TEST(ApplyFixes, TwReuseOneCoversMoreThanTwo) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  auto limits = read_kernel_limits(root.path());
  ASSERT_TRUE(limits);
  plan_needs needs;
  needs.connections = 1000;
  needs.target_on_this_host = false;
  const auto lines = plan_checks(needs, *limits);
  apply_fixes(lines, *limits, root.path());
  EXPECT_EQ(root.read("proc/sys/net/ipv4/tcp_tw_reuse"), "1\n");

  // A value it does not know is left alone.
  root.sysctl("net/ipv4/tcp_tw_reuse", "7");
  const apply_outcome outcome = apply_fixes(lines, *limits, root.path());
  EXPECT_EQ(root.read("proc/sys/net/ipv4/tcp_tw_reuse"), "7\n");
  EXPECT_TRUE(has_entry(outcome.skipped, "net.ipv4.tcp_tw_reuse: already 7"))
      << joined(outcome.skipped);
}

TEST(ApplyFixes, ReportsWhatItCouldNotDo) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  kernel_limits limits = *read_kernel_limits(root.path());
  limits.thp_mode = "always";
  limits.mem_available = uint64_t(1) << 30;
  plan_needs needs;
  needs.connections = 100000;
  needs.source_addresses = 4;
  needs.cpus = 2;
  const auto lines = plan_checks(needs, limits);
  root.remove("proc/sys/net/ipv4/tcp_max_syn_backlog");  // gone: a write must not create it

  const apply_outcome outcome = apply_fixes(lines, limits, root.path());
  EXPECT_TRUE(has_entry(outcome.failed, "net.ipv4.tcp_max_syn_backlog: cannot read"))
      << joined(outcome.failed);
  EXPECT_EQ(root.read("proc/sys/net/ipv4/tcp_max_syn_backlog"), "");
  EXPECT_TRUE(has_entry(outcome.skipped, "transparent_hugepage: not a sysctl raise: echo madvise"))
      << joined(outcome.skipped);
  EXPECT_TRUE(has_entry(outcome.skipped, "MemAvailable: not a sysctl raise"))
      << joined(outcome.skipped);
  // THP is a host-wide policy: apply leaves it to a person.
  EXPECT_EQ(root.read("sys/kernel/mm/transparent_hugepage/enabled"), "always [madvise] never\n");
}

}  // namespace
}  // namespace horde::sysctl

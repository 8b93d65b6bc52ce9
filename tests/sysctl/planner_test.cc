// The planner's arithmetic against hand-computed cases, on the machines of
// fake_root.hh: ports x sources x targets, descriptor tables and shards,
// kernel memory, queues, TIME_WAIT, conntrack, THP.
#include "sysctl/planner.hh"

#include <gtest/gtest.h>

#include "tests/sysctl/fake_root.hh"

namespace horde::sysctl {
namespace {

using testing_support::fake_root;

kernel_limits small_vm() {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  auto limits = read_kernel_limits(root.path());
  EXPECT_TRUE(limits) << limits.error().message;
  return limits ? *limits : kernel_limits{};
}

kernel_limits tuned_box() {
  fake_root root;
  testing_support::lay_out_tuned_box(root);
  auto limits = read_kernel_limits(root.path());
  EXPECT_TRUE(limits) << limits.error().message;
  return limits ? *limits : kernel_limits{};
}

plan_needs hundred_thousand(uint32_t sources) {
  plan_needs needs;
  needs.connections = 100000;
  needs.source_addresses = sources;
  needs.cpus = 2;
  return needs;
}

const check_line& line_for(const std::vector<check_line>& lines, const std::string& knob) {
  for (const check_line& line : lines) {
    if (line.knob == knob) return line;
  }
  ADD_FAILURE() << "no line for " << knob;
  static const check_line none;
  return none;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Planner, ThreeAddressesOverTheDefaultRangeDoNotFit) {
  const kernel_limits vm = small_vm();
  const plan_needs needs = hundred_thousand(3);
  const plan_sizing size = size_plan(needs, vm);
  EXPECT_EQ(size.ports_per_pair, 28232u);       // 60999 - 32768 + 1
  EXPECT_EQ(size.port_capacity, 84696u);        // 3 x 28,232
  EXPECT_EQ(size.source_addresses_needed, 4u);  // ceil(100,000 / 28,232)

  const auto lines = plan_checks(needs, vm);
  const check_line& ports = line_for(lines, "net.ipv4.ip_local_port_range");
  EXPECT_EQ(ports.verdict, verdict::fail);
  EXPECT_TRUE(contains(ports.current, "84,696")) << ports.current;
  EXPECT_EQ(ports.needed, "100,000");
  EXPECT_TRUE(contains(ports.formula, "(60999 - 32768 + 1 - 0 reserved - 0 excluded) x 3 sources"))
      << ports.formula;
  EXPECT_TRUE(contains(ports.fix, "--source-ips with 4 addresses (e.g. 127.0.0.1-127.0.0.4)"))
      << ports.fix;
  EXPECT_TRUE(contains(ports.fix, "sysctl -w net.ipv4.ip_local_port_range=\"1025 65535\""))
      << ports.fix;
  EXPECT_TRUE(contains(ports.fix, "64,511 ports: 2 addresses")) << ports.fix;
  EXPECT_EQ(ports.raise_to, "1025 65535");
  EXPECT_FALSE(plan_fits(lines));
}

TEST(Planner, FourAddressesFit) {
  const kernel_limits vm = small_vm();
  const auto lines = plan_checks(hundred_thousand(4), vm);
  const check_line& ports = line_for(lines, "net.ipv4.ip_local_port_range");
  EXPECT_EQ(ports.verdict, verdict::ok);
  EXPECT_TRUE(contains(ports.current, "112,928")) << ports.current;
  EXPECT_TRUE(ports.fix.empty());
  EXPECT_TRUE(plan_fits(lines));
}

TEST(Planner, ReservedAndExcludedPortsCountOnlyInsideTheRange) {
  kernel_limits vm = small_vm();
  vm.reserved_ports = {{9000, 9000}, {40000, 40009}};
  plan_needs needs = hundred_thousand(1);
  needs.excluded_ports = {9000};  // the target listens outside the kernel range
  plan_sizing size = size_plan(needs, vm);
  EXPECT_TRUE(size.port_range_is_kernel);
  EXPECT_EQ(size.reserved_in_range, 10u);
  EXPECT_EQ(size.excluded_in_range, 0u);
  EXPECT_EQ(size.ports_per_pair, 28222u);

  // horde's own range 1025-65535 holds 9000: reserved and excluded, counted once.
  needs.port_low = 1025;
  needs.port_high = 65535;
  size = size_plan(needs, vm);
  EXPECT_FALSE(size.port_range_is_kernel);
  EXPECT_EQ(size.reserved_in_range, 11u);
  EXPECT_EQ(size.excluded_in_range, 0u);
  EXPECT_EQ(size.ports_per_pair, 64511u - 11);

  vm.reserved_ports.clear();
  size = size_plan(needs, vm);
  EXPECT_EQ(size.excluded_in_range, 1u);
  EXPECT_EQ(size.ports_per_pair, 64510u);
  const check_line ports = plan_checks(needs, vm)[0];
  EXPECT_EQ(ports.knob, "--ports");
  EXPECT_EQ(ports.verdict, verdict::fail);  // 64,510 < 100,000 from one address
  EXPECT_TRUE(contains(ports.fix, "--source-ips with 2 addresses")) << ports.fix;
  EXPECT_TRUE(ports.raise_to.empty());  // horde's own range: no sysctl to write
}

TEST(Planner, ListeningPortsShowOnThePortsLineAndCountOnce) {
  kernel_limits vm = small_vm();
  vm.reserved_ports = {{40000, 40009}};
  plan_needs needs = hundred_thousand(4);
  // ports_to_avoid's list: the reserved ports again, plus two listeners in
  // the range and one outside it.
  for (uint16_t port = 40000; port <= 40009; ++port)
    needs.avoided_ports.push_back(port);
  needs.avoided_ports.insert(needs.avoided_ports.end(), {2024, 33000, 50000});
  needs.excluded_ports = {33000, 34000};  // 33,000 is listening too: counted there
  const plan_sizing size = size_plan(needs, vm);
  EXPECT_EQ(size.reserved_in_range, 10u);
  EXPECT_EQ(size.listening_in_range, 2u);  // 33,000 and 50,000; 2,024 is outside 32768-60999
  EXPECT_EQ(size.excluded_in_range, 1u);   // 34,000
  EXPECT_EQ(size.ports_per_pair, 28232u - 13);
  const check_line ports = plan_checks(needs, vm)[0];
  EXPECT_TRUE(contains(ports.formula,
                       "(60999 - 32768 + 1 - 10 reserved - 2 listening - 1 excluded) x 4 sources"))
      << ports.formula;
  EXPECT_TRUE(contains(ports.current, "28,219 ports x 4 sources")) << ports.current;

  // Too few ports: the widened range's count leaves out every avoided port.
  needs.source_addresses = 3;
  const check_line short_ports = plan_checks(needs, vm)[0];
  EXPECT_EQ(short_ports.verdict, verdict::fail);
  // 64,511 - 10 reserved - 2,024, 33,000, 50,000 listening - 34,000 excluded.
  EXPECT_TRUE(contains(short_ports.fix, "64,497 ports: 2 addresses")) << short_ports.fix;
}

TEST(Planner, PortsPerTargetMultiply) {
  const kernel_limits vm = small_vm();
  plan_needs needs = hundred_thousand(1);
  needs.targets = 4;
  const plan_sizing size = size_plan(needs, vm);
  EXPECT_EQ(size.port_capacity, 4u * 28232);
  EXPECT_TRUE(plan_checks(needs, vm)[0].verdict == verdict::ok);
}

TEST(Planner, UnraisableNofileAdaptsWithFiveShards) {
  const kernel_limits vm = small_vm();
  const plan_needs needs = hundred_thousand(4);
  const plan_sizing size = size_plan(needs, vm);
  EXPECT_EQ(size.fd_limit_after_raise, 20000u);
  EXPECT_EQ(size.ring_file_slots, 20000u);
  EXPECT_EQ(size.shards, 5u);  // max(2, ceil(100,000 / 20,000))

  const auto lines = plan_checks(needs, vm);
  const check_line& nofile = line_for(lines, "RLIMIT_NOFILE");
  EXPECT_EQ(nofile.verdict, verdict::adapted);
  EXPECT_TRUE(contains(nofile.current, "no CAP_SYS_RESOURCE")) << nofile.current;
  EXPECT_EQ(nofile.needed, "50,000 per ring (100,000 / 2 CPUs)");
  EXPECT_TRUE(contains(nofile.formula, "shards = max(2 CPUs, ceil(100,000 / 20,000)) = 5"))
      << nofile.formula;
  EXPECT_TRUE(contains(nofile.note, "direct descriptors do not use the fd table")) << nofile.note;
  EXPECT_TRUE(contains(nofile.note,
                       "max(cpus, ceil(connections / table)) = max(2, ceil(100,000 "
                       "/ 20,000)) = 5"))
      << nofile.note;
  EXPECT_TRUE(contains(nofile.fix, "ulimit -n 1048576")) << nofile.fix;
  EXPECT_TRUE(contains(nofile.fix, "LimitNOFILE=1048576")) << nofile.fix;
  EXPECT_TRUE(plan_fits(lines));  // adapted is not a failure
}

TEST(Planner, SoftRisesToHardWithoutAdapting) {
  kernel_limits vm = small_vm();
  vm.nofile = {1024, 1048576};
  const plan_sizing size = size_plan(hundred_thousand(4), vm);
  EXPECT_EQ(size.fd_limit_after_raise, 1048576u);
  EXPECT_EQ(size.shards, 2u);
  const check_line nofile = line_for(plan_checks(hundred_thousand(4), vm), "RLIMIT_NOFILE");
  EXPECT_EQ(nofile.verdict, verdict::ok);
  EXPECT_TRUE(contains(nofile.note, "soft is raised to 1,048,576 at start")) << nofile.note;
}

TEST(Planner, CapSysResourceLiftsTheHardLimitToNrOpen) {
  kernel_limits vm = small_vm();
  vm.can_raise_hard = true;
  const plan_sizing size = size_plan(hundred_thousand(4), vm);
  EXPECT_EQ(size.fd_limit_after_raise, 1048576u);
  EXPECT_EQ(size.shards, 2u);
}

TEST(Planner, RingTablesNeverExceedAMillionSlots) {
  kernel_limits box = tuned_box();
  box.nofile = {unlimited, unlimited};
  box.nr_open = uint64_t(1) << 30;
  plan_needs needs;
  needs.connections = 3000000;
  needs.cpus = 2;
  const plan_sizing size = size_plan(needs, box);
  EXPECT_EQ(size.ring_file_slots, 1048576u);
  EXPECT_EQ(size.shards, 3u);  // ceil(3,000,000 / 1,048,576)
}

TEST(Planner, KernelMemoryCountsBothEndsOnThisHost) {
  kernel_limits vm = small_vm();
  vm.page_size = 4096;
  plan_needs needs = hundred_thousand(4);
  EXPECT_EQ(size_plan(needs, vm).kernel_bytes, 860000000u);  // 100,000 x 2 x 4,300
  needs.target_on_this_host = false;
  EXPECT_EQ(size_plan(needs, vm).kernel_bytes, 430000000u);
  needs.messages_per_second_per_connection = 1;
  needs.message_bytes = 1000;
  EXPECT_EQ(size_plan(needs, vm).kernel_bytes, 530000000u);  // 100,000 x (4,300 + 1,000)
}

TEST(Planner, TcpMemHighOfOneGibFitsAndHalfAGibFails) {
  kernel_limits vm = small_vm();
  vm.page_size = 4096;
  const plan_needs needs = hundred_thousand(4);  // 860,000,000 B = 209,961 pages

  vm.tcp_mem = std::array<uint64_t, 3>{131072, 196608, 262144};  // high 1 GiB
  auto lines = plan_checks(needs, vm);
  const check_line& fits = line_for(lines, "net.ipv4.tcp_mem");
  EXPECT_NE(fits.verdict, verdict::fail);
  EXPECT_EQ(fits.verdict, verdict::warn);  // past pressure (768 MiB): TCP trims buffers
  EXPECT_EQ(fits.needed, "209,961 pages (820.2 MiB)");
  EXPECT_TRUE(contains(fits.formula, "100,000 connections x 2 ends x 4,300 B = 860,000,000 B"))
      << fits.formula;
  EXPECT_TRUE(plan_fits(lines));

  vm.tcp_mem = std::array<uint64_t, 3>{262144, 262144, 262144};
  EXPECT_EQ(line_for(plan_checks(needs, vm), "net.ipv4.tcp_mem").verdict, verdict::ok);

  vm.tcp_mem = std::array<uint64_t, 3>{65536, 98304, 131072};  // high 512 MiB
  lines = plan_checks(needs, vm);
  const check_line& short_line = line_for(lines, "net.ipv4.tcp_mem");
  EXPECT_EQ(short_line.verdict, verdict::fail);
  EXPECT_EQ(short_line.raise_to, "65536 209961 314941");
  EXPECT_EQ(short_line.fix, "sysctl -w net.ipv4.tcp_mem=\"65536 209961 314941\"");
  EXPECT_FALSE(plan_fits(lines));
}

TEST(Planner, MemAvailableFailsWhenThePlanDoesNotFitInMemory) {
  kernel_limits vm = small_vm();
  const plan_needs needs = hundred_thousand(4);
  // 860,000,000 kernel + 100,000 x 4,096 horde = 1,269,600,000 B
  vm.mem_available = uint64_t(1) << 30;
  const check_line line = line_for(plan_checks(needs, vm), "MemAvailable");
  EXPECT_EQ(line.verdict, verdict::fail);
  EXPECT_EQ(line.needed, "1.2 GiB");
  EXPECT_FALSE(line.fix.empty());
  vm.mem_available = uint64_t(1400) << 20;  // 1,468,006,400: over 80% used
  EXPECT_EQ(line_for(plan_checks(needs, vm), "MemAvailable").verdict, verdict::warn);
  vm.mem_available = uint64_t(4) << 30;
  EXPECT_EQ(line_for(plan_checks(needs, vm), "MemAvailable").verdict, verdict::ok);
}

TEST(Planner, TlsAddsUserMemory) {
  const kernel_limits vm = small_vm();
  plan_needs needs = hundred_thousand(4);
  needs.tls = true;
  EXPECT_EQ(size_plan(needs, vm).user_bytes, 100000u * (4096 + 20 * 1024));
}

TEST(Planner, ShortListenQueuesWarnOnlyForATargetOnThisHost) {
  const kernel_limits vm = small_vm();
  plan_needs needs = hundred_thousand(4);
  auto lines = plan_checks(needs, vm);
  EXPECT_EQ(line_for(lines, "net.core.somaxconn").verdict, verdict::ok);  // 4096
  const check_line& syn = line_for(lines, "net.ipv4.tcp_max_syn_backlog");
  EXPECT_EQ(syn.verdict, verdict::warn);
  EXPECT_EQ(syn.current, "2,048");
  EXPECT_EQ(syn.needed, "4,096");
  EXPECT_EQ(syn.fix, "sysctl -w net.ipv4.tcp_max_syn_backlog=4096");
  EXPECT_TRUE(contains(syn.note, "~1 s")) << syn.note;

  needs.target_on_this_host = false;
  lines = plan_checks(needs, vm);
  EXPECT_EQ(line_for(lines, "net.ipv4.tcp_max_syn_backlog").verdict, verdict::ok);
}

TEST(Planner, TimeWaitAndOrphanCapsAgainstConnections) {
  const kernel_limits vm = small_vm();
  plan_needs needs = hundred_thousand(8);
  auto lines = plan_checks(needs, vm);
  EXPECT_EQ(line_for(lines, "net.ipv4.tcp_max_tw_buckets").verdict, verdict::ok);  // 131,072
  // Both ends close on this host: 200,000 orphans at worst.
  const check_line& orphans = line_for(lines, "net.ipv4.tcp_max_orphans");
  EXPECT_EQ(orphans.verdict, verdict::warn);
  EXPECT_EQ(orphans.fix, "sysctl -w net.ipv4.tcp_max_orphans=262144");

  needs.connections = 200000;
  const check_line tw = line_for(plan_checks(needs, vm), "net.ipv4.tcp_max_tw_buckets");
  EXPECT_EQ(tw.verdict, verdict::warn);
  EXPECT_EQ(tw.needed, "200,000");
  EXPECT_EQ(tw.fix, "sysctl -w net.ipv4.tcp_max_tw_buckets=262144");
  EXPECT_TRUE(contains(tw.note, "TIME_WAIT")) << tw.note;
}

TEST(Planner, TwReuseMustCoverThePath) {
  kernel_limits vm = small_vm();
  plan_needs needs = hundred_thousand(4);
  EXPECT_EQ(line_for(plan_checks(needs, vm), "net.ipv4.tcp_tw_reuse").verdict, verdict::ok);
  needs.target_on_this_host = false;
  const check_line remote = line_for(plan_checks(needs, vm), "net.ipv4.tcp_tw_reuse");
  EXPECT_EQ(remote.verdict, verdict::warn);
  EXPECT_EQ(remote.fix, "sysctl -w net.ipv4.tcp_tw_reuse=1");
  vm.tcp_tw_reuse = 0;
  needs.target_on_this_host = true;
  EXPECT_EQ(line_for(plan_checks(needs, vm), "net.ipv4.tcp_tw_reuse").verdict, verdict::warn);
}

TEST(Planner, ConntrackCountsOnlyWhenTracking) {
  kernel_limits vm = small_vm();
  const plan_needs needs = hundred_thousand(4);
  // Loaded but tracking nothing (no ruleset): fine, with the fix for later.
  const check_line idle = line_for(plan_checks(needs, vm), "net.netfilter.nf_conntrack_max");
  EXPECT_EQ(idle.verdict, verdict::ok);

  vm.nf_conntrack_count = 1000;
  const check_line counting = line_for(plan_checks(needs, vm), "net.netfilter.nf_conntrack_max");
  EXPECT_EQ(counting.verdict, verdict::ok);  // 1,000 + 200,000 <= 262,144
  EXPECT_EQ(counting.needed, "201,000");

  plan_needs more = needs;
  more.connections = 150000;
  more.source_addresses = 6;
  const check_line full = line_for(plan_checks(more, vm), "net.netfilter.nf_conntrack_max");
  EXPECT_EQ(full.verdict, verdict::fail);  // 1,000 + 300,000 > 262,144
  EXPECT_EQ(full.fix, "sysctl -w net.netfilter.nf_conntrack_max=524288");

  vm.nf_conntrack_max.reset();
  vm.nf_conntrack_count.reset();
  const check_line absent = line_for(plan_checks(more, vm), "net.netfilter.nf_conntrack_max");
  EXPECT_EQ(absent.verdict, verdict::ok);
  EXPECT_EQ(absent.current, "absent");
}

TEST(Planner, MemlockMattersOnlyBeforeKernel512) {
  kernel_limits vm = small_vm();
  const plan_needs needs = hundred_thousand(4);
  const check_line now = line_for(plan_checks(needs, vm), "RLIMIT_MEMLOCK");
  EXPECT_EQ(now.verdict, verdict::ok);
  EXPECT_TRUE(contains(now.note, "5.12")) << now.note;
  EXPECT_TRUE(contains(now.note, "cgroup")) << now.note;

  vm.kernel_release = "5.10.0-28-amd64";
  vm.memlock = {65536, 65536};
  const check_line old = line_for(plan_checks(needs, vm), "RLIMIT_MEMLOCK");
  EXPECT_EQ(old.verdict, verdict::warn);
  EXPECT_TRUE(contains(old.fix, "ulimit -l unlimited")) << old.fix;
}

TEST(Planner, ThpAlwaysWarns) {
  kernel_limits vm = small_vm();
  vm.thp_mode = "always";
  const check_line thp = line_for(plan_checks(hundred_thousand(4), vm), "transparent_hugepage");
  EXPECT_EQ(thp.verdict, verdict::warn);
  EXPECT_EQ(thp.fix, "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
  vm.thp_mode.reset();
  EXPECT_EQ(line_for(plan_checks(hundred_thousand(4), vm), "transparent_hugepage").verdict,
            verdict::ok);
}

TEST(Planner, LargeMessagesAgainstBufferCaps) {
  const kernel_limits vm = small_vm();
  plan_needs needs = hundred_thousand(4);
  needs.messages_per_second_per_connection = 1;
  needs.message_bytes = 8 << 20;
  const auto lines = plan_checks(needs, vm);
  EXPECT_EQ(line_for(lines, "net.ipv4.tcp_rmem").verdict, verdict::ok);  // max 32 MiB
  const check_line& wmem = line_for(lines, "net.ipv4.tcp_wmem");
  EXPECT_EQ(wmem.verdict, verdict::warn);  // max 4 MiB
  EXPECT_EQ(wmem.fix, "sysctl -w net.ipv4.tcp_wmem=\"4096 16384 16777216\"");
}

// The run outside observers saw: 100k connections ramped at 30k/s on loopback
// dropped 7,775 packets at netdev_max_backlog 1,000.
TEST(Planner, ConnectRampOnLoopbackNeedsABiggerBacklog) {
  const kernel_limits vm = small_vm();
  plan_needs needs = hundred_thousand(4);
  needs.connect_rate = 30000;
  const backlog_need need = netdev_backlog_need(needs);
  EXPECT_EQ(need.packets_per_cpu, 9000u);  // 3,000 connects x 6 packets / 2 CPUs
  EXPECT_EQ(need.needed, 16384u);
  EXPECT_FALSE(need.capped);
  const check_line line = line_for(plan_checks(needs, vm), "net.core.netdev_max_backlog");
  EXPECT_EQ(line.verdict, verdict::warn);
  EXPECT_EQ(line.current, "1,000");
  EXPECT_EQ(line.needed, "16,384");
  EXPECT_GE(std::stoull(line.raise_to), 16384u);
  EXPECT_EQ(line.fix, "sysctl -w net.core.netdev_max_backlog=16384");
  EXPECT_EQ(line.proc_sys_path, "net/core/netdev_max_backlog");
  EXPECT_TRUE(
      contains(line.formula, "min(100,000 connections, 30,000/s x 100 ms) = 3,000 connects"))
      << line.formula;
  EXPECT_TRUE(contains(line.formula, "/ 2 CPUs = 9,000 per CPU")) << line.formula;
}

TEST(Planner, ThousandConnectionsAtOneMessageASecondFitTheDefaultBacklog) {
  const kernel_limits vm = small_vm();
  plan_needs needs;
  needs.connections = 1000;
  needs.cpus = 2;
  needs.connect_rate = 1000;
  needs.messages_per_second_per_connection = 1;
  const backlog_need need = netdev_backlog_need(needs);
  // (100 connects x 6 + 1,000 x 1/s x 0.1 s x 4) / 2 CPUs = 500.
  EXPECT_EQ(need.packets_per_cpu, 500u);
  EXPECT_EQ(need.needed, 1000u);
  const check_line line = line_for(plan_checks(needs, vm), "net.core.netdev_max_backlog");
  EXPECT_EQ(line.verdict, verdict::ok);
  EXPECT_EQ(line.needed, "1,000");
  EXPECT_TRUE(line.fix.empty());
}

TEST(Planner, BacklogCountsMessagesAndPingsAndIsCapped) {
  plan_needs needs = hundred_thousand(4);
  needs.connect_rate = 100;  // the ramp barely counts: 10 connects per gap
  needs.messages_per_second_per_connection = 1;
  needs.pings_per_second_per_connection = 0.1;
  // (10 x 6 + 100,000 x 1.1 x 0.1 x 4 = 44,000) / 2 = 22,030 -> 32,768.
  EXPECT_EQ(netdev_backlog_need(needs).packets_per_cpu, 22030u);
  EXPECT_EQ(netdev_backlog_need(needs).needed, 32768u);

  needs.messages_per_second_per_connection = 10;
  const backlog_need capped = netdev_backlog_need(needs);
  EXPECT_EQ(capped.needed, 65536u);
  EXPECT_TRUE(capped.capped);
  const check_line line = line_for(plan_checks(needs, small_vm()), "net.core.netdev_max_backlog");
  EXPECT_TRUE(contains(line.note, "lower --connect-rate or spread the load")) << line.note;

  // More CPUs share the queue's load.
  needs.messages_per_second_per_connection = 1;
  needs.cpus = 32;
  EXPECT_EQ(netdev_backlog_need(needs).needed, 2048u);  // 44,060 / 32 = 1,377
}

TEST(Planner, BacklogForARemoteTargetIsTheKernelDefault) {
  plan_needs needs = hundred_thousand(4);
  needs.connect_rate = 30000;
  needs.target_on_this_host = false;
  const backlog_need need = netdev_backlog_need(needs);
  EXPECT_FALSE(need.on_loopback);
  EXPECT_EQ(need.needed, 1000u);
  const check_line line = line_for(plan_checks(needs, small_vm()), "net.core.netdev_max_backlog");
  EXPECT_EQ(line.verdict, verdict::ok);
  EXPECT_TRUE(contains(line.formula, "another host")) << line.formula;
}

TEST(Planner, SmallVmAtAHundredThousand) {
  const auto lines = plan_checks(hundred_thousand(4), small_vm());
  for (const check_line& line : lines) {
    // An unlimited connect rate ramps at ~100k/s: 10,000 connects per 100 ms gap.
    const bool expected_not_ok =
        line.knob == "RLIMIT_NOFILE" || line.knob == "net.ipv4.tcp_max_syn_backlog" ||
        line.knob == "net.ipv4.tcp_max_orphans" || line.knob == "net.core.netdev_max_backlog";
    EXPECT_EQ(line.verdict != verdict::ok, expected_not_ok)
        << line.knob << ": " << verdict_name(line.verdict) << " " << line.note;
  }
  EXPECT_TRUE(plan_fits(lines));
}

TEST(Planner, TunedBoxPassesEveryCheck) {
  const kernel_limits box = tuned_box();
  plan_needs needs = hundred_thousand(2);
  needs.cpus = 32;
  needs.messages_per_second_per_connection = 1;
  const auto lines = plan_checks(needs, box);
  for (const check_line& line : lines) {
    EXPECT_EQ(line.verdict, verdict::ok)
        << line.knob << ": " << line.current << " vs " << line.needed << "; " << line.note;
  }
  EXPECT_EQ(size_plan(needs, box).shards, 32u);
  EXPECT_TRUE(plan_fits(lines));
}

TEST(Planner, EveryLineNamesItsValuesAndEveryProblemItsFix) {
  kernel_limits bad = small_vm();
  bad.thp_mode = "always";
  bad.tcp_tw_reuse = 0;
  bad.nf_conntrack_count = 5;
  bad.mem_available = uint64_t(1) << 30;
  bad.file_max = 100000;
  bad.nr_open = 65536;
  plan_needs needs = hundred_thousand(1);
  needs.messages_per_second_per_connection = 10;
  needs.message_bytes = 64 << 20;
  for (const plan_needs& n : {needs, hundred_thousand(4)}) {
    for (const check_line& line : plan_checks(n, bad)) {
      EXPECT_FALSE(line.knob.empty());
      EXPECT_FALSE(line.current.empty()) << line.knob;
      EXPECT_FALSE(line.needed.empty()) << line.knob;
      EXPECT_FALSE(line.formula.empty()) << line.knob;
      if (line.verdict != verdict::ok) {
        EXPECT_FALSE(line.fix.empty()) << line.knob;
      }
      if (!line.raise_to.empty() && !line.proc_sys_path.empty()) {
        EXPECT_TRUE(contains(line.fix, "sysctl -w " + sysctl_name(line.proc_sys_path))) << line.fix;
      }
    }
  }
}

TEST(Planner, UnreadableKnobsWarnInsteadOfGuessing) {
  kernel_limits vm = small_vm();
  vm.local_port_range.reset();
  vm.somaxconn.reset();
  const auto lines = plan_checks(hundred_thousand(4), vm);
  EXPECT_EQ(line_for(lines, "net.ipv4.ip_local_port_range").verdict, verdict::warn);
  EXPECT_EQ(line_for(lines, "net.core.somaxconn").current, "unreadable");
  EXPECT_TRUE(plan_fits(lines));
}

}  // namespace
}  // namespace horde::sysctl

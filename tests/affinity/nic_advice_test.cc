// NIC advice over fake /proc and /sys trees: the cpumask text format, route
// lookup, IRQ / RPS / XPS advice for made-up NICs, and --apply writing only
// under the fake root. One read-only pass over this machine's real tree.
#include "affinity/nic_advice.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "affinity/cpu_set.hh"
#include "tests/affinity/fake_sysfs.hh"

namespace horde::affinity {
namespace {

using testing_support::fake_sysfs;

std::string read_back(const fake_sysfs& fs, const std::string& relative) {
  std::ifstream in(std::filesystem::path(fs.root()) / relative);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A PCI NIC: vectors `irqs` under device/msi_irqs (directories, as in sysfs),
// each with smp_affinity_list `affinity`; rx/tx queues with masks `mask`.
void write_nic(const fake_sysfs& fs, const std::string& iface, const std::vector<int>& irqs,
               const std::string& affinity, int queues, const std::string& mask) {
  const std::string net = "sys/class/net/" + iface + "/";
  fs.write(net + "device/vendor", "0x8086");
  for (int irq : irqs) {
    fs.write(net + "device/msi_irqs/" + std::to_string(irq) + "/mode", "msix");
    fs.write("proc/irq/" + std::to_string(irq) + "/smp_affinity_list", affinity);
  }
  for (int q = 0; q < queues; ++q) {
    fs.write(net + "queues/rx-" + std::to_string(q) + "/rps_cpus", mask);
    fs.write(net + "queues/tx-" + std::to_string(q) + "/xps_cpus", mask);
  }
}

std::vector<int> range(int first, int last) {
  std::vector<int> cpus;
  for (int cpu = first; cpu <= last; ++cpu)
    cpus.push_back(cpu);
  return cpus;
}

std::string dump(const nic_advice& advice) {
  std::string text = advice.note + "\n";
  for (const nic_queue_advice& line : advice.lines)
    text += line.what + " | " + line.current + " | " + line.advised + " | " + line.fix + " | " +
            (line.ok ? "ok" : "change") + "\n";
  return text;
}

TEST(CpuMask, FormatsShortestKernelForm) {
  EXPECT_EQ(format_cpu_mask({}), "0");
  EXPECT_EQ(format_cpu_mask({0, 1, 2, 3}), "f");
  EXPECT_EQ(format_cpu_mask({3, 2}), "c");
  EXPECT_EQ(format_cpu_mask(range(0, 31)), "ffffffff");
  EXPECT_EQ(format_cpu_mask({32}), "1,00000000");
  EXPECT_EQ(format_cpu_mask({31, 33}), "2,80000000");
  EXPECT_EQ(format_cpu_mask({0, 64}), "1,00000000,00000001");
  EXPECT_EQ(format_cpu_mask({127}), "80000000,00000000,00000000,00000000");
}

TEST(CpuMask, ParsesPaddedAndShortGroups) {
  auto four = parse_cpu_mask("00000000,0000000f");
  ASSERT_TRUE(four) << four.error().message;
  EXPECT_EQ(*four, range(0, 3));
  EXPECT_EQ(*parse_cpu_mask("0"), std::vector<int>{});
  EXPECT_EQ(*parse_cpu_mask("00"), std::vector<int>{});  // what a 2-CPU VM's rps_cpus holds
  EXPECT_EQ(*parse_cpu_mask("FF"), range(0, 7));
  EXPECT_EQ(*parse_cpu_mask("1,00000000"), std::vector<int>{32});
  EXPECT_EQ(*parse_cpu_mask("1,0,1"), (std::vector<int>{0, 64}));
  EXPECT_EQ(*parse_cpu_mask("80000000,00000000,00000000"), std::vector<int>{95});
}

TEST(CpuMask, RoundTripsAbove32And64) {
  for (const std::vector<int>& cpus :
       {range(0, 127), std::vector<int>{33}, std::vector<int>{5, 40, 64, 100}, range(60, 70)}) {
    auto parsed = parse_cpu_mask(format_cpu_mask(cpus));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, cpus);
  }
}

TEST(CpuMask, RejectsMalformed) {
  for (const char* bad : {"", ",", "f,", ",f", "1,,2", "123456789", "0x0f", "g", "f f", "-1"}) {
    auto parsed = parse_cpu_mask(bad);
    EXPECT_FALSE(parsed) << "'" << bad << "'";
    if (!parsed) {
      EXPECT_NE(parsed.error().message.find(bad), std::string::npos);
    }
  }
}

// Addresses are printed as the raw network-order word, so "0000000A" is
// 10.0.0.0 and mask "00FFFFFF" is /24 on a little-endian host.
const char* const route_table =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"  // default via 10.0.0.1
    "eth1\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n"    // 10.0.0.0/8
    "eth3\t0000000A\t00000000\t0001\t0\t0\t50\t00FFFFFF\t0\t0\t0\n"   // 10.0.0.0/24 metric 50
    "eth2\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"    // 10.0.0.0/24 metric 0
    "eth4\t0001A8C0\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"    // 192.168.1.0/24, down
    "*\t0002A8C0\t00000000\t0201\t0\t0\t0\t00FFFFFF\t0\t0\t0";        // 192.168.2.0/24 reject

TEST(NicRoute, PicksMostSpecificRoute) {
  fake_sysfs fs;
  fs.write("proc/net/route", route_table);
  // /24 beats /8 and /0; of the two /24s the lower metric wins, not the first listed.
  EXPECT_EQ(interface_for(fs.root(), "10.0.0.5"), "eth2");
  EXPECT_EQ(interface_for(fs.root(), "10.1.2.3"), "eth1");
  EXPECT_EQ(interface_for(fs.root(), "8.8.8.8"), "eth0");
  EXPECT_EQ(interface_for(fs.root(), "192.168.1.7"), "eth0");  // the down route does not count
  EXPECT_EQ(interface_for(fs.root(), "192.168.2.7"), "");      // unreachable
}

TEST(NicRoute, LoopbackAndOwnAddresses) {
  fake_sysfs fs;
  fs.write("proc/net/route", route_table);
  fs.write("proc/net/fib_trie",
           "Main:\n"
           "  +-- 0.0.0.0/0 3 0 5\n"
           "     |-- 10.0.0.7\n"
           "        /32 host LOCAL\n"
           "     |-- 10.0.0.255\n"
           "        /32 link BROADCAST");
  EXPECT_EQ(interface_for(fs.root(), "127.0.0.1"), "lo");
  EXPECT_EQ(interface_for(fs.root(), "127.8.9.10"), "lo");
  EXPECT_EQ(interface_for(fs.root(), "0.0.0.0"), "lo");
  EXPECT_EQ(interface_for(fs.root(), "10.0.0.7"), "lo");  // this host's own address
  EXPECT_EQ(interface_for(fs.root(), "10.0.0.255"), "eth2");
}

TEST(NicRoute, NoRouteOrNotIpv4) {
  fake_sysfs fs;
  EXPECT_EQ(interface_for(fs.root(), "10.0.0.5"), "");  // no route file at all
  EXPECT_EQ(interface_for(fs.root(), "127.0.0.1"), "lo");
  fs.write("proc/net/route", route_table);
  for (const char* target : {"", "example.com", "::1", "10.0.0", "10.0.0.256"})
    EXPECT_EQ(interface_for(fs.root(), target), "") << target;
}

TEST(NicAdvice, Loopback) {
  fake_sysfs fs;
  fs.write("sys/class/net/lo/queues/rx-0/rps_cpus", "0");
  const nic_advice advice = advise_nic(fs.root(), "lo", {0, 1});
  EXPECT_EQ(advice.interface, "lo");
  EXPECT_FALSE(advice.found);
  EXPECT_EQ(advice.note, "loopback/virtual interface: no NIC queues to place");
  EXPECT_TRUE(advice.lines.empty());
}

TEST(NicAdvice, VirtualInterfaceHasNoDevice) {
  fake_sysfs fs;
  fs.write("sys/class/net/docker0/queues/rx-0/rps_cpus", "0");
  fs.write("sys/class/net/docker0/queues/tx-0/xps_cpus", "0");
  const nic_advice advice = advise_nic(fs.root(), "docker0", {0, 1});
  EXPECT_FALSE(advice.found);
  EXPECT_EQ(advice.note, "loopback/virtual interface: no NIC queues to place");
  EXPECT_TRUE(advice.lines.empty());
}

TEST(NicAdvice, MissingOrBadInterface) {
  fake_sysfs fs;
  EXPECT_FALSE(advise_nic(fs.root(), "eth9", {0}).found);
  EXPECT_NE(advise_nic(fs.root(), "eth9", {0}).note.find("not found"), std::string::npos);
  EXPECT_NE(advise_nic(fs.root(), "", {0}).note.find("no route"), std::string::npos);
  EXPECT_FALSE(advise_nic(fs.root(), "../../etc", {0}).found);
}

// 4 queues, 4 vectors, 2 shard CPUs: IRQs alternate 2,3,2,3; XPS tx i → shard
// CPU i % 2; no RPS (hardware queues suffice). Values already right in another
// spelling ("3-3", "00000008") are ok.
TEST(NicAdvice, FourQueueNicTwoShards) {
  fake_sysfs fs;
  write_nic(fs, "eth0", {45, 46, 47, 48}, "0-3", 4, "00000000");
  fs.write("proc/irq/46/smp_affinity_list", "3-3");
  fs.write("sys/class/net/eth0/queues/tx-1/xps_cpus", "00000008");
  const nic_advice advice = advise_nic(fs.root(), "eth0", {2, 3});
  ASSERT_TRUE(advice.found) << advice.note;
  ASSERT_EQ(advice.lines.size(), 8u) << dump(advice);

  const nic_queue_advice& irq45 = advice.lines[0];
  EXPECT_EQ(irq45.what, "irq 45 (eth0 queue 0)");
  EXPECT_EQ(irq45.current, "0-3");
  EXPECT_EQ(irq45.advised, "2");
  EXPECT_EQ(irq45.fix, "systemctl stop irqbalance; echo 2 > /proc/irq/45/smp_affinity_list");
  EXPECT_FALSE(irq45.ok);
  EXPECT_EQ(advice.lines[1].what, "irq 46 (eth0 queue 1)");
  EXPECT_EQ(advice.lines[1].advised, "3");
  EXPECT_TRUE(advice.lines[1].ok);
  EXPECT_EQ(advice.lines[2].advised, "2");
  EXPECT_EQ(advice.lines[2].fix, "echo 2 > /proc/irq/47/smp_affinity_list");
  EXPECT_EQ(advice.lines[3].advised, "3");

  const char* const xps[] = {"4", "8", "4", "8"};
  for (int q = 0; q < 4; ++q) {
    const nic_queue_advice& line = advice.lines[4 + q];
    const std::string name = "tx-" + std::to_string(q);
    EXPECT_EQ(line.what, name + " xps_cpus");
    EXPECT_EQ(line.advised, xps[q]);
    EXPECT_EQ(line.fix, "echo " + std::string(xps[q]) + " > /sys/class/net/eth0/queues/" + name +
                            "/xps_cpus");
    EXPECT_EQ(line.ok, q == 1) << name;
  }
  EXPECT_NE(advice.note.find("systemctl stop irqbalance"), std::string::npos);
  EXPECT_EQ(advice.note.find("RPS"), std::string::npos);
}

// 1 queue, 8 shard CPUs: the single IRQ goes to the first shard and RPS fans
// receive work out to all eight; one tx queue leaves XPS nothing to choose.
TEST(NicAdvice, OneQueueNicEightShardsAdvisesRps) {
  fake_sysfs fs;
  write_nic(fs, "eth0", {30}, "0-7", 1, "00000000,00000000");
  const nic_advice advice = advise_nic(fs.root(), "eth0", range(0, 7));
  ASSERT_TRUE(advice.found);
  ASSERT_EQ(advice.lines.size(), 2u) << dump(advice);
  EXPECT_EQ(advice.lines[0].what, "irq 30 (eth0 queue 0)");
  EXPECT_EQ(advice.lines[0].advised, "0");
  const nic_queue_advice& rps = advice.lines[1];
  EXPECT_EQ(rps.what, "rx-0 rps_cpus");
  EXPECT_EQ(rps.current, "00000000,00000000");
  EXPECT_EQ(rps.advised, "ff");
  EXPECT_EQ(rps.fix, "echo ff > /sys/class/net/eth0/queues/rx-0/rps_cpus");
  EXPECT_FALSE(rps.ok);
  EXPECT_NE(advice.note.find("RPS"), std::string::npos);
}

TEST(NicAdvice, RpsMaskForShardsAbove32And64) {
  fake_sysfs fs;
  write_nic(fs, "eth0", {30}, "0", 1, "0");
  nic_advice advice = advise_nic(fs.root(), "eth0", range(32, 39));
  ASSERT_EQ(advice.lines.size(), 2u) << dump(advice);
  EXPECT_EQ(advice.lines[1].advised, "ff,00000000");
  advice = advise_nic(fs.root(), "eth0", {1, 64, 65});
  ASSERT_EQ(advice.lines.size(), 2u) << dump(advice);
  EXPECT_EQ(advice.lines[0].advised, "1");
  EXPECT_EQ(advice.lines[1].advised, "3,00000000,00000002");
}

// 2 queues, 4 shard CPUs: RPS on both rx queues, and each shard CPU sends on
// one tx queue (tx-0 ← cpus 0,2; tx-1 ← cpus 1,3). Repeated shard CPUs (more
// shards than CPUs) count once.
TEST(NicAdvice, FewerTxQueuesThanShardsCoversEveryShard) {
  fake_sysfs fs;
  write_nic(fs, "eth0", {50, 51}, "0", 2, "0");
  const nic_advice advice = advise_nic(fs.root(), "eth0", {0, 1, 2, 3, 0, 1});
  ASSERT_EQ(advice.lines.size(), 6u) << dump(advice);
  EXPECT_EQ(advice.lines[0].advised, "0");
  EXPECT_TRUE(advice.lines[0].ok);
  EXPECT_EQ(advice.lines[1].advised, "1");
  EXPECT_EQ(advice.lines[2].what, "rx-0 rps_cpus");
  EXPECT_EQ(advice.lines[2].advised, "f");
  EXPECT_EQ(advice.lines[3].advised, "f");
  EXPECT_EQ(advice.lines[4].advised, "5");
  EXPECT_EQ(advice.lines[5].advised, "a");
  // The first changed IRQ (not the first IRQ) carries the irqbalance step.
  EXPECT_EQ(advice.lines[1].fix,
            "systemctl stop irqbalance; echo 1 > /proc/irq/51/smp_affinity_list");
}

// virtio-net: the netdev's device is virtioN; its vectors (config, then
// input.N / output.N per queue pair) sit on the PCI function above it.
TEST(NicAdvice, VirtioVectorsOnParentPciDevice) {
  fake_sysfs fs;
  const std::string pci = "sys/devices/pci0000:00/0000:00:03.0/";
  fs.write(pci + "virtio2/features", "0");
  fs.write("sys/class/net/eth0/queues/rx-0/rps_cpus", "0");
  fs.write("sys/class/net/eth0/queues/tx-0/xps_cpus", "0");
  for (int irq : {37, 38, 39}) {
    fs.write(pci + "msi_irqs/" + std::to_string(irq) + "/mode", "msix");
    fs.write("proc/irq/" + std::to_string(irq) + "/smp_affinity_list", "0-1");
  }
  fs.write("proc/irq/37/virtio2-config/.keep", "");
  fs.write("proc/irq/38/virtio2-input.0/.keep", "");
  fs.write("proc/irq/39/virtio2-output.0/.keep", "");
  std::filesystem::create_directory_symlink(
      "../../../devices/pci0000:00/0000:00:03.0/virtio2",
      std::filesystem::path(fs.root()) / "sys/class/net/eth0/device");

  const nic_advice advice = advise_nic(fs.root(), "eth0", {0, 1});
  ASSERT_TRUE(advice.found) << advice.note;
  ASSERT_EQ(advice.lines.size(), 3u) << dump(advice);
  EXPECT_EQ(advice.lines[0].what, "irq 38 (eth0 queue 0: virtio2-input.0)");
  EXPECT_EQ(advice.lines[0].advised, "0");
  EXPECT_EQ(advice.lines[1].what, "irq 39 (eth0 queue 0: virtio2-output.0)");
  EXPECT_EQ(advice.lines[1].advised, "0");
  EXPECT_EQ(advice.lines[2].what, "rx-0 rps_cpus");
  EXPECT_EQ(advice.lines[2].advised, "3");
}

TEST(NicAdvice, ApplyWritesUnderRootAndLeavesRightValuesAlone) {
  fake_sysfs fs;
  write_nic(fs, "eth0", {45, 46, 47, 48}, "0-3", 4, "00000000");
  fs.write("proc/irq/46/smp_affinity_list", "3-3");
  fs.write("sys/class/net/eth0/queues/tx-1/xps_cpus", "00000008");
  const nic_advice advice = advise_nic(fs.root(), "eth0", {2, 3});
  // Set after the advice was read, in the kernel's spelling: still left alone.
  fs.write("proc/irq/48/smp_affinity_list", "3-3");

  const std::vector<std::string> done = apply_nic_advice(fs.root(), advice);
  const std::vector<std::string> expected = {
      "applied irq 45 (eth0 queue 0): 0-3 -> 2", "applied irq 47 (eth0 queue 2): 0-3 -> 2",
      "applied tx-0 xps_cpus: 00000000 -> 4",    "applied tx-2 xps_cpus: 00000000 -> 4",
      "applied tx-3 xps_cpus: 00000000 -> 8",
  };
  EXPECT_EQ(done, expected);
  EXPECT_EQ(read_back(fs, "proc/irq/45/smp_affinity_list"), "2\n");
  EXPECT_EQ(read_back(fs, "proc/irq/46/smp_affinity_list"), "3-3\n");  // untouched
  EXPECT_EQ(read_back(fs, "proc/irq/48/smp_affinity_list"), "3-3\n");
  EXPECT_EQ(read_back(fs, "sys/class/net/eth0/queues/tx-1/xps_cpus"), "00000008\n");
  EXPECT_EQ(read_back(fs, "sys/class/net/eth0/queues/tx-3/xps_cpus"), "8\n");
  EXPECT_EQ(read_back(fs, "sys/class/net/eth0/queues/rx-0/rps_cpus"), "00000000\n");

  const nic_advice again = advise_nic(fs.root(), "eth0", {2, 3});
  for (const nic_queue_advice& line : again.lines)
    EXPECT_TRUE(line.ok) << line.what;
  EXPECT_EQ(again.note.find("irqbalance"), std::string::npos);
  EXPECT_TRUE(apply_nic_advice(fs.root(), advice).empty());
}

TEST(NicAdvice, ApplyReportsWhatItCouldNotWrite) {
  fake_sysfs fs;
  write_nic(fs, "eth0", {45}, "0-3", 1, "0");
  nic_advice advice = advise_nic(fs.root(), "eth0", {1, 2});
  ASSERT_EQ(advice.lines.size(), 2u) << dump(advice);
  std::filesystem::remove(std::filesystem::path(fs.root()) / "proc/irq/45/smp_affinity_list");
  nic_queue_advice stray = advice.lines[1];
  stray.what = "stray";
  stray.path = "/etc/passwd";
  advice.lines.push_back(stray);

  const std::vector<std::string> done = apply_nic_advice(fs.root(), advice);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].rfind("failed irq 45 (eth0 queue 0): cannot read ", 0), 0u) << done[0];
  EXPECT_EQ(done[1], "applied rx-0 rps_cpus: 0 -> 6");
  EXPECT_EQ(done[2], "failed stray: not a NIC file: /etc/passwd");
  EXPECT_TRUE(apply_nic_advice(fs.root(), nic_advice{}).empty());
}

// Read-only: whatever this host routes 192.0.2.1 through, the advice is
// self-consistent (the real tree is never written here).
TEST(NicAdvice, ThisMachineReadOnly) {
  const std::string iface = interface_for("/", "192.0.2.1");
  const nic_advice advice = advise_nic("/", iface, allowed_cpus());
  EXPECT_EQ(advice.interface, iface);
  EXPECT_FALSE(advice.note.empty());
  if (!advice.found) {
    EXPECT_TRUE(advice.lines.empty());
  }
  for (const nic_queue_advice& line : advice.lines) {
    EXPECT_FALSE(line.advised.empty()) << line.what;
    EXPECT_NE(line.fix.find("echo " + line.advised + " > " + line.path), std::string::npos);
  }
  std::cout << dump(advice);
}

}  // namespace
}  // namespace horde::affinity

// read_topology and cgroup_cpuset over fake sysfs trees, and once over this
// machine's real /sys.
#include "affinity/topology.hh"

#include <gtest/gtest.h>

#include <algorithm>

#include "affinity/cpu_set.hh"
#include "tests/affinity/fake_sysfs.hh"

namespace horde::affinity {
namespace {

using testing_support::fake_sysfs;

std::vector<int> ids(const topology& topo) {
  std::vector<int> cpus;
  for (const cpu_info& info : topo.cpus)
    cpus.push_back(info.cpu);
  return cpus;
}

std::vector<int> range(int first, int last) {
  std::vector<int> cpus;
  for (int cpu = first; cpu <= last; ++cpu)
    cpus.push_back(cpu);
  return cpus;
}

TEST(Topology, TwoCpuVm) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  auto topo = read_topology(fs.root(), {0, 1});
  ASSERT_TRUE(topo) << topo.error().message;
  EXPECT_EQ(ids(*topo), (std::vector<int>{0, 1}));
  EXPECT_EQ(topo->packages, 1);
  EXPECT_EQ(topo->cores, 2);
  EXPECT_EQ(topo->numa_nodes, 1);
  EXPECT_TRUE(topo->isolated.empty());
  EXPECT_EQ(topo->cpus[1].core, 1);
  EXPECT_EQ(topo->cpus[1].siblings, (std::vector<int>{1}));
  EXPECT_FALSE(topo->cpus[1].isolated);
}

TEST(Topology, TwoSocketSmtBox) {
  fake_sysfs fs;
  testing_support::write_two_socket_smt_box(fs);
  auto topo = read_topology(fs.root(), range(0, 127));
  ASSERT_TRUE(topo) << topo.error().message;
  ASSERT_EQ(topo->cpus.size(), 128u);
  EXPECT_EQ(topo->packages, 2);
  EXPECT_EQ(topo->cores, 64);  // core_id repeats across sockets; cores must not merge
  EXPECT_EQ(topo->numa_nodes, 2);
  const cpu_info& cpu97 = topo->cpus[97];
  EXPECT_EQ(cpu97.cpu, 97);
  EXPECT_EQ(cpu97.package, 1);
  EXPECT_EQ(cpu97.core, 1);
  EXPECT_EQ(cpu97.numa_node, 1);
  EXPECT_EQ(cpu97.siblings, (std::vector<int>{33, 97}));
  EXPECT_EQ(topo->cpus[64].numa_node, 0);
  EXPECT_EQ(topo->cpus[64].package, 0);
}

TEST(Topology, CountsOnlyAllowedCpus) {
  fake_sysfs fs;
  testing_support::write_two_socket_smt_box(fs);
  // Allowed: two threads of core 0 and one of core 40 (socket 1), unsorted and
  // repeated, as a caller might build it.
  auto topo = read_topology(fs.root(), {104, 64, 0, 0});
  ASSERT_TRUE(topo) << topo.error().message;
  EXPECT_EQ(ids(*topo), (std::vector<int>{0, 64, 104}));
  EXPECT_EQ(topo->cores, 2);
  EXPECT_EQ(topo->packages, 2);
  EXPECT_EQ(topo->numa_nodes, 2);
}

TEST(Topology, CgroupRestrictedContainer) {
  fake_sysfs fs;
  testing_support::write_flat_box(fs, 8);
  fs.cgroup_cpuset("4-7");
  const std::vector<int> cpuset = cgroup_cpuset(fs.root());
  EXPECT_EQ(cpuset, (std::vector<int>{4, 5, 6, 7}));
  // sched_getaffinity in a container can still report the whole machine (a
  // runtime that sets only the cgroup): the cpuset is what limits us.
  const std::vector<int> allowed = restrict_to_cpuset(range(0, 7), cpuset);
  EXPECT_EQ(allowed, (std::vector<int>{4, 5, 6, 7}));
  auto topo = read_topology(fs.root(), allowed);
  ASSERT_TRUE(topo) << topo.error().message;
  EXPECT_EQ(ids(*topo), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(topo->cores, 4);
  EXPECT_EQ(topo->numa_nodes, 1);  // no node directories: all node 0
  EXPECT_EQ(topo->cpus[0].numa_node, 0);
}

TEST(Topology, CgroupCpusetOfOwnCgroupFirst) {
  fake_sysfs fs;
  fs.write("proc/self/cgroup", "0::/system.slice/horde.service");
  fs.cgroup_cpuset("0-7");
  fs.write("sys/fs/cgroup/system.slice/horde.service/cpuset.cpus.effective", "2-3");
  EXPECT_EQ(cgroup_cpuset(fs.root()), (std::vector<int>{2, 3}));
}

TEST(Topology, CgroupCpusetFromNearestAncestor) {
  fake_sysfs fs;
  // The controller is enabled for system.slice but not below it.
  fs.write("proc/self/cgroup", "0::/system.slice/horde.service");
  fs.write("sys/fs/cgroup/system.slice/cpuset.cpus.effective", "1,5");
  EXPECT_EQ(cgroup_cpuset(fs.root()), (std::vector<int>{1, 5}));
}

TEST(Topology, NoCgroupCpuset) {
  fake_sysfs fs;
  testing_support::write_flat_box(fs, 2);
  EXPECT_TRUE(cgroup_cpuset(fs.root()).empty());
  EXPECT_EQ(restrict_to_cpuset({1, 0}, {}), (std::vector<int>{0, 1}));
  // A cpuset that does not overlap the mask cannot be right: the mask wins.
  EXPECT_EQ(restrict_to_cpuset({0, 1}, {4, 5}), (std::vector<int>{0, 1}));
}

TEST(Topology, IsolatedCpus) {
  fake_sysfs fs;
  testing_support::write_flat_box(fs, 8);
  fs.isolated("2-3,9");  // 9 is not online here; the list is machine-wide
  auto topo = read_topology(fs.root(), range(0, 7));
  ASSERT_TRUE(topo) << topo.error().message;
  EXPECT_EQ(topo->isolated, (std::vector<int>{2, 3, 9}));
  std::vector<int> flagged;
  for (const cpu_info& info : topo->cpus) {
    if (info.isolated) flagged.push_back(info.cpu);
  }
  EXPECT_EQ(flagged, (std::vector<int>{2, 3}));
}

TEST(Topology, SkipsOfflineCpus) {
  fake_sysfs fs;
  testing_support::write_flat_box(fs, 4);
  fs.online("0,2-3");  // cpu 1 hot-unplugged
  auto topo = read_topology(fs.root(), range(0, 3));
  ASSERT_TRUE(topo) << topo.error().message;
  EXPECT_EQ(ids(*topo), (std::vector<int>{0, 2, 3}));
}

TEST(Topology, MissingTopologyDirectoryFallsBack) {
  fake_sysfs fs;
  fs.online("0-1");  // a hypervisor exposing no cpuN/topology
  auto topo = read_topology(fs.root(), {0, 1});
  ASSERT_TRUE(topo) << topo.error().message;
  EXPECT_EQ(topo->cores, 2);
  EXPECT_EQ(topo->packages, 1);
  EXPECT_EQ(topo->cpus[1].siblings, (std::vector<int>{1}));
  EXPECT_EQ(topo->cpus[1].core, 1);
}

TEST(Topology, MemoryOnlyNodeIsIgnored) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  fs.node(1, "");  // CXL or other memory with no CPUs
  auto topo = read_topology(fs.root(), {0, 1});
  ASSERT_TRUE(topo) << topo.error().message;
  EXPECT_EQ(topo->numa_nodes, 1);
}

TEST(Topology, ErrorsNameTheFile) {
  {
    fake_sysfs fs;
    auto topo = read_topology(fs.root(), {0});
    ASSERT_FALSE(topo);
    EXPECT_NE(topo.error().message.find("sys/devices/system/cpu/online"), std::string::npos)
        << topo.error().message;
  }
  {
    fake_sysfs fs;
    testing_support::write_two_cpu_vm(fs);
    fs.write("sys/devices/system/cpu/cpu1/topology/core_id", "one");
    auto topo = read_topology(fs.root(), {0, 1});
    ASSERT_FALSE(topo);
    EXPECT_NE(topo.error().message.find("cpu1/topology/core_id"), std::string::npos)
        << topo.error().message;
  }
  {
    fake_sysfs fs;
    testing_support::write_two_cpu_vm(fs);
    auto topo = read_topology(fs.root(), {5, 6});
    ASSERT_FALSE(topo);
    EXPECT_NE(topo.error().message.find("5-6"), std::string::npos) << topo.error().message;
  }
}

TEST(Topology, FormatsCpuLists) {
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_EQ(format_cpu_list({3}), "3");
  EXPECT_EQ(format_cpu_list({9, 0, 1, 2, 3, 6, 8, 2}), "0-3,6,8-9");
  EXPECT_EQ(*parse_cpu_list(format_cpu_list({0, 2, 3, 4, 64, 65})),
            (std::vector<int>{0, 2, 3, 4, 64, 65}));
}

TEST(Topology, ThisMachine) {
  const std::vector<int> allowed = allowed_cpus();
  auto topo = read_topology("/", restrict_to_cpuset(allowed, cgroup_cpuset("/")));
  ASSERT_TRUE(topo) << topo.error().message;
  // The kernel keeps a task's mask within the online CPUs, so every allowed CPU
  // appears (a cgroup cpuset can only narrow it).
  const std::vector<int> listed = ids(*topo);
  for (int cpu : listed)
    EXPECT_TRUE(std::count(allowed.begin(), allowed.end(), cpu)) << cpu;
  auto plain = read_topology("/", allowed);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(ids(*plain), allowed);
  EXPECT_GE(plain->packages, 1);
  EXPECT_GE(plain->cores, 1);
  EXPECT_LE(plain->cores, int(allowed.size()));
  EXPECT_GE(plain->numa_nodes, 1);
}

}  // namespace
}  // namespace horde::affinity

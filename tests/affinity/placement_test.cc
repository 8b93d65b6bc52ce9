// place_shards on made-up machines (read through fake sysfs trees, so the
// topology reader and the placement are checked together), and describe().
#include "affinity/placement.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <utility>

#include "affinity/cpu_set.hh"
#include "tests/affinity/fake_sysfs.hh"

namespace horde::affinity {
namespace {

using testing_support::fake_sysfs;

std::vector<int> range(int first, int last) {
  std::vector<int> cpus;
  for (int cpu = first; cpu <= last; ++cpu)
    cpus.push_back(cpu);
  return cpus;
}

topology load(const fake_sysfs& fs, const std::vector<int>& allowed) {
  auto topo = read_topology(fs.root(), allowed);
  if (!topo) {
    ADD_FAILURE() << topo.error().message;
    return {};
  }
  return *topo;
}

const cpu_info& info_of(const topology& topo, int cpu) {
  for (const cpu_info& info : topo.cpus) {
    if (info.cpu == cpu) return info;
  }
  ADD_FAILURE() << "cpu " << cpu << " not in topology";
  return topo.cpus.front();
}

bool has_note(const placement& p, const std::string& fragment) {
  return std::any_of(p.notes.begin(), p.notes.end(), [&](const std::string& note) {
    return note.find(fragment) != std::string::npos;
  });
}

std::string notes_of(const placement& p) {
  std::string all;
  for (const std::string& note : p.notes)
    all += "\n  " + note;
  return all;
}

placement place(const topology& topo, const placement_request& request) {
  auto p = place_shards(topo, request);
  if (!p) {
    ADD_FAILURE() << p.error().message;
    return {};
  }
  return *p;
}

std::string error_of(const topology& topo, const placement_request& request) {
  auto p = place_shards(topo, request);
  if (p) {
    ADD_FAILURE() << "expected an error, got " << describe(*p);
    return {};
  }
  return p.error().message;
}

placement_request shards(uint32_t n) {
  placement_request request;
  request.shards = n;
  return request;
}

// --- (a) the 2-CPU VM -------------------------------------------------------

TEST(Placement, VmOneShardPerCpu) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  const placement p = place(load(fs, {0, 1}), {});
  EXPECT_EQ(p.shard_cpus, (std::vector<int>{0, 1}));
  EXPECT_TRUE(p.notes.empty()) << notes_of(p);
}

// Decision: --leave-for-target N on a host with M CPUs is an error only when
// N >= M; leaving nothing for the generator would make it share every CPU
// with the target, which is exactly what the flag exists to prevent. With 2
// CPUs and N = 1 the shards run on cpu 0 and cpu 1 is left to the target.
TEST(Placement, VmLeaveOneForTarget) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  placement_request request;
  request.leave_for_target = 1;
  const placement p = place(load(fs, {0, 1}), request);
  EXPECT_EQ(p.shard_cpus, (std::vector<int>{0}));
  EXPECT_TRUE(has_note(p, "CPU 1 stays free for the target")) << notes_of(p);
}

TEST(Placement, VmLeaveTwoForTargetIsAnError) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  placement_request request;
  request.leave_for_target = 2;
  const std::string error = error_of(load(fs, {0, 1}), request);
  EXPECT_NE(error.find("--leave-for-target 2 leaves no CPU"), std::string::npos) << error;
  EXPECT_NE(error.find("only 2 usable CPUs (0-1)"), std::string::npos) << error;
}

TEST(Placement, VmLeaveOneWithMoreShardsWraps) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  placement_request request = shards(3);
  request.leave_for_target = 1;
  const placement p = place(load(fs, {0, 1}), request);
  EXPECT_EQ(p.shard_cpus, (std::vector<int>{0, 0, 0}));
  EXPECT_TRUE(has_note(p, "3 shards on 1 CPU")) << notes_of(p);
}

TEST(Placement, MinShardsAboveCpusWraps) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  placement_request request;
  request.min_shards = 5;
  const placement p = place(load(fs, {0, 1}), request);
  EXPECT_EQ(p.shard_cpus, (std::vector<int>{0, 1, 0, 1, 0}));
  EXPECT_TRUE(has_note(p, "raised 2 shards to 5")) << notes_of(p);
  EXPECT_TRUE(has_note(p, "5 shards on 2 CPUs: shards wrap round-robin, up to 3 per CPU"))
      << notes_of(p);
}

TEST(Placement, MinShardsBelowRequestChangesNothing) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  placement_request request = shards(2);
  request.min_shards = 1;
  EXPECT_EQ(place(load(fs, {0, 1}), request).shard_cpus, (std::vector<int>{0, 1}));
}

TEST(Placement, ShardsZeroIsAnError) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  EXPECT_NE(error_of(load(fs, {0, 1}), shards(0)).find("--shards 0"), std::string::npos);
}

TEST(Placement, EmptyCpusIsAnError) {
  fake_sysfs fs;
  testing_support::write_two_cpu_vm(fs);
  placement_request request;
  request.cpus = std::vector<int>{};
  EXPECT_NE(error_of(load(fs, {0, 1}), request).find("--cpus names no CPU"), std::string::npos);
}

// --- (b) the 2-socket, 64-core SMT box with 2 NUMA nodes --------------------

class SmtBox : public ::testing::Test {
 protected:
  void SetUp() override {
    testing_support::write_two_socket_smt_box(_fs);
    _topo = load(_fs, range(0, 127));
  }

  // The shards' physical cores, asserting there is no repeat.
  void expect_distinct_cores(const placement& p) {
    std::set<std::pair<int, int>> cores;
    for (int cpu : p.shard_cpus) {
      const cpu_info& info = info_of(_topo, cpu);
      EXPECT_TRUE(cores.insert({info.package, info.siblings.front()}).second)
          << "cpu " << cpu << " shares a core with an earlier shard";
    }
  }

  fake_sysfs _fs;
  topology _topo;
};

TEST_F(SmtBox, EightShardsOnDistinctCoresOfNodeZero) {
  const placement p = place(_topo, shards(8));
  ASSERT_EQ(p.shard_cpus.size(), 8u);
  expect_distinct_cores(p);
  for (int cpu : p.shard_cpus)
    EXPECT_EQ(info_of(_topo, cpu).numa_node, 0) << cpu;
  EXPECT_EQ(p.shard_cpus, range(0, 7));
  EXPECT_TRUE(p.notes.empty()) << notes_of(p);
}

TEST_F(SmtBox, FortyShardsFillNodeZeroCoresThenNodeOneBeforeAnySibling) {
  const placement p = place(_topo, shards(40));
  ASSERT_EQ(p.shard_cpus.size(), 40u);
  expect_distinct_cores(p);
  int on_node[2] = {0, 0};
  for (int cpu : p.shard_cpus)
    ++on_node[info_of(_topo, cpu).numa_node];
  EXPECT_EQ(on_node[0], 32);
  EXPECT_EQ(on_node[1], 8);
  EXPECT_EQ(p.shard_cpus, range(0, 39));  // 0-31 node 0, 32-39 node 1; no 64+
  EXPECT_TRUE(has_note(p, "shards span NUMA nodes 0-1")) << notes_of(p);
  EXPECT_FALSE(has_note(p, "SMT")) << notes_of(p);
}

TEST_F(SmtBox, AllShardsUseEveryCpuOnce) {
  for (const placement_request& request : {placement_request{}, shards(128)}) {
    const placement p = place(_topo, request);
    ASSERT_EQ(p.shard_cpus.size(), 128u);
    std::vector<int> sorted = p.shard_cpus;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, range(0, 127));
    // Every core once before any sibling: the first 64 shards are the first
    // threads, node 0's cores before node 1's; then the siblings in that order.
    EXPECT_EQ(std::vector<int>(p.shard_cpus.begin(), p.shard_cpus.begin() + 64), range(0, 63));
    EXPECT_EQ(std::vector<int>(p.shard_cpus.begin() + 64, p.shard_cpus.end()), range(64, 127));
    EXPECT_TRUE(has_note(p, "128 CPUs on 64 physical cores")) << notes_of(p);
  }
}

TEST_F(SmtBox, MoreShardsThanCpusWrap) {
  placement_request request = shards(8);
  request.min_shards = 200;
  const placement p = place(_topo, request);
  ASSERT_EQ(p.shard_cpus.size(), 200u);
  for (size_t i = 0; i < 200; ++i)
    EXPECT_EQ(p.shard_cpus[i], p.shard_cpus[i % 128]) << i;
  EXPECT_TRUE(has_note(p, "200 shards on 128 CPUs")) << notes_of(p);
}

TEST_F(SmtBox, CpusHonoured) {
  placement_request request;
  request.cpus = range(2, 7);
  EXPECT_EQ(place(_topo, request).shard_cpus, range(2, 7));

  // Within --cpus the same order applies: whole cores before siblings.
  request.cpus = std::vector<int>{65, 0, 64, 1};
  EXPECT_EQ(place(_topo, request).shard_cpus, (std::vector<int>{0, 1, 64, 65}));
  request.shards = 2;
  EXPECT_EQ(place(_topo, request).shard_cpus, (std::vector<int>{0, 1}));

  // Only a sibling named: it is that core's first usable thread.
  request.cpus = std::vector<int>{64, 97};
  request.shards.reset();
  EXPECT_EQ(place(_topo, request).shard_cpus, (std::vector<int>{64, 97}));
}

TEST_F(SmtBox, CpusOutsideTheAllowedSetIsAnError) {
  const topology node0_only = load(_fs, range(0, 63));  // e.g. taskset -c 0-63
  placement_request request;
  request.cpus = range(60, 70);
  const std::string error = error_of(node0_only, request);
  EXPECT_NE(error.find("--cpus names CPUs 64-70, which this process may not use"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("allowed and online are 0-63"), std::string::npos) << error;
}

TEST_F(SmtBox, LeaveForTargetTakesWholeCoresFromTheEnd) {
  placement_request request;
  request.leave_for_target = 2;
  placement p = place(_topo, request);
  ASSERT_EQ(p.shard_cpus.size(), 126u);
  EXPECT_EQ(std::count(p.shard_cpus.begin(), p.shard_cpus.end(), 63), 0);
  EXPECT_EQ(std::count(p.shard_cpus.begin(), p.shard_cpus.end(), 127), 0);
  EXPECT_TRUE(has_note(p, "CPUs 63,127 stay free for the target")) << notes_of(p);

  // An odd count rounds up to whole cores, and says so.
  request.leave_for_target = 3;
  p = place(_topo, request);
  ASSERT_EQ(p.shard_cpus.size(), 124u);
  for (int cpu : {62, 63, 126, 127}) {
    EXPECT_EQ(std::count(p.shard_cpus.begin(), p.shard_cpus.end(), cpu), 0) << cpu;
  }
  EXPECT_TRUE(has_note(p, "leaving 4 CPUs (62-63,126-127) so the target gets whole cores"))
      << notes_of(p);

  // With --shards below what is left, the reserved cores are still never used.
  request = shards(200);
  request.leave_for_target = 2;
  p = place(_topo, request);
  EXPECT_EQ(std::count(p.shard_cpus.begin(), p.shard_cpus.end(), 63), 0);
}

TEST_F(SmtBox, LeaveForTargetCountsCpusOutsideCpusAsFree) {
  placement_request request;
  request.cpus = range(0, 7);
  request.leave_for_target = 2;
  const placement p = place(_topo, request);
  EXPECT_EQ(p.shard_cpus, range(0, 7));
  EXPECT_TRUE(has_note(p, "are outside --cpus and stay free")) << notes_of(p);
}

TEST(Placement, LeaveForTargetOnOneSmtCoreSharesIt) {
  fake_sysfs fs;
  fs.online("0-1");
  fs.cpu(0, 0, 0, "0-1");
  fs.cpu(1, 0, 0, "0-1");
  placement_request request;
  request.leave_for_target = 1;
  const placement p = place(load(fs, {0, 1}), request);
  EXPECT_EQ(p.shard_cpus, (std::vector<int>{0}));
  EXPECT_TRUE(has_note(p, "CPU 1 stays free for the target but shares a physical core"))
      << notes_of(p);
}

TEST(Placement, LeaveForTargetWithCpusCountsBoth) {
  fake_sysfs fs;
  testing_support::write_flat_box(fs, 8);
  placement_request request;
  request.cpus = range(0, 3);  // 4-7 are free already
  request.leave_for_target = 6;
  const placement p = place(load(fs, range(0, 7)), request);
  EXPECT_EQ(p.shard_cpus, (std::vector<int>{0, 1}));
  request.leave_for_target = 8;
  EXPECT_NE(error_of(load(fs, range(0, 7)), request).find("only 8 usable CPUs (0-7)"),
            std::string::npos);
}

// --- (c) the cgroup-restricted container ------------------------------------

TEST(Placement, ContainerUsesOnlyItsCpuset) {
  fake_sysfs fs;
  testing_support::write_flat_box(fs, 8);
  fs.cgroup_cpuset("4-7");
  const topology topo = load(fs, restrict_to_cpuset(range(0, 7), cgroup_cpuset(fs.root())));
  EXPECT_EQ(place(topo, {}).shard_cpus, range(4, 7));
  EXPECT_EQ(place(topo, shards(6)).shard_cpus, (std::vector<int>{4, 5, 6, 7, 4, 5}));

  placement_request request;
  request.cpus = std::vector<int>{0};
  const std::string error = error_of(topo, request);
  EXPECT_NE(error.find("--cpus names CPU 0, which this process may not use"), std::string::npos)
      << error;
}

// --- (d) isolated CPUs -------------------------------------------------------

class IsolatedBox : public ::testing::Test {
 protected:
  void SetUp() override {
    testing_support::write_flat_box(_fs, 8);
    _fs.isolated("2-3");
  }
  fake_sysfs _fs;
};

TEST_F(IsolatedBox, SkippedByDefault) {
  // As if started with taskset -c 0-7 (isolcpus= removes them from the default mask).
  const placement p = place(load(_fs, range(0, 7)), {});
  EXPECT_EQ(p.shard_cpus, (std::vector<int>{0, 1, 4, 5, 6, 7}));
  EXPECT_TRUE(has_note(p, "skipping isolated CPUs 2-3 (name them in --cpus")) << notes_of(p);
}

TEST_F(IsolatedBox, UsedWhenNamed) {
  placement_request request;
  request.cpus = range(1, 3);
  const placement p = place(load(_fs, range(0, 7)), request);
  EXPECT_EQ(p.shard_cpus, range(1, 3));
  EXPECT_TRUE(p.notes.empty()) << notes_of(p);
}

TEST_F(IsolatedBox, UsedWhenNotAvoided) {
  placement_request request;
  request.avoid_isolated = false;
  EXPECT_EQ(place(load(_fs, range(0, 7)), request).shard_cpus, range(0, 7));
}

TEST_F(IsolatedBox, UsedWhenTheyAreAllWeMayUse) {
  const placement p = place(load(_fs, {2, 3}), {});  // taskset -c 2-3
  EXPECT_EQ(p.shard_cpus, (std::vector<int>{2, 3}));
  EXPECT_TRUE(has_note(p, "every allowed CPU is isolated (2-3)")) << notes_of(p);
}

// --- numbering the firmware chose --------------------------------------------

// Some BIOSes number CPUs alternately across sockets: even CPUs on socket 0
// (node 0), odd on socket 1 (node 1). Filling one node first must not follow
// CPU numbers.
TEST(Placement, InterleavedNodesFillOneNodeFirst) {
  fake_sysfs fs;
  fs.online("0-7");
  fs.node(0, "0,2,4,6");
  fs.node(1, "1,3,5,7");
  for (int cpu = 0; cpu < 8; ++cpu)
    fs.cpu(cpu, cpu % 2, cpu / 2, std::to_string(cpu));
  const topology topo = load(fs, range(0, 7));
  EXPECT_EQ(place(topo, shards(4)).shard_cpus, (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(place(topo, {}).shard_cpus, (std::vector<int>{0, 2, 4, 6, 1, 3, 5, 7}));

  // The node of the first allowed CPU comes first: here cpu 1, node 1.
  EXPECT_EQ(place(load(fs, range(1, 5)), {}).shard_cpus, (std::vector<int>{1, 3, 5, 2, 4}));
}

// AMD and many ARM kernels number siblings adjacently: (0,1), (2,3), ...
TEST(Placement, AdjacentSiblingsStillOneShardPerCore) {
  fake_sysfs fs;
  fs.online("0-7");
  for (int cpu = 0; cpu < 8; ++cpu) {
    const int first = cpu - cpu % 2;
    fs.cpu(cpu, 0, cpu / 2, std::to_string(first) + "-" + std::to_string(first + 1));
  }
  const topology topo = load(fs, range(0, 7));
  EXPECT_EQ(topo.cores, 4);
  EXPECT_EQ(place(topo, shards(4)).shard_cpus, (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(place(topo, {}).shard_cpus, (std::vector<int>{0, 2, 4, 6, 1, 3, 5, 7}));
}

TEST(Placement, Describe) {
  placement p;
  EXPECT_EQ(describe(p), "");
  p.shard_cpus = {0, 2, 2};
  EXPECT_EQ(describe(p), "shard 0 → cpu 0, shard 1 → cpu 2, shard 2 → cpu 2");
}

TEST(Placement, ThisMachine) {
  auto topo = read_topology("/", allowed_cpus());
  ASSERT_TRUE(topo) << topo.error().message;
  auto p = place_shards(*topo, {});
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_FALSE(p->shard_cpus.empty());
  const std::vector<int> allowed = allowed_cpus();
  for (int cpu : p->shard_cpus) {
    EXPECT_TRUE(std::count(allowed.begin(), allowed.end(), cpu)) << cpu;
  }
  EXPECT_TRUE(pin_current_thread(p->shard_cpus.front()));
}

}  // namespace
}  // namespace horde::affinity

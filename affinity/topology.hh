// The CPU topology this process can use, read from sysfs under a root
// directory given by the caller ("/" in production, a fake tree in tests):
// which CPUs are online, which package and physical core each sits on, its SMT
// siblings, its NUMA node, and which CPUs the kernel isolated (isolcpus=).
// Invariant: topology::cpus lists only CPUs that are both online and allowed,
// ascending, each once; the counts describe that list, not the whole machine.
#pragma once

#include <string>
#include <vector>

#include "base/result.hh"

namespace horde::affinity {

struct cpu_info {
  int cpu = 0;
  int package = 0;    // physical_package_id (socket)
  int core = 0;       // core_id as the kernel numbers it: unique only within a package
  int numa_node = 0;  // 0 when the kernel exposes no node directories (no NUMA)
  bool isolated = false;
  // Every online hardware thread of this physical core, this CPU included, as
  // thread_siblings_list reports them (ascending, allowed or not): the target
  // server and the shards must not split one core between them.
  std::vector<int> siblings;
};

struct topology {
  std::vector<cpu_info> cpus;  // only allowed & online, ascending by cpu
  int packages = 0;            // distinct packages among cpus
  int cores = 0;               // distinct physical cores among cpus
  int numa_nodes = 0;          // distinct NUMA nodes among cpus
  std::vector<int> isolated;   // the kernel's isolated list (machine-wide), ascending
};

// Reads the topology of the CPUs in `allowed` from <root>/sys/devices/system.
// Returns an error naming the file when the online list is missing or a file is
// malformed, or when no allowed CPU is online. A CPU without a topology/
// directory (some hypervisors) counts as its own core on package 0.
result<topology> read_topology(const std::string& root, const std::vector<int>& allowed);

// The CPUs of this process's cgroup v2 cpuset (cpuset.cpus.effective), ascending;
// empty when there is none (cgroup v1, no cpuset controller, or unreadable).
// Looks in the process's own cgroup (from <root>/proc/self/cgroup) first, then
// at the top of <root>/sys/fs/cgroup, which is the container's own cgroup when
// it runs in a cgroup namespace.
std::vector<int> cgroup_cpuset(const std::string& root);

// `allowed` (sched_getaffinity) narrowed to `cpuset`; `allowed` unchanged when
// cpuset is empty or the two do not overlap, since the affinity mask is what the
// kernel actually enforces on this thread.
std::vector<int> restrict_to_cpuset(const std::vector<int>& allowed,
                                    const std::vector<int>& cpuset);

// Formats CPUs in the kernel's cpulist form ("0-3,6,8-9"); sorts and removes
// duplicates first. Returns "" for an empty list.
std::string format_cpu_list(std::vector<int> cpus);

}  // namespace horde::affinity

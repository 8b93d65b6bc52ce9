// The target's own cost as horde samples it once a second (--target-pid,
// --target-cgroup, or the local server found on the URL's port): the
// figures a series point carries, and what the run keeps for the report's
// `target_cost` section (app/target_cost.hh judges them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace horde::app {

// One target (a process or a cgroup), or their sum. CPU is counted from the
// sample taken before the first connection, so a long-running server's
// earlier life is not in it.
struct target_figures {
  uint64_t rss_bytes = 0;  // a cgroup's memory.current (page cache included)
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  uint64_t fds = 0;      // open descriptors, as last counted (a cgroup: 0)
  uint64_t threads = 0;  // a cgroup: pids.current
};

struct target_point {
  target_figures sum;
  std::vector<target_figures> each;  // per target, in target_usage::names' order
};

// The host beside the target over the second before the point.
struct host_point {
  double cpu_user_share = 0;  // of all CPUs' time, 0..1
  double cpu_system_share = 0;
  double cpu_softirq_share = 0;
  uint64_t memory_available_bytes = 0;
  uint64_t loopback_bytes = 0;  // received on lo since the run's start
};

struct target_usage {
  std::vector<std::string> names;  // "pid 4242 (node)", "cgroup /sys/fs/cgroup/app"
  // The targets include horde itself (the embedded server): their cost is
  // inside horde's own figures.
  bool is_horde = false;
  std::optional<target_figures> before_connections;  // when horde's own RSS baseline is taken
  std::optional<target_figures> at_end;              // after the shards returned
  // What sampling cost horde: its CPU time, and how many samples it took.
  double sampling_cpu_seconds = 0;
  uint64_t samples = 0;
  bool fds_walked = false;  // counted entry by entry (a kernel before 6.2)
};

}  // namespace horde::app

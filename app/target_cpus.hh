// Where horde's shards go when the target is a process on this host. Sharing
// CPUs with the server being measured makes each preempt the other: an
// outside user saw 66,314 listen-queue overflows in a 100k ramp against local
// servers that shared horde's CPUs, a few hundred when pinned apart. So by
// default horde leaves a local target its CPUs: the ones it is pinned to, or,
// when it may run anywhere, half of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace horde::app {

struct local_target {
  int pid = 0;
  std::string name;
  std::vector<int> allowed_cpus;  // the target's affinity
};

struct target_cpu_choice {
  std::optional<std::vector<int>> cpus;  // run the shards only on these
  unsigned leave_for_target = 0;         // or keep this many CPUs free
  std::string note;                      // what was decided, for the report
};

// A pure decision: horde's allowed CPUs, the target found listening on the
// URL's port (if any), and whether the user placed horde already (--cpus,
// --leave-for-target), which always wins.
target_cpu_choice choose_target_cpus(const std::vector<int>& horde_cpus,
                                     const std::optional<local_target>& target, bool user_placed);

}  // namespace horde::app

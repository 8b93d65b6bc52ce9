// Which CPUs this process may run on, and pinning a thread to one of them.
// (Topology-aware placement over a sysfs root is a later step; this is the
// minimum the engine needs: the allowed set and a pin.)
#pragma once

#include <vector>

#include "base/result.hh"

namespace horde::affinity {

// The CPUs in this process's affinity mask (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

// Parses a CPU list such as "0-3,6,8-9" (the kernel's cpulist format).
result<std::vector<int>> parse_cpu_list(const std::string& text);

// Pins the calling thread to one CPU.
result<void> pin_current_thread(int cpu);

}  // namespace horde::affinity

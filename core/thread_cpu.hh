// How much CPU the calling thread got, and how long it waited for one: the
// scheduler's own accounting (/proc/thread-self/schedstat: time on a CPU,
// time runnable but waiting on a run queue). A shard that falls behind its
// schedule while waiting more than running was starved by other work on its
// CPUs (the target, other processes), not saturated by its own.
#pragma once

#include <cstdint>
#include <cstdio>

namespace horde::core {

struct thread_cpu {
  uint64_t run_ns = 0;
  uint64_t wait_ns = 0;
};

// Zeros when the kernel does not keep schedstats (CONFIG_SCHED_INFO off).
inline thread_cpu read_thread_cpu() noexcept {
  thread_cpu cpu;
  if (std::FILE* f = std::fopen("/proc/thread-self/schedstat", "r")) {
    unsigned long long run = 0, wait = 0;
    if (std::fscanf(f, "%llu %llu", &run, &wait) == 2) {
      cpu.run_ns = run;
      cpu.wait_ns = wait;
    }
    std::fclose(f);
  }
  return cpu;
}

}  // namespace horde::core

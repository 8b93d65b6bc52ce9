// Where the shards run: CPUs in placement order (affinity/placement), a
// target on this host found by its listening port, and how many shards a
// plan needs when RLIMIT_NOFILE caps each ring's descriptor table. Shared by
// `horde run` and `horde serve`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/target_cpus.hh"
#include "base/result.hh"

namespace horde::app {

struct cpu_choice {
  std::vector<int> cpus;           // one per shard slot, in placement order
  std::vector<std::string> notes;  // what placement decided, for the report
};

// CPUs in placement order: one shard per physical core before any SMT
// sibling, one NUMA node before the next, CPUs left for a local target.
result<cpu_choice> place_on_cpus(const std::string& cpu_list, unsigned leave_for_target);

// `horde run`'s placement: --cpus and --leave-for-target if given, else a
// local target (found listening on the URL's loopback port) keeps its CPUs.
result<cpu_choice> place_run_shards(const std::string& url, const std::string& cpus,
                                    int leave_for_target);

// The process serving a ws:// or wss:// URL on this host's loopback, if it
// can be seen (found by its listening port).
std::optional<local_target> local_target_of(const std::string& url_text);

// Shards needed so that no shard's share exceeds what one ring's file table
// may hold (RLIMIT_NOFILE caps it), rounded up to a multiple of the CPUs;
// `requested` (--shards) wins when not 0.
uint32_t shards_for(uint64_t connections, uint64_t table_cap, size_t cpus, unsigned requested);

}  // namespace horde::app

// Choosing a CPU for every shard: a pure function of a topology and a request,
// so it is tested on made-up machines (glommio's placement is the model).
// Invariant of a successful placement: shard_cpus is non-empty and every CPU in
// it is in the topology (allowed and online).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "affinity/topology.hh"
#include "base/result.hh"

namespace horde::affinity {

struct placement_request {
  std::optional<std::vector<int>> cpus;  // --cpus: only these (isolated ones included)
  std::optional<uint32_t> shards;        // --shards: default one per usable CPU
  // --leave-for-target N: keep at least N CPUs free for a target server on the
  // same host, taken as whole physical cores from the end of the order.
  uint32_t leave_for_target = 0;
  // The engine may need more shards than CPUs (the fd limit caps each ring's
  // file table); the shard count is raised to this and CPUs are reused.
  uint32_t min_shards = 1;
  bool avoid_isolated = true;  // skip isolcpus= CPUs unless --cpus names them
};

struct placement {
  std::vector<int> shard_cpus;     // shard i runs pinned to shard_cpus[i]
  std::vector<std::string> notes;  // what the user should know, one sentence each
};

// Places shards: one per physical core before any SMT sibling; the NUMA node
// (and package) of the first usable CPU filled before the next; isolated CPUs
// skipped unless named; round-robin when there are more shards than CPUs.
// Returns an error when --cpus names a CPU not in the topology, when
// --leave-for-target leaves no CPU, or when --shards is 0.
result<placement> place_shards(const topology& topo, const placement_request& request);

// "shard 0 → cpu 0, shard 1 → cpu 2, ..." for the run report.
std::string describe(const placement& p);

}  // namespace horde::affinity

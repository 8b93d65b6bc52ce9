// Shard placement. The order every CPU gets a rank in, best first:
//   1. its thread rank within its physical core: a shard on an SMT sibling
//      shares execution units and L1/L2 with the other thread, so every core
//      gets one shard before any core gets two;
//   2. its NUMA node, nodes in the order of their lowest usable CPU: a shard's
//      heap lands on its own node once pinned, and a shared target or the
//      controller thread stays close;
//   3. its package, likewise (a package can hold several nodes, or none);
//   4. its core, by the core's lowest usable CPU, then the CPU number.
// Rank 1 before rank 2 is deliberate: on a 2 × 32-core SMT box, 40 shards use
// 32 cores of node 0 and 8 of node 1 rather than 20 cores' siblings of node 0.
#include "affinity/placement.hh"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace horde::affinity {
namespace {

// A physical core is identified by its package and its lowest sibling, which
// is unique machine-wide; core_id alone repeats across packages.
using core_id = std::pair<int, int>;

core_id core_of(const cpu_info& info) {
  return {info.package, info.siblings.front()};
}

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// "CPU 3" or "CPUs 2-3,7", and the verb agreeing with it ("stays", "stay").
std::string cpus_phrase(const std::vector<int>& cpus) {
  return (cpus.size() == 1 ? "CPU " : "CPUs ") + format_cpu_list(cpus);
}
const char* agree(const std::vector<int>& cpus, const char* one, const char* many) {
  return cpus.size() == 1 ? one : many;
}

struct ranked_cpu {
  const cpu_info* info;
  size_t thread_rank;
  int node_key;
  int package_key;
  int core_key;

  auto key() const { return std::tie(thread_rank, node_key, package_key, core_key, info->cpu); }
};

// Ranks `usable` as the file comment describes. Every key is a lowest CPU
// number among the usable CPUs, which is what makes "the node of the first
// allowed CPU first" hold however the firmware numbered nodes and packages.
std::vector<ranked_cpu> rank(const std::vector<const cpu_info*>& usable) {
  std::map<int, int> node_key;
  std::map<int, int> package_key;
  std::map<core_id, std::vector<int>> threads;
  for (const cpu_info* info : usable) {
    node_key.try_emplace(info->numa_node, info->cpu);  // usable is ascending
    package_key.try_emplace(info->package, info->cpu);
    threads[core_of(*info)].push_back(info->cpu);
  }
  std::vector<ranked_cpu> ranked;
  for (const cpu_info* info : usable) {
    const std::vector<int>& mine = threads[core_of(*info)];
    const size_t thread_rank =
        size_t(std::find(mine.begin(), mine.end(), info->cpu) - mine.begin());
    ranked.push_back(
        {info, thread_rank, node_key[info->numa_node], package_key[info->package], mine.front()});
  }
  std::sort(ranked.begin(), ranked.end(),
            [](const ranked_cpu& a, const ranked_cpu& b) { return a.key() < b.key(); });
  return ranked;
}

// The physical cores of `ranked`, in the order they first receive a shard,
// each with its usable CPUs.
std::vector<std::vector<int>> cores_in_order(const std::vector<ranked_cpu>& ranked) {
  std::vector<std::vector<int>> cores;
  std::map<core_id, size_t> index;
  for (const ranked_cpu& r : ranked) {
    auto [it, added] = index.try_emplace(core_of(*r.info), cores.size());
    if (added) cores.emplace_back();
    cores[it->second].push_back(r.info->cpu);
  }
  return cores;
}

// Chooses the CPUs kept free for a target on the same host: whole cores from
// the end of the order, so the target's threads never share a core with a
// shard. Rounds up to whole cores when N is odd on an SMT machine; when whole
// cores would take every CPU, takes exactly N threads and says they share.
std::vector<int> reserve_for_target(const std::vector<ranked_cpu>& ranked, uint32_t n,
                                    std::vector<std::string>& notes) {
  const std::vector<std::vector<int>> cores = cores_in_order(ranked);
  std::vector<int> reserved;
  for (auto core = cores.rbegin(); core != cores.rend() && reserved.size() < n; ++core) {
    reserved.insert(reserved.end(), core->begin(), core->end());
  }
  const std::string flag = "--leave-for-target " + std::to_string(n);
  if (reserved.size() < ranked.size()) {
    if (reserved.size() > n) {
      notes.push_back(flag + ": leaving " + plural(reserved.size(), "CPU") + " (" +
                      format_cpu_list(reserved) + ") so the target gets whole cores");
    } else {
      notes.push_back(flag + ": " + cpus_phrase(reserved) + " " + agree(reserved, "stays", "stay") +
                      " free for the target");
    }
    return reserved;
  }
  reserved.clear();
  for (auto core = cores.rbegin(); core != cores.rend() && reserved.size() < n; ++core) {
    for (auto cpu = core->rbegin(); cpu != core->rend() && reserved.size() < n; ++cpu) {
      reserved.push_back(*cpu);
    }
  }
  notes.push_back(flag + ": " + cpus_phrase(reserved) + " " + agree(reserved, "stays", "stay") +
                  " free for the target but " + agree(reserved, "shares", "share") +
                  " a physical core with a shard (too few cores to give it whole ones)");
  return reserved;
}

}  // namespace

result<placement> place_shards(const topology& topo, const placement_request& request) {
  if (request.shards && *request.shards == 0) {
    return make_error("--shards 0: at least one shard is needed");
  }
  if (topo.cpus.empty()) return make_error("no usable CPU: the topology lists none");

  placement out;
  std::vector<int> topo_cpus;
  for (const cpu_info& info : topo.cpus)
    topo_cpus.push_back(info.cpu);

  // Which CPUs shards may use, and which other CPUs stay free regardless (the
  // allowed ones outside --cpus), since those count towards --leave-for-target.
  std::vector<const cpu_info*> usable;
  std::vector<int> free_anyway;
  if (request.cpus) {
    std::set<int> named(request.cpus->begin(), request.cpus->end());
    if (named.empty()) return make_error("--cpus names no CPU");
    std::vector<int> missing;
    for (int cpu : named) {
      if (!std::binary_search(topo_cpus.begin(), topo_cpus.end(), cpu)) missing.push_back(cpu);
    }
    if (!missing.empty()) {
      return make_error("--cpus names " + cpus_phrase(missing) +
                        ", which this process may not use: allowed and online are " +
                        format_cpu_list(topo_cpus) + " (taskset, cgroup cpuset, offline CPUs)");
    }
    for (const cpu_info& info : topo.cpus) {
      if (named.count(info.cpu)) {
        usable.push_back(&info);
      } else if (!(request.avoid_isolated && info.isolated)) {
        free_anyway.push_back(info.cpu);
      }
    }
  } else {
    std::vector<int> skipped;
    for (const cpu_info& info : topo.cpus) {
      if (request.avoid_isolated && info.isolated) {
        skipped.push_back(info.cpu);
      } else {
        usable.push_back(&info);
      }
    }
    if (usable.empty()) {
      // Someone started us on isolated CPUs on purpose (taskset onto isolcpus=
      // is the usual way to use them): respect that rather than refuse.
      for (const cpu_info& info : topo.cpus)
        usable.push_back(&info);
      out.notes.push_back("every allowed CPU is isolated (" + format_cpu_list(skipped) +
                          "); using them, since this process was started on them");
    } else if (!skipped.empty()) {
      out.notes.push_back("skipping isolated " + cpus_phrase(skipped) +
                          " (name them in --cpus to use them)");
    }
  }

  std::vector<ranked_cpu> ranked = rank(usable);

  if (request.leave_for_target > 0) {
    const uint32_t n = request.leave_for_target;
    const std::string flag = "--leave-for-target " + std::to_string(n);
    if (n >= ranked.size() + free_anyway.size()) {
      std::vector<int> all = free_anyway;
      for (const cpu_info* info : usable)
        all.push_back(info->cpu);
      return make_error(flag + " leaves no CPU for the shards: only " +
                        plural(all.size(), "usable CPU") + " (" + format_cpu_list(all) +
                        "); leave fewer, or run the target on another host");
    }
    if (n <= free_anyway.size()) {
      out.notes.push_back(flag + ": " + cpus_phrase(free_anyway) + " " +
                          agree(free_anyway, "is", "are") + " outside --cpus and " +
                          agree(free_anyway, "stays", "stay") + " free for the target");
    } else {
      const uint32_t still = n - uint32_t(free_anyway.size());
      std::vector<int> reserved = reserve_for_target(ranked, still, out.notes);
      std::sort(reserved.begin(), reserved.end());
      std::erase_if(ranked, [&](const ranked_cpu& r) {
        return std::binary_search(reserved.begin(), reserved.end(), r.info->cpu);
      });
    }
  }

  const size_t cpus = ranked.size();
  size_t shards = request.shards ? *request.shards : cpus;
  if (shards < request.min_shards) {
    out.notes.push_back("raised " + plural(shards, "shard") + " to " +
                        std::to_string(request.min_shards) + ", the minimum the engine needs");
    shards = request.min_shards;
  }
  out.shard_cpus.reserve(shards);
  for (size_t i = 0; i < shards; ++i)
    out.shard_cpus.push_back(ranked[i % cpus].info->cpu);

  if (shards > cpus) {
    out.notes.push_back(plural(shards, "shard") + " on " + plural(cpus, "CPU") +
                        ": shards wrap round-robin, up to " +
                        std::to_string((shards + cpus - 1) / cpus) + " per CPU");
  }
  std::set<core_id> cores;
  std::set<int> nodes;
  const size_t used = std::min(shards, cpus);
  for (size_t i = 0; i < used; ++i) {
    cores.insert(core_of(*ranked[i].info));
    nodes.insert(ranked[i].info->numa_node);
  }
  if (cores.size() < used) {
    out.notes.push_back(plural(used, "CPU") + " on " + plural(cores.size(), "physical core") +
                        ": some shards share a core with an SMT sibling");
  }
  if (nodes.size() > 1) {
    out.notes.push_back("shards span NUMA nodes " +
                        format_cpu_list(std::vector<int>(nodes.begin(), nodes.end())));
  }
  return out;
}

std::string describe(const placement& p) {
  std::string text;
  for (size_t i = 0; i < p.shard_cpus.size(); ++i) {
    if (i > 0) text += ", ";
    text += "shard " + std::to_string(i) + " → cpu " + std::to_string(p.shard_cpus[i]);
  }
  return text;
}

}  // namespace horde::affinity

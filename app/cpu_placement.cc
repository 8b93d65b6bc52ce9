#include "app/cpu_placement.hh"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>

#include "affinity/cpu_set.hh"
#include "affinity/placement.hh"
#include "affinity/topology.hh"
#include "app/target_url.hh"
#include "sysctl/proc_ports.hh"

namespace horde::app {

result<cpu_choice> place_on_cpus(const std::string& cpu_list, unsigned leave_for_target) {
  affinity::placement_request where;
  if (!cpu_list.empty()) {
    auto parsed = affinity::parse_cpu_list(cpu_list);
    if (!parsed) return make_error("--cpus: " + parsed.error().message);
    where.cpus = *parsed;
  }
  where.leave_for_target = leave_for_target;
  cpu_choice choice;
  choice.cpus = where.cpus ? *where.cpus : affinity::allowed_cpus();
  auto topology = affinity::read_topology(
      "/", affinity::restrict_to_cpuset(affinity::allowed_cpus(), affinity::cgroup_cpuset("/")));
  if (topology) {
    auto placed = affinity::place_shards(*topology, where);
    if (!placed) return make_error(placed.error().message);
    choice.cpus = placed->shard_cpus;
    choice.notes = placed->notes;
    choice.notes.push_back(affinity::describe(*placed));
  } else if (leave_for_target > 0) {
    return make_error("--leave-for-target needs the CPU topology: " + topology.error().message);
  }
  return choice;
}

result<cpu_choice> place_run_shards(const std::string& url, const std::string& cpus,
                                    int leave_for_target) {
  const bool user_placed = !cpus.empty() || leave_for_target >= 0;
  const target_cpu_choice for_target = choose_target_cpus(
      affinity::allowed_cpus(), user_placed ? std::nullopt : local_target_of(url), user_placed);
  std::string cpu_list = cpus;
  if (for_target.cpus) cpu_list = fmt::format("{}", fmt::join(*for_target.cpus, ","));
  const unsigned leave =
      leave_for_target >= 0 ? unsigned(leave_for_target) : for_target.leave_for_target;
  auto placed = place_on_cpus(cpu_list, leave);
  if (!placed) return placed;
  if (!for_target.note.empty()) placed->notes.insert(placed->notes.begin(), for_target.note);
  return placed;
}

std::optional<local_target> local_target_of(const std::string& url_text) {
  if (url_text.empty()) return std::nullopt;  // the embedded server is horde itself
  auto url = parse_target_url(url_text);
  if (!url) return std::nullopt;
  auto address = resolve(url->host, url->port);
  if (!address || !is_ipv4_loopback(*address)) return std::nullopt;
  auto owner = sysctl::find_listener_process("/", url->port);
  if (!owner || owner->pid == getpid()) return std::nullopt;
  auto allowed = affinity::parse_cpu_list(owner->cpus_allowed_list);
  if (!allowed) return std::nullopt;
  return local_target{owner->pid, owner->name, *allowed};
}

uint32_t shards_for(uint64_t connections, uint64_t table_cap, size_t cpus, unsigned requested) {
  if (requested) return requested;
  const uint64_t by_table = (connections + table_cap - 1) / table_cap;
  const uint32_t m = uint32_t(std::max<size_t>(cpus, 1));
  const uint32_t n = uint32_t(std::max<uint64_t>(by_table, cpus));
  return (n + m - 1) / m * m;
}

}  // namespace horde::app

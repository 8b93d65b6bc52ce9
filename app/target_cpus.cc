#include "app/target_cpus.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace horde::app {

target_cpu_choice choose_target_cpus(const std::vector<int>& horde_cpus,
                                     const std::optional<local_target>& target, bool user_placed) {
  target_cpu_choice choice;
  if (!target || user_placed || horde_cpus.empty()) return choice;
  const std::string who = fmt::format("the target ({}, pid {})", target->name, target->pid);
  std::vector<int> rest;
  for (int cpu : horde_cpus) {
    if (std::find(target->allowed_cpus.begin(), target->allowed_cpus.end(), cpu) ==
        target->allowed_cpus.end())
      rest.push_back(cpu);
  }
  const bool pinned_apart_possible = !rest.empty() && rest.size() < horde_cpus.size();
  if (pinned_apart_possible) {
    choice.cpus = rest;
    choice.note = fmt::format("{} is pinned to CPUs {}: horde's shards run on CPUs {}", who,
                              fmt::join(target->allowed_cpus, ","), fmt::join(rest, ","));
    return choice;
  }
  if (!rest.empty()) {
    // The target is pinned to none of horde's CPUs: nothing to leave.
    return choice;
  }
  if (horde_cpus.size() < 2) {
    choice.note = fmt::format("{} shares horde's only CPU: each preempts the other", who);
    return choice;
  }
  choice.leave_for_target = unsigned(horde_cpus.size() / 2);
  choice.note = fmt::format(
      "{} may run on every CPU: {} of {} CPUs left for it (--leave-for-target 0 shares them, "
      "--cpus chooses)",
      who, choice.leave_for_target, horde_cpus.size());
  return choice;
}

}  // namespace horde::app

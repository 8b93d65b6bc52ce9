// Applies check lines' sysctl raises. The decision "is the new value more
// room?" is made against the file as it is now, not as the plan saw it, so a
// knob someone raised in between is left alone.
#include "sysctl/apply_fixes.hh"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sysctl/proc_file.hh"

namespace horde::sysctl {
namespace {

std::string numbers_text(const std::vector<uint64_t>& numbers) {
  std::string text;
  for (uint64_t n : numbers) {
    if (!text.empty()) text += ' ';
    text += std::to_string(n);
  }
  return text;
}

// tcp_tw_reuse: 1 (all connections) covers more than 2 (loopback only), which
// covers more than 0 (off); any other value is unknown and never replaced.
int tw_reuse_rank(uint64_t value) {
  return value == 1 ? 2 : value == 2 ? 1 : value == 0 ? 0 : 3;
}

// The value with at least as much room as both: a port range widens, a
// reuse mode ranks, everything else takes the larger of each field.
std::vector<uint64_t> more_room(const std::string& proc_sys_path,
                                const std::vector<uint64_t>& current,
                                const std::vector<uint64_t>& wanted) {
  if (proc_sys_path == "net/ipv4/ip_local_port_range") {
    return {std::min(current[0], wanted[0]), std::max(current[1], wanted[1])};
  }
  if (proc_sys_path == "net/ipv4/tcp_tw_reuse") {
    return tw_reuse_rank(wanted[0]) > tw_reuse_rank(current[0]) ? wanted : current;
  }
  std::vector<uint64_t> merged(current.size());
  for (size_t i = 0; i < current.size(); ++i)
    merged[i] = std::max(current[i], wanted[i]);
  return merged;
}

void apply_sysctl(const check_line& line, const std::string& root, apply_outcome& outcome) {
  const std::string name = sysctl_name(line.proc_sys_path);
  const std::string path = under_root(root, "proc/sys/" + line.proc_sys_path);
  auto text = read_small_file(path);
  if (!text) {
    outcome.failed.push_back(name + ": cannot read " + path);
    return;
  }
  auto current = parse_numbers(*text);
  auto wanted = parse_numbers(line.raise_to);
  if (!current || !wanted || current->size() != wanted->size()) {
    outcome.failed.push_back(name + ": " + path + " holds '" + *text + "', not like '" +
                             line.raise_to + "'");
    return;
  }
  const std::vector<uint64_t> next = more_room(line.proc_sys_path, *current, *wanted);
  if (next == *current) {
    outcome.skipped.push_back(name + ": already " + numbers_text(*current) + ", not changed to " +
                              line.raise_to);
    return;
  }
  if (auto written = write_small_file(path, numbers_text(next) + "\n"); !written) {
    outcome.failed.push_back(name + ": " + written.error().message);
    return;
  }
  // The kernel may clamp a write (tcp_max_orphans, nr_open's upper bound): say what it kept.
  auto after = read_small_file(path);
  auto kept = after ? parse_numbers(*after) : std::nullopt;
  if (!kept || *kept != next) {
    outcome.failed.push_back(name + ": wrote " + numbers_text(next) + ", the kernel kept " +
                             (kept ? numbers_text(*kept) : std::string("(unreadable)")));
    return;
  }
  outcome.applied.push_back(name + ": " + numbers_text(*current) + " -> " + numbers_text(next));
}

// Raises this process's RLIMIT_NOFILE; only meaningful for the process that
// will hold the sockets (horde run does this at start on its own).
void raise_own_nofile(const kernel_limits& limits, apply_outcome& outcome) {
  rlimit now{};
  if (getrlimit(RLIMIT_NOFILE, &now) != 0) {
    outcome.failed.push_back(std::string("RLIMIT_NOFILE: getrlimit: ") + std::strerror(errno));
    return;
  }
  rlimit next = now;
  if (limits.can_raise_hard && limits.nr_open) {
    // CAP_SYS_RESOURCE lifts hard too, as far as a ring's table can use.
    const rlim_t ceiling = rlim_t(std::min<uint64_t>(*limits.nr_open, max_ring_file_slots));
    next.rlim_max = std::max(next.rlim_max, ceiling);
  }
  next.rlim_cur = next.rlim_max;  // RLIM_INFINITY is the largest rlim_t
  // The kernel refuses any RLIMIT_NOFILE above fs.nr_open.
  if (limits.nr_open) next.rlim_cur = std::min(next.rlim_cur, rlim_t(*limits.nr_open));
  next.rlim_cur = std::max(next.rlim_cur, now.rlim_cur);
  if (next.rlim_cur == now.rlim_cur && next.rlim_max == now.rlim_max) return;
  if (setrlimit(RLIMIT_NOFILE, &next) != 0) {
    outcome.failed.push_back(std::string("RLIMIT_NOFILE: setrlimit: ") + std::strerror(errno));
    return;
  }
  outcome.applied.push_back("RLIMIT_NOFILE (this process): soft " + std::to_string(now.rlim_cur) +
                            " -> " + std::to_string(next.rlim_cur) + ", hard " +
                            std::to_string(now.rlim_max) + " -> " + std::to_string(next.rlim_max));
}

}  // namespace

apply_outcome apply_fixes(const std::vector<check_line>& lines, const kernel_limits& limits,
                          const std::string& root) {
  apply_outcome outcome;
  for (const check_line& line : lines) {
    if (line.verdict == verdict::ok) continue;
    if (!line.proc_sys_path.empty() && !line.raise_to.empty()) {
      apply_sysctl(line, root, outcome);
    } else if (line.knob == "RLIMIT_NOFILE") {
      // Another process's limit cannot be raised from here: the lasting fix
      // is in the shell, the unit or limits.conf that starts horde.
      outcome.skipped.push_back("RLIMIT_NOFILE: per process, set where horde starts: " + line.fix);
    } else if (!line.fix.empty()) {
      outcome.skipped.push_back(line.knob + ": not a sysctl raise: " + line.fix);
    }
  }
  if (root == "/") raise_own_nofile(limits, outcome);
  return outcome;
}

}  // namespace horde::sysctl

#include "app/target_watch.hh"

#include <unistd.h>

#include <fmt/format.h>

#include <ctime>

#include "app/cpu_placement.hh"
#include "core/clock.hh"
#include "sysctl/proc_file.hh"

namespace horde::app {
namespace {

double thread_cpu_seconds() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

std::string process_name(const std::string& root, int pid) {
  auto comm = sysctl::read_small_file(sysctl::under_root(root, fmt::format("proc/{}/comm", pid)));
  if (!comm) return "?";
  while (!comm->empty() && comm->back() == '\n')
    comm->pop_back();
  return *comm;
}

// A relative --target-cgroup is under the cgroup v2 mount.
std::string cgroup_directory(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return "/sys/fs/cgroup/" + path;
}

target_figures minus_cpu(target_figures now, const target_figures& baseline) {
  now.cpu_user_seconds -= baseline.cpu_user_seconds;
  now.cpu_system_seconds -= baseline.cpu_system_seconds;
  return now;
}

void add(target_figures& sum, const target_figures& one) {
  sum.rss_bytes += one.rss_bytes;
  sum.cpu_user_seconds += one.cpu_user_seconds;
  sum.cpu_system_seconds += one.cpu_system_seconds;
  sum.fds += one.fds;
  sum.threads += one.threads;
}

// A walk of the fd directory that took `cost_ns` of CPU waits 400 times as
// long before the next: at most 0.25% of a CPU.
constexpr uint64_t walk_spacing = 400;

}  // namespace

result<target_watch> target_watch::choose(const run_options& options, bool embedded,
                                          std::vector<std::string>& notes) {
  target_watch watch;
  watch._ticks = uint64_t(sysconf(_SC_CLK_TCK));
  watch._page = uint64_t(sysconf(_SC_PAGESIZE));
  std::vector<std::string> names;
  for (int pid : options.target_pids) {
    if (pid <= 0 || !sysctl::read_process_sample(watch._root, pid, watch._ticks, watch._page))
      return make_error(fmt::format(
          "--target-pid {}: no such process to sample (/proc/{}/stat cannot be read)", pid, pid));
    watch._pids.push_back(pid);
  }
  if (!options.target_cgroup.empty()) {
    watch._cgroup = cgroup_directory(options.target_cgroup);
    if (!sysctl::read_cgroup_sample(watch._cgroup))
      return make_error(fmt::format(
          "--target-cgroup {}: not a cgroup v2 directory (no memory.current, cpu.stat or "
          "pids.current in {})",
          options.target_cgroup, watch._cgroup));
  }
  if (!watch.any() && embedded) {
    watch._pids.push_back(int(getpid()));
    notes.push_back(
        "target: sampling horde's own process, where the embedded server runs: the target's "
        "cost below is inside horde's own figures");
  } else if (!watch.any()) {
    if (auto local = local_target_of(options.url)) {
      watch._pids.push_back(local->pid);
      notes.push_back(
          fmt::format("target: sampling pid {} ({}), the process listening on the URL's port "
                      "(--target-pid to name others)",
                      local->pid, local->name));
    }
  }
  return watch;
}

std::optional<target_figures> target_watch::read_pid(size_t index, run_result& result) {
  const int pid = _pids[index];
  const auto sample = sysctl::read_process_sample(_root, pid, _ticks, _page);
  if (!sample) return std::nullopt;
  target_figures f;
  f.rss_bytes = sample->rss_bytes;
  f.cpu_user_seconds = sample->cpu_user_seconds;
  f.cpu_system_seconds = sample->cpu_system_seconds;
  f.threads = sample->threads;
  const uint64_t now = core::now_ns();
  if (now >= _next_walk_ns[index]) {
    const double before = thread_cpu_seconds();
    if (const auto fds = sysctl::count_process_fds(_root, pid)) {
      _last_fds[index] = fds->fds;
      if (fds->walked) {
        result.sampled_target.fds_walked = true;
        _next_walk_ns[index] = now + uint64_t((thread_cpu_seconds() - before) * 1e9) * walk_spacing;
      }
    }
  }
  f.fds = _last_fds[index];
  return f;
}

target_point target_watch::read_targets(run_result& result) {
  target_point point;
  for (size_t i = 0; i < _pids.size(); ++i) {
    // A target that has exited counts as nothing from then on: its RSS is
    // gone, its CPU stays what it was.
    target_figures figures;
    if (auto f = read_pid(i, result)) {
      figures = minus_cpu(*f, _baseline[i]);
    } else {
      figures.cpu_user_seconds = _last[i].cpu_user_seconds;
      figures.cpu_system_seconds = _last[i].cpu_system_seconds;
    }
    _last[i] = figures;
    point.each.push_back(figures);
    add(point.sum, figures);
  }
  if (!_cgroup.empty()) {
    target_figures f;
    if (const auto cg = sysctl::read_cgroup_sample(_cgroup)) {
      f.rss_bytes = cg->memory_bytes;
      f.cpu_user_seconds = cg->cpu_user_seconds;
      f.cpu_system_seconds = cg->cpu_system_seconds;
      f.threads = cg->pids;
    }
    f = minus_cpu(f, _baseline[_pids.size()]);
    point.each.push_back(f);
    add(point.sum, f);
  }
  return point;
}

host_point target_watch::read_host() {
  const auto sample = sysctl::read_host_sample(_root);
  host_point host;
  if (sample.cpu) {
    if (_host_cpu) {
      const auto shares = sysctl::shares_between(*_host_cpu, *sample.cpu);
      host.cpu_user_share = shares.user;
      host.cpu_system_share = shares.system;
      host.cpu_softirq_share = shares.softirq;
    }
    _host_cpu = sample.cpu;
  }
  host.memory_available_bytes = sample.memory_available_bytes.value_or(0);
  if (sample.loopback && sample.loopback->received >= _loopback_start)
    host.loopback_bytes = sample.loopback->received - _loopback_start;
  return host;
}

void target_watch::before_connections(run_result& result) {
  if (!any()) return;
  const double started = thread_cpu_seconds();
  auto& usage = result.sampled_target;
  usage.is_horde = _pids.size() == 1 && _pids[0] == int(getpid()) && _cgroup.empty();
  for (int pid : _pids)
    usage.names.push_back(fmt::format("pid {} ({})", pid, process_name(_root, pid)));
  if (!_cgroup.empty()) usage.names.push_back("cgroup " + _cgroup);
  const size_t targets = _pids.size() + (_cgroup.empty() ? 0 : 1);
  _baseline.assign(targets, target_figures{});
  _last.assign(targets, target_figures{});
  _last_fds.assign(_pids.size(), 0);
  _next_walk_ns.assign(_pids.size(), 0);
  // The first reading is the baseline: CPU from here on is the run's.
  const target_point first = read_targets(result);
  for (size_t i = 0; i < first.each.size(); ++i)
    _baseline[i] = first.each[i];
  target_figures before = first.sum;
  before.cpu_user_seconds = before.cpu_system_seconds = 0;
  usage.before_connections = before;
  const auto host = sysctl::read_host_sample(_root);
  _host_cpu = host.cpu;
  if (host.loopback) _loopback_start = host.loopback->received;
  usage.sampling_cpu_seconds += thread_cpu_seconds() - started;
  ++usage.samples;
}

void target_watch::each_second(series_point& point, run_result& result) {
  if (!any()) return;
  const double started = thread_cpu_seconds();
  point.target = read_targets(result);
  if (point.target->each.size() < 2) point.target->each.clear();
  point.host = read_host();
  result.sampled_target.sampling_cpu_seconds += thread_cpu_seconds() - started;
  ++result.sampled_target.samples;
}

void target_watch::at_end(run_result& result) {
  if (!any()) return;
  std::fill(_next_walk_ns.begin(), _next_walk_ns.end(), 0);
  result.sampled_target.at_end = read_targets(result).sum;
}

}  // namespace horde::app

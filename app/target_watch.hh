// Samples the target's own cost and the host beside it once a second, on
// the controller's thread (app/run_watch.cc calls each_second): RSS, CPU,
// open descriptors and threads of each --target-pid, a --target-cgroup's
// memory, CPU and pids, else the embedded server (horde itself) or the
// process found listening on the URL's loopback port. The readers are
// sysctl/process_stats.hh and sysctl/host_stats.hh.
//
// Its own cost is measured (thread CPU time around each sample) and
// reported: the budget is under 1% of a CPU. Counting descriptors is
// the one read that grows with the target: on Linux 6.2+ it is one stat()
// (the fd directory's size is the count); on older kernels it walks the
// directory, and is then done only as often as keeps it under 0.25% of a CPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/run_plan.hh"
#include "app/run_result.hh"
#include "base/result.hh"
#include "sysctl/host_stats.hh"
#include "sysctl/process_stats.hh"

namespace horde::app {

class target_watch {
 public:
  // The targets the flags name, else horde itself when the server is
  // embedded, else the listener on the URL's loopback port; none is fine
  // (nothing is sampled). Notes say which was chosen and why. Error: a
  // --target-pid or --target-cgroup that cannot be read now.
  static result<target_watch> choose(const run_options& options, bool embedded,
                                     std::vector<std::string>& notes);

  bool any() const noexcept { return !_pids.empty() || !_cgroup.empty(); }

  // The baseline, taken with horde's own (run_command.cc): CPU counts from here.
  void before_connections(run_result& result);
  // Fills point.target and point.host.
  void each_second(series_point& point, run_result& result);
  void at_end(run_result& result);

 private:
  target_point read_targets(run_result& result);
  std::optional<target_figures> read_pid(size_t index, run_result& result);
  host_point read_host();

  std::vector<int> _pids;
  std::string _cgroup;  // a directory; empty: none
  std::string _root = "/";
  uint64_t _ticks = 100, _page = 4096;
  // Per target: CPU at the baseline, the last fd count, when to walk next.
  std::vector<target_figures> _baseline;
  std::vector<target_figures> _last;  // what an exited target last showed
  std::vector<uint64_t> _last_fds;
  std::vector<uint64_t> _next_walk_ns;
  std::optional<sysctl::host_cpu_ticks> _host_cpu;
  uint64_t _loopback_start = 0;
};

}  // namespace horde::app

// What watches a run beside the controller's own loop: the target's sampler
// (app/target_watch.hh) and the Prometheus endpoint
// (app/metrics_listener.hh), both fed each second's point and snapshot.
#pragma once

#include <memory>

#include "app/metrics_listener.hh"
#include "app/run_plan.hh"
#include "app/run_result.hh"
#include "app/run_watch.hh"
#include "app/target_watch.hh"
#include "base/result.hh"

namespace horde::app {

struct run_observers {
  target_watch targets;
  std::unique_ptr<metrics_listener> metrics;  // --metrics-listen only
  const core::client_plan* plan = nullptr;

  // Chooses the targets and starts the endpoint (printing its address, so
  // a port the kernel picked can be found). Error: a flag naming a process,
  // cgroup or address that cannot be used (a usage error).
  static result<run_observers> start(const run_options& options, const run_plan& plan,
                                     run_result& result);

  void before_connections(run_result& result) { targets.before_connections(result); }
  each_second_hook each_second(run_result& result);
  void at_end(run_result& result);
};

}  // namespace horde::app

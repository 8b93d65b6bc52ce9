#include "app/run_observers.hh"

#include <fmt/format.h>

#include <cstdio>

#include "app/prometheus_text.hh"

namespace horde::app {

result<run_observers> run_observers::start(const run_options& options, const run_plan& plan,
                                           run_result& result) {
  run_observers observers;
  observers.plan = &plan.client;
  auto targets = target_watch::choose(options, plan.embedded, result.notes);
  if (!targets) return targets.error();
  observers.targets = std::move(*targets);
  if (!options.metrics_listen.empty()) {
    observers.metrics = std::make_unique<metrics_listener>();
    // Before the first second, a scrape finds every family at zero.
    observers.metrics->publish(prometheus_text(core::metrics_snapshot{}, {}, {}, series_point{}));
    auto port = observers.metrics->start(options.metrics_listen);
    if (!port) return port.error();
    const std::string host = options.metrics_listen.substr(0, options.metrics_listen.rfind(':'));
    const std::string where = fmt::format("http://{}:{}/metrics", host, *port);
    // Printed even with --quiet: with port 0 it is the only way to know it.
    fmt::print(stderr, "horde run: metrics at {}\n", where);
    std::fflush(stderr);
    result.notes.push_back("metrics: Prometheus text served at " + where + " while the run lasted");
  }
  return observers;
}

each_second_hook run_observers::each_second(run_result& result) {
  return [this, &result](series_point& point, const core::metrics_snapshot& snapshot) {
    targets.each_second(point, result);
    if (metrics)
      metrics->publish(
          prometheus_text(snapshot, plan->named.counters, plan->named.histograms, point));
  };
}

void run_observers::at_end(run_result& result) {
  targets.at_end(result);
  if (metrics) metrics->stop();
}

}  // namespace horde::app

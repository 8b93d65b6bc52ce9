// The controller's loop while shards run: a progress line and a series
// point once a second (each with its interval's own percentiles), signals
// (the first stops the run cleanly, the second ends it at once), and a
// watchdog: a shard whose loop stops turning is named in the report, and a
// run past every deadline is ended, so the report is always written.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "app/run_result.hh"
#include "app/threshold.hh"
#include "core/engine.hh"
#include "core/histogram.hh"
#include "core/metrics.hh"

namespace horde::app {

// The two snapshots the controller reads shards into, made once before the
// run (so their memory is in the baseline of memory per connection, not
// counted against the connections) and reused every second.
struct watch_snapshots {
  std::unique_ptr<core::metrics_snapshot> before = std::make_unique<core::metrics_snapshot>();
  std::unique_ptr<core::metrics_snapshot> now = std::make_unique<core::metrics_snapshot>();

  // Reads every (idle) shard into both once, so their pages are resident.
  void touch(const core::client_engine& engine) {
    engine.snapshot(*before);
    engine.snapshot(*now);
    before->reset();
    now->reset();
  }
};

// What else reads each second's point and snapshot before the point is
// kept: the target's sampler fills its fields, the metrics endpoint
// publishes (app/target_watch.hh, app/metrics_listener.hh).
using each_second_hook = std::function<void(series_point&, const core::metrics_snapshot&)>;

// `abort_on`: the `:abort` thresholds, judged on each second's snapshot; the
// first to fail stops the run as a first signal does (result.stopped_by).
void watch_run(core::client_engine& engine, const core::client_plan& plan, bool quiet,
               core::server_engine* server, uint64_t start, watch_snapshots& snapshots,
               run_result& result, const std::vector<threshold>& abort_on = {},
               const each_second_hook& each_second = {});

// The interval's percentiles: `now` minus `before`, two snapshots of one histogram.
interval_latency interval_between(const core::histogram& now, const core::histogram& before);

// A series point from a snapshot; `before` is the previous point's snapshot.
series_point series_point_of(const core::metrics_snapshot& now,
                             const core::metrics_snapshot& before, double t, double interval);

}  // namespace horde::app

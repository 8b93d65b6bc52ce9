// The controller's loop while shards run: a progress line and a series
// point once a second (each with its interval's own percentiles), signals
// (the first stops the run cleanly, the second ends it at once), and a
// watchdog: a shard whose loop stops turning is named in the report, and a
// run past every deadline is ended, so the report is always written.
#pragma once

#include <cstdint>

#include "app/run_result.hh"
#include "core/engine.hh"
#include "core/histogram.hh"
#include "core/metrics.hh"

namespace horde::app {

void watch_run(core::client_engine& engine, const core::client_plan& plan, bool quiet,
               core::server_engine* server, uint64_t start, run_result& result);

// The interval's percentiles: `now` minus `before`, two snapshots of one histogram.
interval_latency interval_between(const core::histogram& now, const core::histogram& before);

// A series point from a snapshot; `before` is the previous point's snapshot.
series_point series_point_of(const core::metrics_snapshot& now,
                             const core::metrics_snapshot& before, double t, double interval);

}  // namespace horde::app

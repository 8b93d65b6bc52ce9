// The Prometheus text exposition format (0.0.4) of a run's latest
// once-a-second snapshot: counters as `_total`, gauges, and latencies as
// real Prometheus histograms — cumulative `_bucket{le=...}` counts over one
// fixed set of bounds, `_sum` and `_count` — so histograms from several
// horde instances add up in PromQL (a percentile gauge cannot).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "app/run_result.hh"
#include "core/histogram.hh"
#include "core/metrics.hh"

namespace horde::app {

// The `le` bounds in seconds (then +Inf): 100 us to 10 s, 1-2.5-5 steps.
inline constexpr std::array<double, 16> prometheus_bounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

// Cumulative counts per bound, in horde's buckets: a bucket counts under a
// bound when its highest value is within it (never a value claimed faster
// than it was, as value_at_quantile); the last is every record (+Inf).
std::array<uint64_t, prometheus_bounds.size() + 1> cumulative_counts(const core::histogram& h);

// A label value with \, " and newline escaped as the format asks.
std::string label_value(const std::string& text);

// The whole exposition: `named_counters` and `named_histograms` are the
// plan's names (client_plan::named) for the snapshot's named values;
// `point` gives the target's and the host's gauges when it has them.
std::string prometheus_text(const core::metrics_snapshot& snapshot,
                            const std::vector<std::string>& named_counters,
                            const std::vector<std::string>& named_histograms,
                            const series_point& point);

}  // namespace horde::app

// A JSON result's figures read back into core's types: its histograms
// (rebuilt exactly from their sparse buckets) and the counters thresholds
// read, so a file written by horde run or horde merge is judged by the same
// code that judged the run (app/threshold.hh).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/threshold.hh"
#include "core/histogram.hh"
#include "core/metrics.hh"
#include "core/plan.hh"

namespace horde::app {

// Adds the histogram `j` (report_json.cc's histogram_json: "buckets" as
// [index, count] pairs, "min_ns", "max_ns", "mean_ns") into `into`; buckets
// out of range or malformed are skipped. Exact: the same buckets, min, max
// and (to the mean's rounding) sum as the run had.
void add_histogram_json(core::histogram& into, const nlohmann::json& j);

// The percentiles (in percent) a result's tables use: its plan's, or
// horde's default when it has none.
std::vector<double> result_percentiles(const nlohmann::json& result);

// The counters and histograms a threshold reads, from a whole result.
struct result_figures {
  core::counter_values counters;
  core::latency_set latency;
  bool pubsub = false;
  core::named_metrics names;  // of counters.named and latency.named: the protocol.* metrics
};
result_figures figures_of_json(const nlohmann::json& result);

// Each threshold and the implicit checks judged on the result's figures:
// the "thresholds" array as horde run writes it (report_verdict.cc).
nlohmann::json judge_result_json(const nlohmann::json& result,
                                 const std::vector<threshold>& thresholds);

}  // namespace horde::app

// Turning a run_result into what people and programs read: the terminal
// summary, the one-line live progress, and the versioned JSON.
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/run_result.hh"

namespace horde::app {

void print_summary(std::FILE* out, const run_result& result);
std::string progress_line(const run_result& result, const series_point& now,
                          const series_point& previous);
nlohmann::json to_json(const run_result& result);
// One histogram as the JSON has it: count, min, max, mean, the chosen
// percentiles and the sparse buckets ([index, count] pairs, added by a merge).
nlohmann::json histogram_json(const core::histogram& h, const std::vector<double>& percentiles);

// The thresholds with their measured values, the failed implicit checks,
// what stopped the run early and the exit code's reason (report_verdict.cc).
void print_verdict(std::FILE* out, const run_result& result);
nlohmann::json thresholds_json(const run_result& result);
nlohmann::json verdict_json(const run_result& result);

// Whether horde kept its own send schedule: the verdict that says when horde,
// not the target, was the bottleneck.
struct schedule_verdict {
  bool kept = true;
  std::string cause;          // when not kept: saturated, starved or behind
  double cpu_used_share = 0;  // shard CPU time over the CPUs they were given
  double cpu_wait_share = 0;  // time a shard was runnable but waiting for a CPU
  std::string explanation;
};
schedule_verdict judge_schedule(const run_result& result);

}  // namespace horde::app

// What a finished `horde run` amounts to, as its exit code says it: passed
// (0), a check failed (1), or invalid (3): the figures are not the target's,
// because horde itself fell behind its schedule for want of CPU (saturated
// or starved) or a shard failed. A run in
// which nothing worked fails its implicit checks (app/threshold.hh), so it
// never passes, thresholds or not. Exit code 2 (usage, configuration, an
// output not written) is decided before or after, in run_command.cc.
#pragma once

#include <string>
#include <vector>

#include "app/run_result.hh"
#include "app/threshold.hh"

namespace horde::app {

inline constexpr int exit_passed = 0;
inline constexpr int exit_check_failed = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_invalid = 3;

// Each threshold, then the implicit checks, judged on the run's final
// counters and histograms, into result.thresholds.
void judge_thresholds(const std::vector<threshold>& thresholds, run_result& result);

struct run_verdict {
  int exit_code = exit_passed;
  std::string outcome;               // "passed", "failed" or "invalid"
  std::vector<std::string> reasons;  // why it failed or is invalid, one line each
};

// From result.thresholds, the schedule verdict, the shards' errors.
run_verdict judge_run(const run_result& result);

}  // namespace horde::app

// `horde merge A.json B.json ... -o ALL.json`: the workers' results of one
// distributed run (or independent runs) made one result that horde report,
// horde compare and thresholds read as they read a single run's
// (app/result_merge.hh does the merging).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/result_merge.hh"
#include "app/threshold.hh"
#include "base/result.hh"

namespace horde::app {

struct merge_options {
  std::vector<std::string> inputs;
  std::string output;
  std::vector<std::string> thresholds;  // judged on the merged figures, beside the runs' own
};

// The merged run's verdict: invalid when a worker's run was, a slice is
// missing or a shard failed; failed when a threshold (the runs' own and
// `thresholds_judged`) or an implicit check failed; else passed.
nlohmann::json merged_verdict(const std::vector<merge_input>& inputs, const merge_outcome& out,
                              const nlohmann::json& thresholds_judged);

// The merged file's "thresholds" (`thresholds`, then the implicit checks)
// and "verdict", into out.merged; an error when a field has a kind no check
// foresaw.
result<void> judge_merged(const std::vector<merge_input>& inputs, merge_outcome& out,
                          const std::vector<threshold>& thresholds);

// Exit codes: as horde run's for the merged verdict (0 passed, 1 failed, 3
// invalid); 2 an input unreadable or not mergeable, a bad --threshold, or
// the output not written.
int merge(const merge_options& options);

}  // namespace horde::app

// `horde run`: flags -> plan (app/run_plan) -> preflight -> engine -> live
// progress -> summary and JSON.
#pragma once

#include "app/run_plan.hh"

namespace horde::app {

// Returns the process exit code (app/run_verdict.hh): 0 passed; 1 a
// threshold or an implicit check failed; 2 bad flags or thresholds, or a
// result (JSON, CSV) not written; 3 invalid: the preflight refused the plan,
// horde could not keep its schedule, or a shard failed.
int run_load(const run_options& options);

}  // namespace horde::app

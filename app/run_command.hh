// `horde run`: flags -> plan (app/run_plan) -> preflight -> engine -> live
// progress -> summary and JSON.
#pragma once

#include <memory>
#include <string>

#include "app/run_plan.hh"
#include "app/run_result.hh"

namespace horde::app {

// A run carried out, its outputs not yet written: the result and the plan
// it points into (result.plan is &plan.client), so it never moves.
struct finished_run {
  run_plan plan;
  run_result result;
};

struct run_attempt {
  std::unique_ptr<finished_run> run;  // null: the run never started
  int exit_code = 0;                  // then: 2 usage, 3 the preflight refused the plan
};

// Everything `horde run` does but its outputs: thresholds parsed, the host
// read, the plan built and checked, the embedded server started, the engine
// run, the thresholds judged into result.thresholds. Messages name
// `command`. Returns the run, or the exit code that kept it from starting
// with its reason already printed. `horde ladder` runs each level through it.
run_attempt carry_out_run(const run_options& options, const std::string& command);

// Returns the process exit code (app/run_verdict.hh): 0 passed; 1 a
// threshold or an implicit check failed; 2 bad flags or thresholds, or a
// result (JSON, CSV) not written; 3 invalid: the preflight refused the plan,
// horde could not keep its schedule, or a shard failed.
int run_load(const run_options& options);

}  // namespace horde::app

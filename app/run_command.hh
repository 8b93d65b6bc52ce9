// `horde run`: flags -> plan (app/run_plan) -> preflight -> engine -> live
// progress -> summary and JSON.
#pragma once

#include "app/run_plan.hh"

namespace horde::app {

// Returns the process exit code: 0 ok; 1 a shard failed (the report says
// why); 2 bad flags, a plan the host cannot carry, or a JSON result not written.
int run_load(const run_options& options);

}  // namespace horde::app

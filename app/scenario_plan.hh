// A scenario as the user wrote it (app/scenario_spec.hh) compiled into what
// the engine runs: durations and rates parsed, templates and JSON pointers
// compiled, feeders read, the JWT signer made, and the scenario's named
// counters and histograms declared. Every mistake is found here, before
// anything starts, and named with where it was written.
#pragma once

#include "app/run_plan.hh"
#include "base/result.hh"

namespace horde::app {

result<void> scenario_into(const run_options& options, run_plan& out);

}  // namespace horde::app

// `horde ladder`: `horde run` at rising load, one level after another in
// this process, until a level breaks a limit (app/ladder_plan.hh), printing
// each level's row as it ends and writing the horde.ladder/1 JSON.
#pragma once

#include "app/ladder_plan.hh"
#include "app/run_plan.hh"

namespace horde::app {

struct ladder_command_options {
  run_options run;  // every `horde run` flag; --duration is the default --hold
  ladder_options ladder;
};

// Returns the exit code: 0 a level broke, or none did up to the last; 1
// interrupted before either; 2 bad flags, or the JSON not written; 3 horde
// was the limit (a level invalid twice, or the preflight refused one)
// before the target broke.
int run_ladder(const ladder_command_options& options);

}  // namespace horde::app

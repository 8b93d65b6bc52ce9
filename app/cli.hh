// The command line: `horde run`, `horde serve`; returns the exit code.
#pragma once

namespace horde::app {

int run_cli(int argc, char** argv);

}  // namespace horde::app

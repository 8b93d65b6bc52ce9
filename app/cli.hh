// The command line: `horde run`, `horde serve`, `horde tune`; returns the
// exit code (exit_codes_text says which).
#pragma once

namespace horde::app {

int run_cli(int argc, char** argv);

// The exit codes, as --help's footer gives them.
extern const char* const exit_codes_text;
// --threshold's grammar, for horde run --help.
extern const char* const thresholds_text;

}  // namespace horde::app

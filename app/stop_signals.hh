// SIGINT and SIGTERM as a count the controller polls: the first stops a run
// cleanly, the second ends it at once (`horde run`); `horde serve` stops on
// the first. SIGPIPE is ignored: a peer's reset is a counted failure.
#pragma once

namespace horde::app {

void install_stop_handlers();
// Stop signals received since the process started.
int stop_signals_seen() noexcept;

}  // namespace horde::app

// Mass disconnects in a run's series: an interval in which many open
// connections ended at once (a server restart, a load balancer's drain, a
// chaos test), and how long the live count took to come back. With
// --reconnect this is the figure a reconnect storm is judged by.
#pragma once

#include <optional>
#include <vector>

#include "app/run_result.hh"

namespace horde::app {

struct disconnect_event {
  double at_seconds = 0;     // the end of the interval it happened in
  uint64_t open_before = 0;  // live connections at the previous point
  uint64_t ended = 0;        // connections that failed or were dropped in that interval
  uint64_t lowest_open = 0;  // the live count's lowest point after it
  std::optional<double> recovered_after_seconds;  // back to 99% of open_before; none: never
};

// An event is an interval whose failures reach 5% of the open connections
// before it (and at least 10); it ends when the live count is back to 99%
// of that level. The series' interval (about 1 s) is the resolution.
std::vector<disconnect_event> find_disconnect_events(const std::vector<series_point>& series);

}  // namespace horde::app

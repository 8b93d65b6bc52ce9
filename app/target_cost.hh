// What the target's samples say (app/target_usage.hh): memory per
// connection, CPU per million messages, peak RSS, and over a soak the memory
// slope with a leak verdict. Pure functions of a run_result, so the text
// report and the JSON say the same.
//
// The leak rule: a least-squares line through the target's RSS over the
// points after the ramp (from the first point with 95% of the run's peak
// open connections) up to the end of --duration. The RSS is "growing" when
//   - there are at least min_points_for_slope such points (seconds), and
//   - the line's growth over that window exceeds both 5% of the window's
//     mean RSS and 4 MiB (allocators grow in arenas of a few MiB, and a
//     heap settles by a few percent), and
//   - the line explains the RSS: R² > 0.5 (a sawtooth from a garbage
//     collector has a slope but no fit).
// Otherwise it is "flat". A shrinking RSS is flat too: nothing leaks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/run_result.hh"

namespace horde::app {

inline constexpr size_t min_points_for_slope = 10;
inline constexpr double leak_share_of_rss = 0.05;
inline constexpr double leak_min_bytes = 4.0 * 1024 * 1024;
inline constexpr double leak_min_r_squared = 0.5;

// y = intercept + slope x, least squares; r_squared 0 when y does not vary.
struct line_fit {
  double slope = 0;
  double intercept = 0;
  double r_squared = 0;
};
std::optional<line_fit> fit_line(const std::vector<double>& x, const std::vector<double>& y);

struct memory_slope {
  double bytes_per_hour = 0;
  double r_squared = 0;
  double from_seconds = 0, to_seconds = 0;
  size_t points = 0;
  double mean_rss_bytes = 0;
  double growth_bytes = 0;  // the line's rise over the window
  bool growing = false;
  // Connections opened in the window (reconnects, lifetimes): the growth
  // over each one cycled, when there were enough of them.
  uint64_t connections_cycled = 0;
  std::optional<double> bytes_per_cycled_connection;
};

struct target_cost {
  uint64_t peak_rss_bytes = 0;
  uint64_t rss_before_connections = 0;
  uint64_t rss_at_hold = 0;  // at the sample with the most connections open
  uint64_t open_at_hold = 0;
  std::optional<double> memory_per_connection;     // none below min_connections_for_memory
  double cpu_seconds = 0;                          // user + system, first sample to the end
  uint64_t messages = 0;                           // received by horde + sent
  std::optional<double> cpu_per_million_messages;  // none below min_messages_for_cpu
  std::optional<memory_slope> slope;               // none below min_points_for_slope
  std::string verdict;  // "flat", "growing 12.0 MiB/h — a leak?", or why none
};

// nullopt when no target was sampled.
std::optional<target_cost> judge_target(const run_result& r);

}  // namespace horde::app

// How the ramp went: the connect pace asked and the pace achieved, over the
// whole ramp and over its last tenth, where a ramp that slows as the count
// grows (a server, a kernel or a CPU that cannot keep up) shows first.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "app/run_result.hh"

namespace horde::app {

struct ramp_summary {
  uint64_t planned = 0;                       // connections the ramp opens
  uint64_t opened = 0;                        // opened by the end of the ramp (or of the run)
  double asked_per_s = 0;                     // --connect-rate; 0 = unlimited
  std::optional<double> seconds_to_open_all;  // none: never all open
  double overall_per_s = 0;                   // opened / the ramp's length
  std::optional<double> last_tenth_per_s;     // from 90% of `opened` to the end of the ramp
  // Slower than asked by more than a tenth (over the ramp or its last tenth).
  bool behind() const noexcept;
};

// None without a series, when nothing opened, or when the ramp was over by
// the series' first point (its pace cannot be read at that resolution).
std::optional<ramp_summary> summarize_ramp(const std::vector<series_point>& series,
                                           uint64_t planned, double asked_per_s,
                                           double duration_seconds);

}  // namespace horde::app

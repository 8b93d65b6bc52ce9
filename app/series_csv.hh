// --csv: the run's series as one row per second, for a spreadsheet or a
// plotting script. Rates are over each row's own interval; latencies are
// that interval's own percentiles (run_result.hh's interval_latency), so a
// late spike shows in the second it happened.
#pragma once

#include <string>
#include <vector>

#include "app/run_result.hh"

namespace horde::app {

// The header, one line, no trailing newline (docs/json.md lists each column).
extern const char* const series_csv_header;

// The header and one row per series point, each line ending in "\n".
std::string series_csv(const std::vector<series_point>& series);

}  // namespace horde::app

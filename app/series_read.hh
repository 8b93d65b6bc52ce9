// The series read back from a JSON result (report_json.cc's series_json), so
// `horde report` charts a file exactly as `horde run --html` charts the run.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "app/run_result.hh"

namespace horde::app {

// One series_point per element of `series`; missing fields read as 0, a
// value that is not an array gives no points.
std::vector<series_point> series_of_json(const nlohmann::json& series);

}  // namespace horde::app

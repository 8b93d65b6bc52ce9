// The HTML report (`horde run --html`, `horde report`): one self-contained
// page from a JSON result — verdict and thresholds, charts over time and of
// each latency's percentile spectrum, the plan and the summary tables.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace horde::app {

// The page for a result (schema horde.run/1); sections whose data the
// result lacks are left out.
std::string html_report(const nlohmann::json& result);

}  // namespace horde::app

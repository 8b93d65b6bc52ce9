// The target's own cost in the report (app/target_cost.hh): the text
// summary's lines, the JSON's `target_cost` section, and the fields each
// series point gains when a target is sampled.
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/run_result.hh"

namespace horde::app {

void print_target(std::FILE* out, const run_result& result);  // nothing when none sampled
nlohmann::json target_cost_json(const run_result& result);    // null when none sampled
void add_sampled_fields(nlohmann::json& point_json, const series_point& point);

}  // namespace horde::app

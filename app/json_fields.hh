// Reading a JSON result that may come from another horde version or lack a
// section (a run without pub/sub, a result from before `target` existed):
// every read is checked, and a missing field is nullopt, never an exception.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace horde::app {

// The value at a JSON pointer ("/latency/round_trip"), or null when absent.
const nlohmann::json& json_at(const nlohmann::json& j, const std::string& pointer);
std::optional<double> number_at(const nlohmann::json& j, const std::string& pointer);
std::string text_at(const nlohmann::json& j, const std::string& pointer);

// A scalar as a table cell: numbers grouped or with 3 decimals, booleans
// yes/no, null as "-".
std::string cell_text(const nlohmann::json& value);

// One [name, value] row per scalar field of an object, in its order;
// arrays of scalars joined with ", "; nested objects skipped.
std::vector<std::vector<std::string>> scalar_rows(const nlohmann::json& object);

}  // namespace horde::app

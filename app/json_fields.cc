#include "app/json_fields.hh"

#include <fmt/format.h>

#include <cmath>

#include "app/report_format.hh"

namespace horde::app {

const nlohmann::json& json_at(const nlohmann::json& j, const std::string& pointer) {
  static const nlohmann::json missing;
  try {
    const nlohmann::json::json_pointer p(pointer);
    return j.contains(p) ? j.at(p) : missing;
  } catch (const nlohmann::json::exception&) {
    return missing;  // a pointer through a non-object: absent
  }
}

std::optional<double> number_at(const nlohmann::json& j, const std::string& pointer) {
  const auto& v = json_at(j, pointer);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

std::string text_at(const nlohmann::json& j, const std::string& pointer) {
  const auto& v = json_at(j, pointer);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::string cell_text(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_unsigned()) return grouped(v.get<uint64_t>());
  if (v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    return n < 0 ? fmt::format("-{}", grouped(uint64_t(-n))) : grouped(uint64_t(n));
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return d == std::floor(d) && std::fabs(d) < 1e15 ? fmt::format("{:.0f}", d)
                                                     : fmt::format("{:.3f}", d);
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) {
      if (e.is_structured()) continue;
      out += (out.empty() ? "" : ", ") + cell_text(e);
    }
    return out;
  }
  return "-";
}

std::vector<std::vector<std::string>> scalar_rows(const nlohmann::json& object) {
  std::vector<std::vector<std::string>> rows;
  if (!object.is_object()) return rows;
  for (const auto& [name, value] : object.items()) {
    if (value.is_object()) continue;
    if (value.is_array() && !value.empty() && value.front().is_structured()) continue;
    rows.push_back({name, cell_text(value)});
  }
  return rows;
}

}  // namespace horde::app

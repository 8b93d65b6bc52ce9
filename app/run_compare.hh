// `horde compare BASE.json NEW.json`: the figures of two results side by
// side with the change, each judged better or worse in its own direction
// (fewer failures, more messages per second, lower latency). Information
// only: thresholds decide verdicts, so compare always exits 0.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace horde::app {

enum class better_when { lower, higher };
enum class change_verdict { better, worse, same, unknown };

struct figure_change {
  std::string name;
  std::string unit;  // "", "/s", "ms", "s", "B"
  better_when direction = better_when::lower;
  std::optional<double> base;
  std::optional<double> now;
};

// The figures compared, in report order; scenario histograms are those
// either result has, by name.
std::vector<figure_change> compare_results(const nlohmann::json& base, const nlohmann::json& now);

// now - base; nullopt when either is missing.
std::optional<double> change_absolute(const figure_change& f);
// The change as a percentage of base; nullopt when either is missing or base is 0.
std::optional<double> change_percent(const figure_change& f);
// Better or worse in the figure's direction; the same within 0.05% (or both
// 0); unknown when either is missing.
change_verdict judge_change(const figure_change& f);
const char* to_string(change_verdict v);

// The table as text (stdout) and as an HTML page (-o).
std::string compare_text(const std::vector<figure_change>& figures, const std::string& base_name,
                         const std::string& now_name);
std::string compare_html(const std::vector<figure_change>& figures, const std::string& base_name,
                         const std::string& now_name);

}  // namespace horde::app

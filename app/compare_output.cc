// `horde compare`'s two outputs (run_compare.hh): a text table for the
// terminal, and the same table as a self-contained HTML page.
#include <fmt/format.h>

#include <cmath>

#include "app/html_page.hh"
#include "app/run_compare.hh"

namespace horde::app {
namespace {

std::string value_text(std::optional<double> v, const std::string& unit) {
  if (!v) return "-";
  const double a = std::fabs(*v);
  std::string number = unit == "ms"                       ? fmt::format("{:.3f}", *v)
                       : a >= 100 || *v == std::floor(*v) ? fmt::format("{:.0f}", *v)
                                                          : fmt::format("{:.2f}", *v);
  return unit.empty() || unit == "/s" ? number : number + " " + unit;
}

std::string change_text(const figure_change& f) {
  const auto delta = change_absolute(f);
  if (!delta) return "-";
  std::string out = fmt::format("{}{}", *delta > 0 ? "+" : "", value_text(delta, f.unit));
  if (const auto percent = change_percent(f)) out += fmt::format(" ({:+.1f}%)", *percent);
  return out;
}

}  // namespace

std::string compare_text(const std::vector<figure_change>& figures, const std::string& base_name,
                         const std::string& now_name) {
  std::string out = fmt::format("horde compare: {} (base) -> {} (new)\n\n", base_name, now_name);
  out += fmt::format("{:<30} {:>16} {:>16} {:>24}  {}\n", "figure", "base", "new", "change", "");
  for (const auto& f : figures) {
    out += fmt::format("{:<30} {:>16} {:>16} {:>24}  {}\n", f.name, value_text(f.base, f.unit),
                       value_text(f.now, f.unit), change_text(f), to_string(judge_change(f)));
  }
  return out;
}

std::string compare_html(const std::vector<figure_change>& figures, const std::string& base_name,
                         const std::string& now_name) {
  html_table t{{"figure", "base", "new", "change", ""}, {}, {}};
  for (const auto& f : figures) {
    const auto verdict = judge_change(f);
    t.rows.push_back({f.name, value_text(f.base, f.unit), value_text(f.now, f.unit), change_text(f),
                      to_string(verdict)});
    t.row_classes.push_back(verdict == change_verdict::better  ? "better"
                            : verdict == change_verdict::worse ? "worse"
                                                               : "");
  }
  const std::string body = "<h1>horde compare</h1>\n<p>base: " + html_escape(base_name) +
                           "<br>new: " + html_escape(now_name) + "</p>\n" + table_html(t) +
                           "<p class=\"muted\">Information only: each figure is marked better or "
                           "worse in its own direction; thresholds decide verdicts.</p>\n";
  return html_document("horde compare", body, {});
}

}  // namespace horde::app

#include "app/html_page.hh"

#include <cstring>

#include "app/html_charts_script.hh"
#include "app/uplot_assets.hh"

namespace horde::app {
namespace {

const char* const page_style = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #111; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1em; margin: 1.2em 0 0.3em; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f5f5f5; }
tr.pass td, tr.better td { background: #ecfdf5; } tr.fail td, tr.worse td { background: #fef2f2; }
.verdict { font-size: 1.2em; font-weight: bold; } .passed { color: #15803d; } .failed { color: #b91c1c; } .invalid { color: #b45309; }
.note { background: #fffbeb; border: 1px solid #fcd34d; padding: 0.5em 1em; }
.chart { margin: 0.5em 0 1.5em; } .muted { color: #666; }
)css";

// JSON inside <script>: '<' and '/' only occur inside JSON strings, where
// their \u escapes mean the same; so no "</script>" and no "://" can appear.
std::string script_json(const nlohmann::json& j) {
  const std::string text = j.dump();
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '/')
      out += "\\/";
    else
      out += c;
  }
  return out;
}

nlohmann::json chart_json(const chart& c) {
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& l : c.lines)
    lines.push_back({{"label", l.label}, {"values", l.values}});
  return {{"title", c.title}, {"x_kind", c.x_kind}, {"y_label", c.y_label},
          {"y_log", c.y_log}, {"x", c.x},           {"lines", lines}};
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '/':
        out += "&#47;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string table_html(const html_table& table) {
  std::string out = "<table>";
  if (!table.header.empty()) {
    out += "<tr>";
    for (const auto& h : table.header)
      out += "<th>" + html_escape(h) + "</th>";
    out += "</tr>";
  }
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const bool classed = r < table.row_classes.size() && !table.row_classes[r].empty();
    out += classed ? "<tr class=\"" + html_escape(table.row_classes[r]) + "\">" : "<tr>";
    for (const auto& cell : table.rows[r])
      out += "<td>" + html_escape(cell) + "</td>";
    out += "</tr>";
  }
  return out + "</table>\n";
}

bool charts_available() {
  return std::strlen(uplot_js) != 0;
}

std::string chart_slot(const chart& c, std::vector<chart>& charts) {
  const std::string id = "chart-" + std::to_string(charts.size());
  charts.push_back(c);
  return "<h3>" + html_escape(c.title) + "</h3><div class=\"chart\" id=\"" + id + "\"></div>\n";
}

std::string html_document(std::string_view title, std::string_view body,
                          const std::vector<chart>& charts) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
      html_escape(title) + "</title>\n<style>" + uplot_css + page_style +
      "</style></head>\n<body>\n";
  out += body;
  nlohmann::json data = nlohmann::json::array();
  for (const auto& c : charts)
    data.push_back(chart_json(c));
  if (charts_available() && !charts.empty()) {
    out += "<script type=\"application/json\" id=\"horde-charts\">" + script_json(data) +
           "</script>\n<script>\n/* uPlot " + uplot_version + "\n" + uplot_license + "*/\n" +
           uplot_js + "\n</script>\n<script>" + html_charts_script + "</script>\n";
  } else {
    out += "<script>document.body.setAttribute(\"data-charts-drawn\", \"0\");</script>\n";
  }
  return out + "</body></html>\n";
}

}  // namespace horde::app

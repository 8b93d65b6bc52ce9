// The pieces every HTML page horde writes is made of (the run report,
// `horde compare`): escaping, tables, and the document around them with
// uPlot and the chart script inlined, so the file opens offline and alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace horde::app {

// Text as HTML: & < > " ' escaped, and '/' too, so no text from a result
// (a --setup-url, a header) ever reads as a link in the page.
std::string html_escape(std::string_view text);

struct html_table {
  std::vector<std::string> header;             // plain text, escaped when written
  std::vector<std::vector<std::string>> rows;  // each cell plain text
  std::vector<std::string> row_classes;        // optional, per row ("pass", "fail", "better")
};
std::string table_html(const html_table& table);

// One chart for the page's script: x values, lines of y values (null for a
// gap), and how to draw them. x_kind "seconds" or "percentile" (x = 1/(1-q),
// drawn on a log axis labelled p90, p99, ...).
struct chart_line {
  std::string label;
  nlohmann::json values;  // array of numbers or nulls, as long as x
};
struct chart {
  std::string title;
  std::string x_kind = "seconds";
  std::string y_label;
  bool y_log = false;
  nlohmann::json x;  // array of numbers
  std::vector<chart_line> lines;
};

// Whether this horde was built with uPlot (cmake/uplot_assets.cmake).
bool charts_available();

// A chart's place in the body: a titled <div> the script draws into, and the
// chart added to `charts` (its id is its position there).
std::string chart_slot(const chart& c, std::vector<chart>& charts);

// The whole page: head with styles, uPlot and the charts' data inlined as
// JSON (escaped for a <script>), then the body and the script that draws
// every chart and marks the body data-charts-drawn="N" when done.
std::string html_document(std::string_view title, std::string_view body,
                          const std::vector<chart>& charts);

}  // namespace horde::app

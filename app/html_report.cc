#include "app/html_report.hh"

#include <fmt/format.h>

#include "app/histogram_spectrum.hh"
#include "app/html_page.hh"
#include "app/html_report_charts.hh"
#include "app/json_fields.hh"
#include "app/report_format.hh"
#include "app/series_read.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

std::string ms_cell(std::optional<uint64_t> ns) {
  return ns ? ms(*ns) : "-";
}

std::string heading(const json& r) {
  const std::string outcome = text_at(r, "/verdict/outcome");
  std::string out = "<h1>horde run: " + html_escape(cell_text(json_at(r, "/target"))) + "</h1>\n";
  if (!outcome.empty())
    out += "<p class=\"verdict " + html_escape(outcome) + "\">" + html_escape(outcome) + " (exit " +
           cell_text(json_at(r, "/verdict/exit_code")) + ")</p>\n";
  out +=
      "<p class=\"muted\">" +
      html_escape(fmt::format(
          "{:.1f} s, {}{}, kernel {}, {} CPUs", number_at(r, "/elapsed_seconds").value_or(0),
          json_at(r, "/embedded_server") == true ? "embedded reference server" : "external server",
          json_at(r, "/interrupted") == true ? ", interrupted" : "",
          text_at(r, "/environment/kernel"), cell_text(json_at(r, "/environment/cpus")))) +
      "</p>\n";
  return out;
}

std::string verdict_section(const json& r) {
  std::string out = "<h2>Verdict</h2>\n";
  const auto& reasons = json_at(r, "/verdict/reasons");
  if (reasons.is_array() && !reasons.empty()) {
    out += "<ul>";
    for (const auto& reason : reasons)
      out += "<li>" + html_escape(cell_text(reason)) + "</li>";
    out += "</ul>\n";
  }
  const auto& stopped = json_at(r, "/verdict/stopped_by");
  if (stopped.is_object())
    out += "<p class=\"note\">Stopped early by " + html_escape(text_at(stopped, "/expr")) + " at " +
           html_escape(cell_text(json_at(stopped, "/at_seconds"))) + " s</p>\n";
  html_table t{{"threshold", "value", "limit", "unit", "result"}, {}, {}};
  const auto& thresholds = json_at(r, "/thresholds");
  if (thresholds.is_array()) {
    for (const auto& th : thresholds) {
      const bool passed = json_at(th, "/passed") == true;
      std::string expr = text_at(th, "/expr");
      if (json_at(th, "/implicit") == true) expr += " (implicit)";
      t.rows.push_back({expr, cell_text(json_at(th, "/value")), cell_text(json_at(th, "/limit")),
                        text_at(th, "/unit"), passed ? "PASS" : "FAIL"});
      t.row_classes.push_back(passed ? "pass" : "fail");
    }
  }
  if (!t.rows.empty()) out += table_html(t);
  return out;
}

std::string plan_section(const json& r) {
  std::string out = "<h2>Plan</h2>\n";
  out += table_html({{"setting", "value"}, scalar_rows(json_at(r, "/plan")), {}});
  const auto& notes = json_at(r, "/notes");
  if (notes.is_array() && !notes.empty()) {
    out += "<details><summary>Notes (" + std::to_string(notes.size()) + ")</summary><ul>";
    for (const auto& n : notes)
      out += "<li>" + html_escape(cell_text(n)) + "</li>";
    out += "</ul></details>\n";
  }
  return out;
}

// Under a reason, a row per text a --protocol codec ("MQTT: CONNACK
// refused: ...") or OpenSSL ("certificate has expired") failed with, and its count.
void add_failure_text_rows(html_table& table, const json& texts, const std::string& reason) {
  if (!texts.is_array()) return;
  for (const auto& f : texts) {
    if (!f.is_object() || f.value("reason", json()) != reason) continue;
    table.rows.push_back({"", cell_text(f.value("count", json())),
                          "\"" + cell_text(f.value("text", json())) + "\""});
  }
}

std::string connections_section(const json& r) {
  std::string out = "<h2>Connections</h2>\n";
  html_table t{{"figure", "count"}, {}, {}};
  for (const char* f : {"attempted", "opened", "failed", "unfinished", "peak_open", "closed_clean"})
    t.rows.push_back({f, cell_text(json_at(r, std::string("/connections/") + f))});
  out += table_html(t);
  html_table failures{{"failure", "count", "meaning"}, {}, {}};
  const auto& counts = json_at(r, "/connections/failures");
  if (counts.is_object()) {
    for (const auto& [reason, n] : counts.items()) {
      if (!n.is_number() || n.get<double>() == 0) continue;
      failures.rows.push_back(
          {reason, cell_text(n), text_at(r, "/connections/failure_meanings/" + reason)});
      add_failure_text_rows(failures, json_at(r, "/connections/protocol_failures"), reason);
      add_failure_text_rows(failures, json_at(r, "/tls/failures"), reason);
    }
  }
  // The series carries failures as one total per interval (charted above);
  // by reason there are only the run's totals.
  out += failures.rows.empty() ? "<p>No connection failed.</p>\n"
                               : "<h3>Failures by reason (whole run)</h3>" + table_html(failures);
  return out;
}

std::string messages_section(const json& r) {
  std::string out = "<h2>Messages</h2>\n";
  out += table_html({{"figure", "count"}, scalar_rows(json_at(r, "/messages")), {}});
  const auto& pubsub = json_at(r, "/pubsub");
  if (pubsub.is_object())
    out += "<h3>Pub/sub</h3>" + table_html({{"figure", "value"}, scalar_rows(pubsub), {}});
  return out;
}

std::string latency_section(const json& r) {
  std::string out = "<h2>Latency (ms)</h2>\n";
  html_table t{{"histogram", "count", "p50", "p90", "p95", "p99", "p99.9", "max"}, {}, {}};
  for (const auto& h : histograms_in(r)) {
    const auto sparse = sparse_histogram_of(json_at(r, h.pointer));
    std::vector<std::string> row{h.name, grouped(sparse.count)};
    for (double q : {0.5, 0.9, 0.95, 0.99, 0.999})
      row.push_back(ms_cell(value_at_quantile(sparse, q)));
    row.push_back(ms(sparse.max_ns));
    t.rows.push_back(row);
  }
  return out + (t.rows.empty() ? "<p>No latency was measured.</p>\n" : table_html(t));
}

std::string self_section(const json& r) {
  std::string out = "<h2>horde itself</h2>\n";
  out += table_html({{"figure", "value"}, scalar_rows(json_at(r, "/self")), {}});
  const auto& server = json_at(r, "/server");
  if (server.is_object())
    out += "<h3>Embedded server</h3>" + table_html({{"figure", "value"}, scalar_rows(server), {}});
  return out;
}

// The target's own figures, when a sampler wrote them as an object.
std::string target_section(const json& r) {
  const auto& target = json_at(r, "/target");
  if (!target.is_object()) return {};
  return "<h2>Target</h2>\n" + table_html({{"figure", "value"}, scalar_rows(target), {}});
}

std::string ladder_section(const json& r, std::vector<chart>& charts) {
  const auto& ladder = json_at(r, "/ladder");
  if (!ladder.is_object()) return {};
  std::string out = "<h2>Ladder</h2>\n";
  out += table_html({{"figure", "value"}, scalar_rows(ladder), {}});
  if (charts_available())
    for (const auto& c : ladder_charts(ladder))
      out += chart_slot(c, charts);
  const auto& levels = json_at(ladder, "/levels");
  if (levels.is_array() && !levels.empty() && levels.front().is_object()) {
    html_table t;
    for (const auto& [name, v] : levels.front().items())
      if (!v.is_structured()) t.header.push_back(name);
    for (const auto& level : levels) {
      std::vector<std::string> row;
      for (const auto& name : t.header)
        row.push_back(cell_text(json_at(level, "/" + name)));
      t.rows.push_back(row);
    }
    out += table_html(t);
  }
  return out;
}

std::string series_table(const std::vector<series_point>& series) {
  html_table t{{"t (s)", "open", "opened", "failed", "sent", "received", "rtt p50", "rtt p95",
                "rtt p99", "rtt max"},
               {},
               {}};
  for (const auto& s : series) {
    const auto& l = s.round_trip;
    const auto cell = [&](uint64_t ns) { return l.count ? ms(ns) : std::string(); };
    t.rows.push_back({fmt::format("{:.1f}", s.t), grouped(s.open), grouped(s.upgraded),
                      grouped(s.failures), grouped(s.sent), grouped(s.received), cell(l.p50_ns),
                      cell(l.p95_ns), cell(l.p99_ns), cell(l.max_ns)});
  }
  return "<details><summary>The series as a table (" + std::to_string(series.size()) +
         " points; counts cumulative, round trip per interval in ms)</summary>" + table_html(t) +
         "</details>\n";
}

std::string charts_section(const json& r, const std::vector<series_point>& kept,
                           const std::vector<size_t>& ends, size_t all_points,
                           std::vector<chart>& charts) {
  std::string out = "<h2>Over time</h2>\n";
  if (!charts_available())
    out +=
        "<p class=\"note\">Charts need uPlot, which was not available when this horde was built "
        "(npm was missing at configure time, or HORDE_UPLOT=OFF): the tables below have the "
        "figures.</p>\n";
  if (kept.size() < all_points)
    out += "<p class=\"muted\">" +
           html_escape(fmt::format("{} points merged into {}: rates over each merged interval, "
                                   "latencies the worst of its seconds.",
                                   all_points, kept.size())) +
           "</p>\n";
  std::vector<chart> over_time = series_charts(kept);
  for (auto& c : target_charts(json_at(r, "/series"), ends))
    over_time.push_back(std::move(c));
  for (auto& c : failure_charts(json_at(r, "/series"), ends))
    over_time.push_back(std::move(c));
  if (charts_available())
    for (const auto& c : over_time)
      out += chart_slot(c, charts);
  out += series_table(kept);
  const auto histograms = histograms_in(r);
  if (charts_available() && !histograms.empty()) {
    out += "<h2>Percentile spectra</h2>\n";
    for (const auto& h : histograms)
      out += chart_slot(spectrum_chart(h.name, json_at(r, h.pointer)), charts);
  }
  return out;
}

}  // namespace

std::string html_report(const json& r) {
  const auto series = series_of_json(json_at(r, "/series"));
  const auto ends = downsample_ends(series.size(), chart_points_max);
  const auto kept = downsample(series, chart_points_max);
  std::vector<chart> charts;
  std::string body = heading(r);
  body += verdict_section(r);
  body += charts_section(r, kept, ends, series.size(), charts);
  body += ladder_section(r, charts);
  body += target_section(r);
  body += connections_section(r);
  body += messages_section(r);
  body += latency_section(r);
  body += self_section(r);
  body += plan_section(r);
  return html_document("horde run: " + cell_text(json_at(r, "/target")), body, charts);
}

}  // namespace horde::app

#include "app/html_report_charts.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "app/histogram_spectrum.hh"
#include "app/json_fields.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

// Chart data is rounded: the page's size is mostly digits, and four
// decimals of a millisecond or a tenth of a message per second is more than
// a chart can show.
double rounded(double v, double step) {
  return std::round(v / step) * step;
}

double rate(uint64_t now, uint64_t before, double seconds) {
  return seconds > 0 && now > before ? rounded(double(now - before) / seconds, 0.1) : 0.0;
}

// An interval percentile in ms, or null for an interval with no samples
// (a gap, not a zero) and for values a log axis cannot show.
json ms_or_null(uint64_t ns, uint64_t count) {
  if (count == 0 || ns == 0) return nullptr;
  return rounded(double(ns) / 1e6, 0.0001);
}

chart time_chart(const std::string& title, const std::string& y_label, const json& x) {
  chart c;
  c.title = title;
  c.y_label = y_label;
  c.x = x;
  return c;
}

void add_latency_chart(std::vector<chart>& out, const std::vector<series_point>& series,
                       const json& x, const std::string& title,
                       interval_latency series_point::*field) {
  chart c = time_chart(title, "ms", x);
  c.y_log = true;
  json p50 = json::array(), p95 = json::array(), p99 = json::array(), max = json::array();
  uint64_t samples = 0;
  for (const auto& s : series) {
    const auto& l = s.*field;
    samples += l.count;
    p50.push_back(ms_or_null(l.p50_ns, l.count));
    p95.push_back(ms_or_null(l.p95_ns, l.count));
    p99.push_back(ms_or_null(l.p99_ns, l.count));
    max.push_back(ms_or_null(l.max_ns, l.count));
  }
  if (samples == 0) return;
  c.lines = {{"p50", p50}, {"p95", p95}, {"p99", p99}, {"max", max}};
  out.push_back(std::move(c));
}

}  // namespace

std::vector<chart> series_charts(const std::vector<series_point>& series) {
  std::vector<chart> out;
  if (series.empty()) return out;
  json x = json::array(), open = json::array(), connects = json::array(), failures = json::array(),
       sent = json::array(), received = json::array(), delivered = json::array(),
       rss = json::array();
  series_point previous;
  uint64_t any_delivered = 0;
  for (const auto& s : series) {
    const double dt = s.interval_seconds;
    x.push_back(rounded(s.t, 0.001));
    open.push_back(s.open);
    connects.push_back(rate(s.upgraded, previous.upgraded, dt));
    failures.push_back(rate(s.failures, previous.failures, dt));
    sent.push_back(rate(s.sent, previous.sent, dt));
    received.push_back(rate(s.received, previous.received, dt));
    delivered.push_back(rate(s.delivered, previous.delivered, dt));
    rss.push_back(rounded(double(s.rss_bytes) / double(1 << 20), 0.01));
    any_delivered += s.delivered;
    previous = s;
  }
  chart c = time_chart("Open connections", "connections", x);
  c.lines = {{"open", open}};
  out.push_back(c);
  c = time_chart("Connect rate and failures", "per second", x);
  c.lines = {{"opened/s", connects}, {"failed/s", failures}};
  out.push_back(c);
  c = time_chart("Messages per second", "messages/s", x);
  c.lines = {{"out (sent)", sent}, {"in (received)", received}};
  if (any_delivered) c.lines.push_back({"deliveries", delivered});
  out.push_back(c);
  add_latency_chart(out, series, x, "Round trip per interval", &series_point::round_trip);
  add_latency_chart(out, series, x, "Connect per interval", &series_point::connect);
  add_latency_chart(out, series, x, "Upgrade per interval", &series_point::upgrade);
  add_latency_chart(out, series, x, "Fan-out per interval", &series_point::fanout);
  c = time_chart("horde's RSS", "MiB", x);
  c.lines = {{"RSS", rss}};
  out.push_back(c);
  return out;
}

std::vector<chart> target_charts(const json& series, const std::vector<size_t>& ends) {
  std::vector<chart> out;
  if (!series.is_array()) return out;
  json x = json::array(), rss = json::array(), cpu = json::array();
  bool any = false, any_cpu = false;
  double cpu_before = 0, t_before = 0;
  for (size_t end : ends) {
    if (end >= series.size()) break;
    const auto& point = series[end];
    const auto t = number_at(point, "/t").value_or(0);
    x.push_back(rounded(t, 0.001));
    // target_cost's per-point fields (docs/json.md), or a `target` object.
    auto rss_bytes = number_at(point, "/target_rss_bytes");
    if (!rss_bytes) rss_bytes = number_at(point, "/target/rss_bytes");
    rss.push_back(rss_bytes ? json(rounded(*rss_bytes / double(1 << 20), 0.01)) : json());
    any = any || rss_bytes;
    // CPU as a share of one CPU over the kept interval: from a percent given
    // per point, or from cumulative seconds.
    if (const auto percent = number_at(point, "/target/cpu_percent")) {
      cpu.push_back(rounded(*percent, 0.1));
      any_cpu = true;
    } else if (const auto user = number_at(point, "/target_cpu_user_s")) {
      const double used = *user + number_at(point, "/target_cpu_system_s").value_or(0);
      cpu.push_back(t > t_before ? json(rounded(100 * (used - cpu_before) / (t - t_before), 0.1))
                                 : json());
      cpu_before = used;
      any_cpu = true;
    } else if (const auto user = number_at(point, "/target/cpu_user_seconds")) {
      const double used = *user + number_at(point, "/target/cpu_system_seconds").value_or(0);
      cpu.push_back(t > t_before ? json(rounded(100 * (used - cpu_before) / (t - t_before), 0.1))
                                 : json());
      cpu_before = used;
      any_cpu = true;
    } else {
      cpu.push_back(nullptr);
    }
    t_before = t;
  }
  if (any) {
    chart c = time_chart("Target's RSS", "MiB", x);
    c.lines = {{"RSS", rss}};
    out.push_back(c);
  }
  if (any_cpu) {
    chart c = time_chart("Target's CPU", "% of one CPU", x);
    c.lines = {{"CPU", cpu}};
    out.push_back(c);
  }
  return out;
}

std::vector<chart> failure_charts(const json& series, const std::vector<size_t>& ends) {
  std::vector<chart> out;
  if (!series.is_array()) return out;
  // Every reason any kept point carries, as a rate per second.
  std::vector<std::string> reasons;
  for (size_t end : ends) {
    if (end >= series.size()) break;
    const auto it = series[end].find("failures_by_reason");
    if (it == series[end].end() || !it->is_object()) continue;
    for (const auto& [reason, count] : it->items()) {
      (void)count;
      if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end())
        reasons.push_back(reason);
    }
  }
  if (reasons.empty()) return out;
  json x = json::array();
  std::vector<json> lines(reasons.size(), json::array());
  std::vector<double> before(reasons.size(), 0);
  double t_before = 0;
  for (size_t end : ends) {
    if (end >= series.size()) break;
    const auto& point = series[end];
    const double t = number_at(point, "/t").value_or(0);
    x.push_back(rounded(t, 0.001));
    for (size_t k = 0; k < reasons.size(); ++k) {
      const double now = number_at(point, "/failures_by_reason/" + reasons[k]).value_or(before[k]);
      lines[k].push_back(t > t_before ? json(rounded((now - before[k]) / (t - t_before), 0.01))
                                      : json());
      before[k] = now;
    }
    t_before = t;
  }
  chart c = time_chart("Failures by reason", "per second", x);
  for (size_t k = 0; k < reasons.size(); ++k)
    c.lines.push_back({reasons[k], lines[k]});
  out.push_back(c);
  return out;
}

std::vector<named_histogram> histograms_in(const json& result) {
  std::vector<named_histogram> out;
  const auto add_from = [&](const std::string& pointer, const std::string& prefix,
                            bool latency_suffix_only) {
    const auto& section = json_at(result, pointer);
    if (!section.is_object()) return;
    for (const auto& [name, h] : section.items()) {
      if (!h.is_object() || !h.contains("buckets")) continue;
      if (latency_suffix_only && name.find("latency") == std::string::npos) continue;
      if (number_at(h, "/count").value_or(0) == 0) continue;
      out.push_back({prefix + name, pointer + "/" + name});
    }
  };
  add_from("/latency", "", false);
  add_from("/scenario/latency", "scenario: ", false);
  add_from("/pubsub", "pub/sub: ", true);
  add_from("/pubsub/churn", "churn: ", true);
  add_from("/pubsub/group_setup", "group setup: ", true);
  return out;
}

chart spectrum_chart(const std::string& name, const json& histogram) {
  chart c;
  c.title = "Percentile spectrum: " + name;
  c.x_kind = "percentile";
  c.y_label = "ms";
  c.y_log = true;
  c.x = json::array();
  json values = json::array();
  for (const auto& p : percentile_spectrum(sparse_histogram_of(histogram))) {
    // The max (p100) has no place on a 1/(1-q) axis; the tables give it.
    if (p.percentile >= 100) continue;
    c.x.push_back(1.0 / (1.0 - p.percentile / 100.0));
    values.push_back(p.value_ns == 0 ? json() : json(rounded(double(p.value_ns) / 1e6, 0.0001)));
  }
  c.lines = {{name, values}};
  return c;
}

std::vector<chart> ladder_charts(const json& ladder) {
  std::vector<chart> out;
  const auto& levels = json_at(ladder, "/levels");
  if (!levels.is_array() || levels.empty()) return out;
  chart c;
  // The knee, as the ladder judged it.
  const auto held = number_at(ladder, "/last_held_level");
  const auto broke = number_at(ladder, "/broke_at_level");
  c.title = "Ladder: latency by level";
  if (broke) {
    c.title +=
        fmt::format(" — knee: held to level {}, broke at level {}", held.value_or(0), *broke);
  } else if (held) {
    c.title += fmt::format(" — held to level {}", *held);
  }
  c.y_label = "ms";
  c.y_log = true;
  c.x = json::array();
  std::vector<std::string> figures;
  for (const auto& [name, v] : levels.front().items())
    if (v.is_number() && name.size() > 3 && name.ends_with("_ns")) figures.push_back(name);
  for (size_t i = 0; i < levels.size(); ++i)
    c.x.push_back(number_at(levels[i], "/level").value_or(double(i + 1)));
  for (const auto& f : figures) {
    json values = json::array();
    for (const auto& level : levels) {
      const auto ns = number_at(level, "/" + f);
      values.push_back(ns && *ns > 0 ? json(rounded(*ns / 1e6, 0.0001)) : json());
    }
    c.lines.push_back({f.substr(0, f.size() - 3), values});
  }
  if (!c.lines.empty()) out.push_back(std::move(c));
  return out;
}

}  // namespace horde::app

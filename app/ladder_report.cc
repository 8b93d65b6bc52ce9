#include "app/ladder_report.hh"

#include <fmt/format.h>

#include <algorithm>

#include "app/report_format.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

std::string value_text(ladder_step step, uint64_t value) {
  return grouped(value) + (step == ladder_step::rate ? " msgs/s" : " connections");
}

std::string level_text(ladder_step step, const ladder_level& level) {
  return fmt::format("level {} ({})", level.level, value_text(step, level.value));
}

// A rate as a table cell: whole numbers, grouped.
std::string per_second(double rate) {
  return grouped(uint64_t(std::llround(std::max(rate, 0.0))));
}

// Messages sent and received per second while the level held its load: the
// series' last point inside the hold (echoes that come back during the
// drain would otherwise inflate a rate the target could not keep).
void hold_rates(const run_result& r, ladder_level& out) {
  const double hold = r.plan ? double(r.plan->duration_ns) / 1e9 : r.elapsed_seconds;
  const series_point* last = nullptr;
  for (const auto& point : r.series)
    if (point.t <= hold + 0.25) last = &point;
  if (last && last->t > 0) {
    out.sent_per_second = double(last->sent) / last->t;
    out.received_per_second = double(last->received) / last->t;
  } else if (r.elapsed_seconds > 0) {
    out.sent_per_second = double(r.metrics.counters.messages_sent) / r.elapsed_seconds;
    out.received_per_second = double(r.metrics.counters.messages_received) / r.elapsed_seconds;
  }
  uint64_t opened_before = 0;
  for (const auto& point : r.series) {
    if (point.interval_seconds > 0)
      out.connects_per_second = std::max(
          out.connects_per_second, double(point.upgraded - opened_before) / point.interval_seconds);
    opened_before = point.upgraded;
  }
}

// The target's own cost at this level (the run JSON's `target_cost`, when a
// target was sampled): its peak RSS, and its CPU over the level as a share
// of one CPU.
void level_target_cost(const json& run, ladder_level& out) {
  const auto cost = run.find("target_cost");
  if (cost == run.end() || !cost->is_object()) return;
  if (auto f = cost->find("peak_rss_bytes"); f != cost->end() && f->is_number())
    out.target_rss_bytes = f->get<uint64_t>();
  const double cpu = cost->value("cpu_user_seconds", 0.0) + cost->value("cpu_system_seconds", 0.0);
  const auto series = run.find("series");
  if (series != run.end() && series->is_array() && !series->empty()) {
    const double seconds = series->back().value("t", 0.0);
    if (seconds > 0) out.target_cpu_percent = 100.0 * cpu / seconds;
  }
}

std::string optional_cell(const std::optional<double>& v, const char* format) {
  return v ? fmt::format(fmt::runtime(format), *v) : std::string("-");
}

std::string verdict_cell(const ladder_level& level) {
  const auto& j = level.judged;
  std::string cell = !j.valid        ? "INVALID"
                     : j.interrupted ? "interrupted"
                     : j.broke       ? "BROKE"
                                     : "held";
  if (level.attempts > 1) cell += " (2nd try)";
  return cell;
}

json optional_json(const std::optional<size_t>& index, const std::vector<ladder_level>& levels,
                   bool value) {
  if (!index || *index >= levels.size()) return nullptr;
  return value ? json(levels[*index].value) : json(levels[*index].level);
}

}  // namespace

ladder_level level_figures(unsigned level, uint64_t value, const run_result& r, json run_json) {
  ladder_level out;
  out.level = level;
  out.value = value;
  const auto& c = r.metrics.counters;
  const bool pubsub = r.plan && r.plan->pubsub.enabled();
  out.connections = r.plan ? r.plan->connections : 0;
  out.peak_open = c.open_peak;
  if (r.plan)
    out.asked_per_second =
        pubsub ? r.plan->pubsub.publish_rate * double(r.plan->pubsub.layout.publishers)
               : r.plan->message_rate * double(r.plan->connections);
  hold_rates(r, out);
  const core::histogram& latency = pubsub ? r.metrics.latency.fanout : r.metrics.latency.round_trip;
  if (latency.count() > 0) {
    out.latency_p50_ns = latency.value_at_quantile(0.50);
    out.latency_p95_ns = latency.value_at_quantile(0.95);
    out.latency_p99_ns = latency.value_at_quantile(0.99);
  }
  threshold errors;
  errors.metric = "errors";
  errors.unit = figure_unit::ratio;
  out.errors_share = measure(errors, threshold_input{&c, &r.metrics.latency, nullptr, pubsub});
  level_target_cost(run_json, out);
  out.run = std::move(run_json);
  return out;
}

std::string level_start_line(ladder_step step, unsigned level, unsigned levels, uint64_t value,
                             uint64_t connections, uint64_t hold_ns) {
  const std::string hold = fmt::format("{:g} s", double(hold_ns) / 1e9);
  if (step == ladder_step::connections)
    return fmt::format("level {}/{}: {}, {}", level, levels, value_text(step, value), hold);
  return fmt::format("level {}/{}: {} over {} connections, {}", level, levels,
                     value_text(step, value), grouped(connections), hold);
}

std::string level_table_header(bool with_target) {
  std::string header =
      fmt::format("{:>5}  {:>11}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9}  {:>9}  {:>9}  {:>8}",
                  "level", "connections", "asked/s", "sent/s", "recv/s", "connects/s", "p50 ms",
                  "p95 ms", "p99 ms", "errors");
  if (with_target) header += fmt::format("  {:>10}  {:>10}", "target cpu", "target rss");
  return header + "  verdict";
}

std::string level_table_row(const ladder_level& l, bool with_target) {
  const std::string errors =
      l.errors_share ? fmt::format("{:.3f}%", *l.errors_share * 100) : std::string("-");
  std::string row = fmt::format(
      "{:>5}  {:>11}  {:>10}  {:>10}  {:>10}  {:>10}  {:>9}  {:>9}  {:>9}  {:>8}", l.level,
      grouped(l.connections), per_second(l.asked_per_second), per_second(l.sent_per_second),
      per_second(l.received_per_second), per_second(l.connects_per_second), ms(l.latency_p50_ns),
      ms(l.latency_p95_ns), ms(l.latency_p99_ns), errors);
  if (with_target) {
    const std::string rss = l.target_rss_bytes ? bytes_text(*l.target_rss_bytes) : "-";
    row += fmt::format("  {:>10}  {:>10}", optional_cell(l.target_cpu_percent, "{:.0f}%"), rss);
  }
  row += "  " + verdict_cell(l);
  if (!l.judged.reasons.empty() && (l.judged.broke || !l.judged.valid)) {
    std::string joined;
    for (const auto& reason : l.judged.reasons)
      joined += (joined.empty() ? "" : "; ") + reason;
    row += ": " + joined;
  }
  return row;
}

std::string conclusion_text(ladder_step step, const std::vector<ladder_level>& levels,
                            const ladder_conclusion& c) {
  const std::string held =
      c.last_held ? level_text(step, levels[*c.last_held]) : std::string("none");
  auto because = [&](size_t i) {
    std::string joined;
    for (const auto& reason : levels[i].judged.reasons)
      joined += (joined.empty() ? "" : "; ") + reason;
    return joined;
  };
  if (c.broke_at)
    return fmt::format("last level held: {}, broke at: {} because {}", held,
                       level_text(step, levels[*c.broke_at]), because(*c.broke_at));
  if (c.invalid_at)
    return fmt::format(
        "last level held: {}; {} was invalid, run twice: {} — horde, not the target, was the "
        "limit (give horde more CPUs or run it from another host)",
        held, level_text(step, levels[*c.invalid_at]), because(*c.invalid_at));
  if (c.interrupted_at)
    return fmt::format("last level held: {}; interrupted during {}", held,
                       level_text(step, levels[*c.interrupted_at]));
  if (levels.empty()) return "no level ran";
  return fmt::format("no level broke up to {}", level_text(step, levels.back()));
}

json ladder_json(const ladder_spec& spec, const std::vector<std::string>& limits,
                 const std::vector<ladder_level>& levels, const ladder_conclusion& c) {
  json out;
  out["schema"] = ladder_schema;
  out["step"] = spec.step == ladder_step::rate ? "rate" : "connections";
  out["start"] = spec.start;
  if (spec.add) {
    out["add"] = spec.add;
  } else {
    out["factor"] = spec.factor;
  }
  out["max_levels"] = spec.levels;
  out["hold_seconds"] = double(spec.hold_ns) / 1e9;
  out["limits"] = limits;
  json rows = json::array();
  for (const auto& l : levels) {
    json row = {{"level", l.level},
                {"value", l.value},
                {"connections", l.connections},
                {"peak_open", l.peak_open},
                {"asked_per_second", l.asked_per_second},
                {"sent_per_second", l.sent_per_second},
                {"received_per_second", l.received_per_second},
                {"connects_per_second", l.connects_per_second},
                {"round_trip_p50_ns", l.latency_p50_ns},
                {"round_trip_p95_ns", l.latency_p95_ns},
                {"round_trip_p99_ns", l.latency_p99_ns},
                {"errors_share", l.errors_share ? json(*l.errors_share) : json(nullptr)},
                {"attempts", l.attempts},
                {"valid", l.judged.valid},
                {"broke", l.judged.broke},
                {"interrupted", l.judged.interrupted},
                {"reasons", l.judged.reasons}};
    if (l.target_cpu_percent) row["target_cpu_percent"] = *l.target_cpu_percent;
    if (l.target_rss_bytes) row["target_rss_bytes"] = *l.target_rss_bytes;
    row["run"] = l.run;
    rows.push_back(std::move(row));
  }
  out["levels"] = std::move(rows);
  out["last_held"] = optional_json(c.last_held, levels, true);
  out["last_held_level"] = optional_json(c.last_held, levels, false);
  out["broke_at"] = optional_json(c.broke_at, levels, true);
  out["broke_at_level"] = optional_json(c.broke_at, levels, false);
  const std::optional<size_t> stopped = c.broke_at ? c.broke_at : c.invalid_at;
  if (stopped) {
    std::string joined;
    for (const auto& reason : levels[*stopped].judged.reasons)
      joined += (joined.empty() ? "" : "; ") + reason;
    out["because"] = joined;
  } else {
    out["because"] = nullptr;
  }
  out["outcome"] = c.outcome;
  out["exit_code"] = c.exit_code;
  return out;
}

}  // namespace horde::app

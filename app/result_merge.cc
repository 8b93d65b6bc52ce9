#include "app/result_merge.hh"

#include <fmt/format.h>

#include <algorithm>

#include "app/result_figures.hh"
#include "app/run_result.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

// Sections whose figures add (app/result_merge_sum.cc says which do not).
constexpr const char* summed_sections[] = {"leak_check",     "connections", "messages", "counters",
                                           "pubsub",         "latency",     "scenario", "tls",
                                           "kernel_network", "self",        "server"};

// The plan the merged file stands for: the workers' whole plan, or the
// independent runs' plans with their connections and rates added.
json merged_plan(const std::vector<merge_input>& inputs, const merge_outcome& out) {
  const json& first = inputs.front().result;
  if (out.workers) return first["worker"].value("whole_plan", json::object());
  json plan = first.value("plan", json::object());
  for (size_t i = 1; i < inputs.size(); ++i) {
    const json other = inputs[i].result.value("plan", json::object());
    for (const char* key : {"connections", "connect_rate"})
      if (plan.contains(key) && other.contains(key) && plan[key].is_number() &&
          other[key].is_number())
        plan[key] = plan[key].get<double>() + other[key].get<double>();
  }
  return plan;
}

json worker_json(const std::vector<merge_input>& inputs, const merge_outcome& out) {
  json hosts = json::array(), offsets = json::array(), files = json::array();
  for (const auto& in : inputs) {
    const json w = in.result.value("worker", json::object());
    hosts.push_back(w.value("host", ""));
    offsets.push_back(w.value("clock_offset_ns", json(nullptr)));
    files.push_back(in.path);
  }
  json j = {{"merged", out.merged_indexes}, {"count", out.count},
            {"missing", out.missing},       {"hosts", hosts},
            {"clock_offsets_ns", offsets},  {"files", files}};
  if (!out.workers) j["independent_runs"] = true;
  return j;
}

// Figures that are ratios of sums: computed again from the added parts.
void recompute_ratios(json& m) {
  json& self = m["self"];
  if (self.is_object()) {
    const double before = self.value("rss_before_connections", 0.0);
    const double at_peak = self.value("rss_at_peak_open", 0.0);
    const double open = self.value("open_at_rss_sample", 0.0);
    self["memory_per_connection_bytes"] =
        open >= double(min_connections_for_memory) && at_peak > before
            ? json((at_peak - before) / open)
            : json(nullptr);
    const double cpu = self.value("cpu_user_seconds", 0.0) + self.value("cpu_system_seconds", 0.0);
    const json& messages = m["messages"];
    const double received = messages.is_object() ? messages.value("received", 0.0) : 0.0;
    self["cpu_seconds_per_million_messages"] = received >= double(min_messages_for_cpu) && cpu > 0
                                                   ? json(cpu / (received / 1e6))
                                                   : json(nullptr);
  }
  // With workers a publish owes deliveries to other workers' subscribers
  // (pubsub.expected_elsewhere): each file's `lost` counts them as missing,
  // the sums settle them.
  json& pubsub = m["pubsub"];
  if (pubsub.is_object() && pubsub.contains("expected") && pubsub.contains("delivered")) {
    const uint64_t expected = pubsub.value("expected", uint64_t{0});
    const uint64_t delivered = pubsub.value("delivered", uint64_t{0});
    pubsub["lost"] = expected > delivered ? expected - delivered : 0;
  }
  json& scenario = m["scenario"];
  if (scenario.is_object()) {
    const double opened = scenario.value("reconnects_opened", 0.0);
    scenario["attempts_per_success"] =
        opened > 0 ? json(scenario.value("reconnects", 0.0) / opened) : json(nullptr);
  }
}

// Notes and errors, each line saying which file it came from.
json labelled_lines(const std::vector<merge_input>& inputs, const merge_outcome& out,
                    const char* key) {
  json lines = json::array();
  for (const auto& in : inputs) {
    const json list = in.result.value(key, json::array());
    if (!list.is_array()) continue;
    for (const auto& line : list)
      if (line.is_string()) lines.push_back(input_label(in, out) + ": " + line.get<std::string>());
  }
  return lines;
}

// The per-target breakdown (several targets): entries added by URL, each
// like a section (connections, failures by reason, latency histograms).
json merged_targets(const std::vector<merge_input>& inputs,
                    const std::vector<double>& percentiles) {
  json out = json::array();
  for (const auto& in : inputs) {
    for (const auto& t : in.result.value("targets", json::array())) {
      if (!t.is_object() || !t.contains("url")) continue;
      auto same =
          std::find_if(out.begin(), out.end(), [&](const json& e) { return e["url"] == t["url"]; });
      if (same == out.end())
        out.push_back(t);
      else
        add_section(*same, t, "targets", percentiles);
    }
  }
  return out;
}

void merge_top_level(const std::vector<merge_input>& inputs, merge_outcome& out, json& m) {
  const json& first = inputs.front().result;
  for (const char* key : {"schema", "target", "environment", "headers"})
    if (first.contains(key)) m[key] = first[key];
  bool embedded = false, interrupted = false, stuck = false;
  double elapsed = 0;
  for (const auto& in : inputs) {
    embedded = embedded || in.result.value("embedded_server", false);
    interrupted = interrupted || in.result.value("interrupted", false);
    stuck = stuck || in.result.value("shards_stuck", false);
    elapsed = std::max(elapsed, in.result.value("elapsed_seconds", 0.0));
    if (in.result.value("target", json()) != first.value("target", json()))
      out.notes.push_back(in.path + " ran against " + in.result.value("target", json()).dump() +
                          ", the merged file names the first file's target");
  }
  m["embedded_server"] = embedded;
  m["interrupted"] = interrupted;
  m["elapsed_seconds"] = elapsed;
  m["plan"] = merged_plan(inputs, out);
  m["worker"] = worker_json(inputs, out);
  m["notes"] = labelled_lines(inputs, out, "notes");
  m["shards_stuck"] = stuck;
  m["errors"] = labelled_lines(inputs, out, "errors");
}

}  // namespace

std::string input_label(const merge_input& in, const merge_outcome& out) {
  if (!out.workers) return in.path;
  return fmt::format("worker {} ({})", in.result["worker"].value("index", uint64_t(0)), in.path);
}

result<merge_outcome> merge_results(const std::vector<merge_input>& inputs) {
  // Every read is checked; this catches a kind no check foresaw (a string
  // where a count was), so a damaged file is an error, never a crash.
  try {
    return merge_checked(inputs);
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("a field has an unexpected kind: ") + e.what());
  }
}

result<merge_outcome> merge_checked(const std::vector<merge_input>& inputs) {
  merge_outcome out;
  if (auto checked = check_merge_inputs(inputs, out); !checked) return checked.error();
  if (!out.workers) out.notes.push_back("no \"worker\" objects: added independent runs");
  if (!out.missing.empty())
    out.notes.push_back(fmt::format("worker slices missing: {} of {} (the figures lack them)",
                                    fmt::join(out.missing, ", "), out.count));
  json m = json::object();
  merge_top_level(inputs, out, m);
  const std::vector<double> percentiles = result_percentiles(inputs.front().result);
  for (const char* section : summed_sections) {
    json merged;
    for (const auto& in : inputs)
      if (in.result.contains(section))
        add_section(merged, in.result[section], section, percentiles);
    if (!merged.is_null()) m[section] = std::move(merged);
  }
  if (json targets = merged_targets(inputs, percentiles); !targets.empty())
    m["targets"] = std::move(targets);
  recompute_ratios(m);
  m["series"] = merge_series(inputs, out.notes);
  for (const auto& in : inputs)
    if (in.result.contains("target_cost")) {
      out.notes.push_back("target_cost is each worker's own sampling: not merged (see the files)");
      break;
    }
  for (const auto& note : out.notes)
    m["notes"].push_back("horde merge: " + note);
  out.merged = std::move(m);
  return out;
}

}  // namespace horde::app

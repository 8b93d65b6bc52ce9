#include "app/merge_command.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "app/report_command.hh"
#include "app/report_format.hh"
#include "app/result_figures.hh"
#include "app/result_file.hh"
#include "app/run_verdict.hh"
#include "app/threshold.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

result<std::vector<merge_input>> read_inputs(const std::vector<std::string>& paths) {
  std::vector<merge_input> inputs;
  for (const auto& path : paths) {
    auto loaded = read_result_file(path);
    if (!loaded) return loaded.error();
    if (loaded->contains("ladder"))
      return make_error(path + " is a ladder (horde.ladder/1): merge horde run results");
    inputs.push_back({path, std::move(*loaded)});
  }
  return inputs;
}

// The thresholds the runs were judged by (their own --threshold, once
// each), then those given to horde merge.
result<std::vector<threshold>> thresholds_to_judge(const std::vector<merge_input>& inputs,
                                                   const std::vector<std::string>& given) {
  std::vector<std::string> texts;
  for (const auto& in : inputs) {
    const json list = in.result.value("thresholds", json::array());
    for (const auto& t : list.is_array() ? list : json::array())
      if (t.is_object() && !t.value("implicit", false) && t.contains("expr"))
        texts.push_back(t.value("expr", ""));
  }
  texts.insert(texts.end(), given.begin(), given.end());
  std::vector<threshold> out;
  for (const auto& text : texts) {
    if (std::any_of(out.begin(), out.end(), [&](const threshold& t) { return t.expr == text; }))
      continue;
    auto parsed = parse_threshold(text);
    if (!parsed) return make_error("--threshold '" + text + "': " + parsed.error().message);
    out.push_back(std::move(*parsed));
  }
  return out;
}

std::string latency_text(const json& m, const char* pointer_to_percentile) {
  const json::json_pointer p(pointer_to_percentile);
  if (!m.contains(p) || !m.at(p).is_number()) return "-";
  return fmt::format("{:.3f} ms", m.at(p).get<double>() / 1e6);
}

void print_summary(const merge_outcome& out, const json& m, size_t files) {
  fmt::print("horde merge: {} files, {}\n", files,
             out.workers ? fmt::format("worker slices {} of {}",
                                       fmt::join(out.merged_indexes, ", "), out.count)
                         : std::string("independent runs added"));
  if (!out.missing.empty())
    fmt::print("  MISSING      worker slices {} of {}: the merged figures lack them\n",
               fmt::join(out.missing, ", "), out.count);
  const json& c = m.value("connections", json::object());
  const json& msg = m.value("messages", json::object());
  fmt::print("  connections  {} opened of {} attempted, {} failed, peak open {} (sum of peaks)\n",
             grouped(c.value("opened", uint64_t(0))), grouped(c.value("attempted", uint64_t(0))),
             grouped(c.value("failed", uint64_t(0))), grouped(c.value("peak_open", uint64_t(0))));
  fmt::print("  messages     {} sent, {} answered\n", grouped(msg.value("sent", uint64_t(0))),
             grouped(msg.value("answered", uint64_t(0))));
  fmt::print("  round trip   p50 {}  p99 {}  (from the merged buckets)\n",
             latency_text(m, "/latency/round_trip/percentiles_ns/p50"),
             latency_text(m, "/latency/round_trip/percentiles_ns/p99"));
  for (const auto& t : m["thresholds"]) {
    if (t.value("implicit", false) && t.value("passed", false)) continue;
    fmt::print("  threshold    {}  {}\n", t.value("passed", false) ? "PASS" : "FAIL",
               t.value("expr", ""));
  }
  const json& v = m["verdict"];
  std::vector<std::string> reasons = v.value("reasons", std::vector<std::string>{});
  fmt::print("  verdict      {} (exit {}){}{}\n", v.value("outcome", ""), v.value("exit_code", 0),
             reasons.empty() ? "" : ": ", fmt::join(reasons, "; "));
  for (const auto& note : out.notes)
    fmt::print("  note         {}\n", note);
}

}  // namespace

int merge(const merge_options& options) {
  auto inputs = read_inputs(options.inputs);
  if (!inputs) {
    fmt::print(stderr, "horde merge: {}\n", inputs.error().message);
    return exit_usage;
  }
  auto thresholds = thresholds_to_judge(*inputs, options.thresholds);
  if (!thresholds) {
    fmt::print(stderr, "horde merge: {}\n", thresholds.error().message);
    return exit_usage;
  }
  auto merged = merge_results(*inputs);
  if (!merged) {
    fmt::print(stderr, "horde merge: {}\n", merged.error().message);
    return exit_usage;
  }
  if (auto judged = judge_merged(*inputs, *merged, *thresholds); !judged) {
    fmt::print(stderr, "horde merge: {}\n", judged.error().message);
    return exit_usage;
  }
  json& m = merged->merged;
  if (auto written = write_whole(options.output, m.dump(1) + "\n"); !written) {
    fmt::print(stderr, "horde merge: {}\n", written.error().message);
    return exit_usage;
  }
  print_summary(*merged, m, inputs->size());
  fmt::print("horde merge: wrote {}\n", options.output);
  return m["verdict"].value("exit_code", exit_usage);
}

}  // namespace horde::app

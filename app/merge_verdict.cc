// The merged run's verdict (app/merge_command.hh), in the shape horde run
// writes (docs/json.md's "verdict").
#include <fmt/format.h>

#include <map>

#include "app/merge_command.hh"
#include "app/result_figures.hh"
#include "app/run_verdict.hh"
#include "app/threshold.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

// Why the merged figures are not the plan's: a slice missing, a worker's
// run invalid or with a failed shard.
std::vector<std::string> invalid_reasons(const std::vector<merge_input>& inputs,
                                         const merge_outcome& out) {
  std::vector<std::string> reasons;
  if (!out.missing.empty())
    reasons.push_back(
        fmt::format("worker slices {} of {} are missing: the figures are not the "
                    "whole plan's",
                    fmt::join(out.missing, ", "), out.count));
  // One line per distinct reason, naming every worker that gave it: ten
  // starved workers are one line, not ten.
  std::map<std::string, std::vector<std::string>> workers_by_reason;
  for (const auto& in : inputs) {
    const json verdict = in.result.value("verdict", json::object());
    if (verdict.value("outcome", "") != "invalid") continue;
    std::vector<std::string> why;
    for (const auto& r : verdict.value("reasons", json::array()))
      if (r.is_string()) why.push_back(r.get<std::string>());
    workers_by_reason[fmt::format("{}", fmt::join(why, "; "))].push_back(input_label(in, out));
  }
  for (const auto& [why, who] : workers_by_reason)
    reasons.push_back(fmt::format("{} {} invalid: {}", fmt::join(who, ", "),
                                  who.size() == 1 ? "was" : "were", why));
  return reasons;
}

// "rtt.p99<5ms (measured 7.250 ms)", as horde run says it.
std::string failed_text(const json& outcome) {
  const std::string expr = outcome.value("expr", "");
  const auto parsed = parse_threshold(expr);
  const json v = outcome.value("value", json());
  const std::optional<double> value =
      v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
  if (!parsed) return expr + " failed";
  return fmt::format("{} (measured {})", expr, figure_text(value, parsed->unit));
}

}  // namespace

json merged_verdict(const std::vector<merge_input>& inputs, const merge_outcome& out,
                    const json& thresholds_judged) {
  json stopped_by = nullptr;
  std::vector<std::string> reasons = invalid_reasons(inputs, out);
  int code = reasons.empty() ? exit_passed : exit_invalid;
  if (code == exit_passed) {
    for (const auto& in : inputs) {
      const json s = in.result.value("verdict", json::object()).value("stopped_by", json());
      if (!s.is_object()) continue;
      if (stopped_by.is_null()) stopped_by = s;
      reasons.push_back(fmt::format("{} was stopped by {} at {:.1f} s", input_label(in, out),
                                    s.value("expr", "?"), s.value("at_seconds", 0.0)));
    }
    for (const auto& t : thresholds_judged) {
      if (t.value("passed", false)) continue;
      reasons.push_back(t.value("implicit", false) ? t.value("description", "") : failed_text(t));
    }
    code = reasons.empty() ? exit_passed : exit_check_failed;
  }
  const char* outcome = code == exit_passed    ? "passed"
                        : code == exit_invalid ? "invalid"
                                               : "failed";
  return {
      {"outcome", outcome}, {"exit_code", code}, {"reasons", reasons}, {"stopped_by", stopped_by}};
}

result<void> judge_merged(const std::vector<merge_input>& inputs, merge_outcome& out,
                          const std::vector<threshold>& thresholds) {
  try {
    json& m = out.merged;
    m["thresholds"] = judge_result_json(m, thresholds);
    m["verdict"] = merged_verdict(inputs, out, m["thresholds"]);
    return {};
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("a field has an unexpected kind: ") + e.what());
  }
}

}  // namespace horde::app

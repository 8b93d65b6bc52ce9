// The report's verdict (app/report.hh): each threshold with its measured
// value, the implicit checks that failed, what stopped the run early, and
// the exit code's reason — in the text summary and in the JSON.
#include <fmt/format.h>

#include "app/report.hh"
#include "app/run_verdict.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

const char* op_text(compare_op op) {
  switch (op) {
    case compare_op::less:
      return "<";
    case compare_op::less_equal:
      return "<=";
    case compare_op::greater:
      return ">";
    case compare_op::greater_equal:
      return ">=";
    case compare_op::equal:
      return "==";
    case compare_op::not_equal:
      return "!=";
  }
  return "?";
}

const char* unit_text(figure_unit unit) {
  switch (unit) {
    case figure_unit::ns:
      return "ns";
    case figure_unit::ratio:
      return "ratio";
    case figure_unit::count:
      return "count";
  }
  return "?";
}

json outcome_json(const threshold_outcome& t) {
  json j = {{"expr", t.check.expr},
            {"metric", t.check.metric},
            {"op", op_text(t.check.op)},
            {"limit", t.check.limit},
            {"unit", unit_text(t.check.unit)},
            {"value", t.value ? json(*t.value) : json(nullptr)},
            {"passed", t.passed},
            {"abort", t.check.abort},
            {"implicit", t.implicit}};
  if (t.implicit) j["description"] = t.check.description;
  return j;
}

}  // namespace

void print_verdict(std::FILE* out, const run_result& r) {
  bool first = true;
  for (const auto& t : r.thresholds) {
    if (t.implicit) continue;
    fmt::print(out, "  {}  {}  {:<28} measured {}\n", first ? "thresholds " : "           ",
               t.passed ? "PASS" : "FAIL", t.check.expr, figure_text(t.value, t.check.unit));
    first = false;
  }
  // The implicit checks are news only when they fail.
  for (const auto& t : r.thresholds) {
    if (!t.implicit || t.passed) continue;
    fmt::print(out, "  check        FAIL  {} ({}: measured {})\n", t.check.description,
               t.check.expr, figure_text(t.value, t.check.unit));
  }
  if (r.stopped_by) {
    fmt::print(out, "  stopped      at {:.1f} s: threshold {} failed (measured {})\n",
               r.stopped_at_seconds, r.stopped_by->check.expr,
               figure_text(r.stopped_by->value, r.stopped_by->check.unit));
  }
  const run_verdict verdict = judge_run(r);
  fmt::print(out, "  verdict      {} (exit {}){}{}\n", verdict.outcome, verdict.exit_code,
             verdict.reasons.empty() ? "" : ": ", fmt::join(verdict.reasons, "; "));
}

json thresholds_json(const run_result& r) {
  json list = json::array();
  for (const auto& t : r.thresholds)
    list.push_back(outcome_json(t));
  return list;
}

json verdict_json(const run_result& r) {
  const run_verdict verdict = judge_run(r);
  json j = {{"outcome", verdict.outcome},
            {"exit_code", verdict.exit_code},
            {"reasons", verdict.reasons},
            {"stopped_by", nullptr}};
  if (r.stopped_by) {
    j["stopped_by"] = outcome_json(*r.stopped_by);
    j["stopped_by"]["at_seconds"] = r.stopped_at_seconds;
  }
  return j;
}

}  // namespace horde::app

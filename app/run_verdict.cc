#include "app/run_verdict.hh"

#include <fmt/format.h>

#include "app/report.hh"

namespace horde::app {

void judge_thresholds(const std::vector<threshold>& thresholds, run_result& result) {
  const bool pubsub = result.plan && result.plan->pubsub.enabled();
  const threshold_input in{&result.metrics.counters, &result.metrics.latency, nullptr, pubsub,
                           result.plan ? &result.plan->named : nullptr};
  result.thresholds = evaluate_thresholds(thresholds, in);
  const uint64_t planned = result.plan ? result.plan->connections : 0;
  for (auto& outcome : evaluate_thresholds(implicit_checks(in, planned), in)) {
    outcome.implicit = true;
    result.thresholds.push_back(std::move(outcome));
  }
}

run_verdict judge_run(const run_result& r) {
  run_verdict verdict;
  // Invalid first: when horde was the limit, a failed threshold says
  // nothing about the target, and neither would a passed one.
  for (const auto& e : r.errors)
    verdict.reasons.push_back("a shard failed: " + e);
  if (r.shards_stuck) verdict.reasons.push_back("a shard never returned");
  // Saturated or starved, horde's own CPUs were the limit. Behind with CPU
  // to spare is most often the target pushing back (a full send buffer when
  // it reads slowly): a finding about the target, not an invalid run.
  if (const auto schedule = judge_schedule(r);
      !schedule.kept && (schedule.cause == "saturated" || schedule.cause == "starved"))
    verdict.reasons.push_back("horde could not keep its own schedule (" + schedule.cause +
                              "): it, not the target, limited this run");
  if (!verdict.reasons.empty()) {
    verdict.exit_code = exit_invalid;
    verdict.outcome = "invalid";
    return verdict;
  }
  // A run an `:abort` threshold stopped failed it then, whatever the
  // shortened run's final figure says.
  if (r.stopped_by)
    verdict.reasons.push_back(fmt::format(
        "{} failed at {:.1f} s (measured {}): run stopped", r.stopped_by->check.expr,
        r.stopped_at_seconds, figure_text(r.stopped_by->value, r.stopped_by->check.unit)));
  for (const auto& t : r.thresholds) {
    if (t.passed || (r.stopped_by && t.check.expr == r.stopped_by->check.expr)) continue;
    verdict.reasons.push_back(t.implicit ? t.check.description
                                         : fmt::format("{} (measured {})", t.check.expr,
                                                       figure_text(t.value, t.check.unit)));
  }
  verdict.exit_code = verdict.reasons.empty() ? exit_passed : exit_check_failed;
  verdict.outcome = verdict.reasons.empty() ? "passed" : "failed";
  return verdict;
}

}  // namespace horde::app

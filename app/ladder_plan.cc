#include "app/ladder_plan.hh"

#include <cmath>

#include "app/run_verdict.hh"
#include "app/units.hh"

namespace horde::app {

result<ladder_spec> parse_ladder(const ladder_options& options, uint64_t run_start) {
  ladder_spec spec;
  if (options.step == "connections") {
    spec.step = ladder_step::connections;
  } else if (options.step == "rate") {
    spec.step = ladder_step::rate;
  } else {
    return make_error("--step '" + options.step + "': expected connections or rate");
  }
  if (options.start.empty()) {
    spec.start = run_start;
  } else {
    auto start = parse_count(options.start);
    if (!start) return make_error("--start: " + start.error().message);
    spec.start = *start;
  }
  if (spec.start == 0) return make_error("--start: the first level needs a value above 0");
  if (!options.add.empty()) {
    auto add = parse_count(options.add);
    if (!add) return make_error("--add: " + add.error().message);
    if (*add == 0) return make_error("--add: 0 would repeat the same level");
    spec.add = *add;
  }
  if (!(options.factor > 1) || !std::isfinite(options.factor))
    return make_error("--factor: each level must be above the last: give a factor above 1");
  spec.factor = options.factor;
  if (options.levels == 0) return make_error("--levels: at least 1");
  spec.levels = options.levels;
  auto hold = parse_duration_ns(options.hold);
  if (!hold) return make_error("--hold: " + hold.error().message);
  if (*hold < 1'000'000'000)
    return make_error("--hold: at least 1s (each level is judged on a whole run)");
  spec.hold_ns = *hold;
  auto p99 = parse_duration_ns(options.p99_limit);
  if (!p99) return make_error("--p99-limit: " + p99.error().message);
  spec.p99_limit_ns = *p99;
  return spec;
}

std::vector<uint64_t> ladder_values(const ladder_spec& spec) {
  std::vector<uint64_t> values;
  double exact = double(spec.start);
  for (unsigned i = 0; i < spec.levels; ++i) {
    uint64_t value = spec.add ? spec.start + i * spec.add : uint64_t(std::llround(exact));
    // A small start with a small factor would round onto the last level.
    if (!values.empty() && value <= values.back()) value = values.back() + 1;
    values.push_back(value);
    exact *= spec.factor;
  }
  return values;
}

std::vector<std::string> ladder_limits(const ladder_spec& spec,
                                       const std::vector<std::string>& user_thresholds,
                                       bool messages_sent, bool pubsub) {
  if (!user_thresholds.empty()) return user_thresholds;
  std::vector<std::string> limits;
  // The largest unit that keeps the limit whole, so it reads back exactly.
  const uint64_t ns = spec.p99_limit_ns;
  const std::string p99 = ns % 1'000'000'000 == 0 ? std::to_string(ns / 1'000'000'000) + "s"
                          : ns % 1'000'000 == 0   ? std::to_string(ns / 1'000'000) + "ms"
                          : ns % 1'000 == 0       ? std::to_string(ns / 1'000) + "us"
                                                  : std::to_string(ns) + "ns";
  if (pubsub) {
    limits.push_back("fanout.p99<=" + p99);
  } else if (messages_sent) {
    limits.push_back("rtt.p99<=" + p99);
  }
  limits.push_back("errors<=0.1%");
  limits.push_back("connections.failed<=0.1%");
  if (pubsub) limits.push_back("pubsub.lost==0");
  return limits;
}

level_judgement judge_level(const run_result& result) {
  level_judgement judged;
  const run_verdict verdict = judge_run(result);
  judged.reasons = verdict.reasons;
  if (verdict.exit_code == exit_invalid) {
    judged.valid = false;
    return judged;
  }
  // Interrupted, the figures are of a shortened level (messages cut off in
  // flight count as unanswered): neither held nor broke.
  if (result.interrupted) {
    judged.interrupted = true;
    judged.reasons = {"interrupted by a signal"};
    return judged;
  }
  judged.broke = verdict.exit_code == exit_check_failed;
  return judged;
}

ladder_conclusion conclude_ladder(const std::vector<level_judgement>& levels) {
  ladder_conclusion out;
  out.outcome = "held";
  for (size_t i = 0; i < levels.size(); ++i) {
    const level_judgement& level = levels[i];
    if (!level.valid) {
      out.invalid_at = i;
      out.outcome = "invalid";
      out.exit_code = exit_invalid;
      return out;
    }
    if (level.interrupted) {
      out.interrupted_at = i;
      out.outcome = "interrupted";
      out.exit_code = exit_check_failed;
      return out;
    }
    if (level.broke) {
      out.broke_at = i;
      out.outcome = "broke";
      return out;
    }
    out.last_held = i;
  }
  return out;
}

}  // namespace horde::app

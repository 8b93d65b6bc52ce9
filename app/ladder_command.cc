#include "app/ladder_command.hh"

#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "app/ladder_report.hh"
#include "app/message_rate.hh"
#include "app/report.hh"
#include "app/result_file.hh"
#include "app/run_command.hh"
#include "app/run_verdict.hh"
#include "app/units.hh"

namespace horde::app {
namespace {

const std::string command = "horde ladder";

// The first level when --start is not given: the run's -c, or its message
// rate over all connections (--total-rate, else --rate x -c). 0 when the
// flags do not say; parse_ladder then asks for --start.
uint64_t run_start_value(const run_options& run, const std::string& step) {
  auto connections = parse_count(run.connections);
  if (!connections) return 0;
  if (step != "rate") return *connections;
  auto rate = parse_message_rate(run.rate, run.total_rate);
  return rate ? uint64_t(rate->over(*connections)) : 0;
}

// One level's `horde run` flags: the run's, with the stepped figure, the
// hold as its duration and no outputs of its own (the ladder's JSON nests
// each level's). The live line only on a terminal, where it stays one line.
run_options level_run_options(const run_options& base, ladder_step step, const std::string& hold,
                              uint64_t value) {
  run_options level = base;
  level.duration = hold;
  if (step == ladder_step::connections) {
    level.connections = std::to_string(value);
  } else {
    level.total_rate = std::to_string(value) + "/s";
  }
  level.json_path.clear();
  level.quiet = base.quiet || !isatty(STDERR_FILENO);
  return level;
}

// The level's run judged by the ladder's limits (the user's thresholds, or
// the defaults for what this run sends), into result.thresholds.
std::vector<std::string> judge_by_limits(const ladder_spec& spec, const run_options& base,
                                         run_result& result) {
  const bool pubsub = result.plan && result.plan->pubsub.enabled();
  const bool echoes = result.plan && result.plan->message_rate > 0;
  auto limits = ladder_limits(spec, base.thresholds, echoes, pubsub);
  std::vector<threshold> parsed;
  for (const auto& text : limits)
    if (auto t = parse_threshold(text)) parsed.push_back(std::move(*t));
  judge_thresholds(parsed, result);
  return limits;
}

result<void> check_flags(const ladder_command_options& o) {
  if (!o.run.csv_path.empty() || !o.run.html_path.empty())
    return make_error(
        "--csv and --html are horde run's; horde ladder writes --json, each level's whole "
        "run inside it");
  for (const auto& text : o.run.thresholds)
    if (auto parsed = parse_threshold(text); !parsed)
      return make_error("--threshold '" + text + "': " + parsed.error().message);
  if (!o.run.json_path.empty())
    if (auto writable = check_writable(o.run.json_path); !writable)
      return make_error("--json: " + writable.error().message);
  return {};
}

}  // namespace

int run_ladder(const ladder_command_options& o) {
  if (auto checked = check_flags(o); !checked) {
    fmt::print(stderr, "{}: {}\n", command, checked.error().message);
    return exit_usage;
  }
  ladder_options flags = o.ladder;
  if (flags.hold.empty()) flags.hold = o.run.duration;
  auto spec = parse_ladder(flags, run_start_value(o.run, flags.step));
  if (!spec) {
    fmt::print(stderr, "{}: {}\n", command, spec.error().message);
    return exit_usage;
  }
  const std::vector<uint64_t> values = ladder_values(*spec);
  const auto counted = parse_count(o.run.connections);
  const uint64_t base_connections = counted ? *counted : 0;
  // A run whose shard never returned: kept, since that shard may still read
  // its plan, until the process leaves without joining it.
  std::unique_ptr<finished_run> stuck_run;
  std::vector<ladder_level> levels;
  std::vector<level_judgement> judgements;
  std::vector<std::string> limits;
  bool with_target = false, stuck = false;
  int refused = 0;  // a level that never started: its exit code
  for (size_t i = 0; i < values.size() && refused == 0 && !stuck; ++i) {
    const run_options level = level_run_options(o.run, spec->step, flags.hold, values[i]);
    run_attempt attempt;
    level_judgement judged;
    unsigned attempts = 0;
    do {
      ++attempts;
      fmt::print(stderr, "{}{}\n",
                 level_start_line(spec->step, unsigned(i + 1), spec->levels, values[i],
                                  spec->step == ladder_step::rate ? base_connections : values[i],
                                  spec->hold_ns),
                 attempts > 1 ? " (again: the first try was invalid)" : "");
      attempt = carry_out_run(level, command);
      if (!attempt.run) break;
      limits = judge_by_limits(*spec, o.run, attempt.run->result);
      judged = judge_level(attempt.run->result);
    } while (retry_level(judged, attempts) && !attempt.run->result.shards_stuck);
    if (!attempt.run) {
      refused = attempt.exit_code;
      break;
    }
    const run_result& result = attempt.run->result;
    ladder_level figures = level_figures(unsigned(i + 1), values[i], result, to_json(result));
    stuck = result.shards_stuck;
    if (stuck) stuck_run = std::move(attempt.run);
    figures.attempts = attempts;
    figures.judged = judged;
    if (levels.empty()) {
      with_target = figures.target_cpu_percent || figures.target_rss_bytes;
      fmt::print("{}\n", level_table_header(with_target));
    }
    fmt::print("{}\n", level_table_row(figures, with_target));
    std::fflush(stdout);
    levels.push_back(std::move(figures));
    judgements.push_back(judged);
    if (!judged.valid || judged.broke || judged.interrupted) break;
  }
  ladder_conclusion conclusion = conclude_ladder(judgements);
  if (refused != 0) {
    // A level that could not start (its reason printed above): the host, as
    // configured, cannot drive it, so horde is the limit there (3), or the
    // flags make no plan (2).
    conclusion.outcome = refused == exit_invalid ? "invalid" : "usage";
    conclusion.exit_code = refused;
    fmt::print("last level held: {}; level {} could not start (see above)\n",
               levels.empty() ? "none" : fmt::format("level {}", levels.back().level),
               levels.size() + 1);
  } else {
    fmt::print("{}\n", conclusion_text(spec->step, levels, conclusion));
  }
  std::fflush(stdout);
  int code = conclusion.exit_code;
  if (!o.run.json_path.empty()) {
    const auto text = ladder_json(*spec, limits, levels, conclusion).dump(1) + "\n";
    if (auto written = write_whole(o.run.json_path, text); !written) {
      fmt::print(stderr, "{}: the JSON was not written: {} (the table above has it)\n", command,
                 written.error().message);
      code = exit_usage;
    }
  }
  if (stuck) {
    // A shard that never returned cannot be joined (as in horde run).
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

}  // namespace horde::app

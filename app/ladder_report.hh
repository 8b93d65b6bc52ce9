// What `horde ladder` shows: each level's plain figures (taken from its run),
// the table row printed as the level ends, the closing line, and the
// horde.ladder/1 JSON with each level's whole horde.run JSON nested.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/ladder_plan.hh"
#include "app/run_result.hh"

namespace horde::app {

inline constexpr const char* ladder_schema = "horde.ladder/1";

struct ladder_level {
  unsigned level = 0;  // 1-based
  uint64_t value = 0;  // the stepped figure: connections, or msgs/s over all connections
  uint64_t connections = 0;
  uint64_t peak_open = 0;
  double asked_per_second = 0;  // the plan's sends over all connections
  double sent_per_second = 0;   // during the hold (the series' last point in it)
  double received_per_second = 0;
  double connects_per_second = 0;  // the busiest second's
  // The round trip, or the fan-out in pub/sub, over the whole level.
  uint64_t latency_p50_ns = 0, latency_p95_ns = 0, latency_p99_ns = 0;
  std::optional<double> errors_share;  // the threshold grammar's `errors`, 0.001 = 0.1%
  // The target's own cost, when the run JSON has a `target` object (the
  // target sampler adds it); absent otherwise.
  std::optional<double> target_cpu_percent;
  std::optional<uint64_t> target_rss_bytes;
  unsigned attempts = 1;  // 2: the first was invalid and the level ran again
  level_judgement judged;
  nlohmann::json run;  // the level's horde.run/1 JSON
};

// The figures of one level from its run and that run's JSON.
ladder_level level_figures(unsigned level, uint64_t value, const run_result& result,
                           nlohmann::json run_json);

// "level 3/8: 4,000 connections, 10 s" (stderr, as a level starts).
std::string level_start_line(ladder_step step, unsigned level, unsigned levels, uint64_t value,
                             uint64_t connections, uint64_t hold_ns);

// The table's header, and one row per level as it ends. Target columns are
// shown when `with_target` (decided by the first level).
std::string level_table_header(bool with_target);
std::string level_table_row(const ladder_level& level, bool with_target);

// "last level held: 3 (800 msgs/s), broke at: 4 (1,600 msgs/s) because ...".
std::string conclusion_text(ladder_step step, const std::vector<ladder_level>& levels,
                            const ladder_conclusion& conclusion);

nlohmann::json ladder_json(const ladder_spec& spec, const std::vector<std::string>& limits,
                           const std::vector<ladder_level>& levels,
                           const ladder_conclusion& conclusion);

}  // namespace horde::app

// `horde ladder`'s arithmetic, with no I/O: the levels it steps through,
// the limits each level is judged by, and the rule that says whether a
// level held, broke the target, or was invalid because horde itself was
// the limit. app/ladder_command.cc runs the levels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/run_result.hh"
#include "app/threshold.hh"
#include "base/result.hh"

namespace horde::app {

enum class ladder_step { connections, rate };

// The ladder's own flags, as typed.
struct ladder_options {
  std::string step = "connections";  // what rises: connections, or the total message rate
  std::string start;    // the first level's value (k/M suffixes); default: the run flags'
  double factor = 2;    // each level's value is the previous one's times this...
  std::string add;      // ...or plus this, when given
  unsigned levels = 8;  // at most this many levels
  std::string hold;     // each level's run, ramp included; empty: --duration
  std::string p99_limit = "100ms";  // the default latency limit
};

// The flags checked and in numbers.
struct ladder_spec {
  ladder_step step = ladder_step::connections;
  uint64_t start = 0;
  double factor = 2;  // used when add == 0
  uint64_t add = 0;
  unsigned levels = 8;
  uint64_t hold_ns = 10'000'000'000;
  uint64_t p99_limit_ns = 100'000'000;
};

// Returns the spec or the flag that is wrong. `start` empty takes
// `run_start` (the run's -c, or its --total-rate in msgs/s).
result<ladder_spec> parse_ladder(const ladder_options& options, uint64_t run_start);

// Each level's value: start x factor^i (rounded, and always above the
// previous one), or start + i x add.
std::vector<uint64_t> ladder_values(const ladder_spec& spec);

// The limits a level is judged by. The user's --threshold texts, when there
// are any, replace the defaults: the latency's p99 at most the limit (the
// round trip, or the fan-out in pub/sub; only when messages are sent),
// errors and failed connections at most 0.1%, no pub/sub loss.
std::vector<std::string> ladder_limits(const ladder_spec& spec,
                                       const std::vector<std::string>& user_thresholds,
                                       bool messages_sent, bool pubsub);

// What one level amounts to.
struct level_judgement {
  bool valid = true;  // false: horde could not keep its schedule, or a shard failed
  bool broke = false;
  bool interrupted = false;          // stopped by a signal: neither held nor broke
  std::vector<std::string> reasons;  // why it broke, or why it is invalid
};

// From the level's result, its thresholds judged by the ladder's limits
// (judge_thresholds). Invalid first: a level horde could not drive says
// nothing about the target, whatever its figures.
level_judgement judge_level(const run_result& result);

// Whether to run a level again: once, when it was invalid (a burst of other
// work on a shared host may have taken horde's CPUs); invalid twice, horde
// is the limit. `attempts`: how many times it has run.
inline bool retry_level(const level_judgement& judged, unsigned attempts) {
  return !judged.valid && attempts < 2;
}

// Where the ladder ended, from its levels' judgements in order (the last
// one is where it stopped, unless every level held).
struct ladder_conclusion {
  std::optional<size_t> last_held;   // index of the last level that held
  std::optional<size_t> broke_at;    // the first level that broke the target
  std::optional<size_t> invalid_at;  // the level horde itself could not drive
  std::optional<size_t> interrupted_at;
  std::string outcome;  // "broke", "held" (none broke), "invalid", "interrupted"
  int exit_code = 0;    // 0 broke or held; 3 invalid; 1 interrupted
};
ladder_conclusion conclude_ladder(const std::vector<level_judgement>& levels);

}  // namespace horde::app

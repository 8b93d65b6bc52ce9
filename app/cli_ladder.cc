// `horde ladder`'s flags: every `horde run` flag, and what rises, from
// where, by how much and for how long (horde ladder --help).
#include <CLI/CLI.hpp>

#include "app/cli.hh"
#include "app/cli_commands.hh"

namespace horde::app {

CLI::App* add_ladder_command(CLI::App& cli, ladder_command_options& options) {
  CLI::App* cmd = cli.add_subcommand(
      "ladder", "Step the load up level by level until the target breaks a limit: the knee");
  cmd->footer(
      "\nEach level is a whole `horde run` (every run flag applies) holding --hold; levels rise\n"
      "by --factor (or --add) until one breaks a limit. The default limits, replaced by any\n"
      "--threshold given: latency p99 <= --p99-limit (the round trip; the fan-out in pub/sub),\n"
      "errors <= 0.1%, connections.failed <= 0.1%, and in pub/sub no lost delivery. A level\n"
      "where horde could not keep its own schedule (saturated or starved) or a shard failed\n"
      "is invalid, not a break: it runs once more, and invalid again the ladder stops there,\n"
      "horde being the limit. Each level prints a row as it ends; --json writes\n"
      "horde.ladder/1 (docs/json.md) with each level's whole run.\n\n"
      "Examples:\n"
      "  horde ladder --step rate -c 1000 --start 10k --factor 1.5 --levels 8 --hold 5s\n"
      "  horde ladder ws://10.0.0.5:8080/ --step connections --start 1000 --factor 2 --rate 1/s\n"
      "  horde ladder ws://127.0.0.1:9000/ --step rate -c 100 --start 200 --add 200 \\\n"
      "      --threshold 'rtt.p95<=20ms' --json ladder.json\n\n"
      "Exit codes (horde ladder):\n"
      "  0  a level broke (the knee is found), or none did up to the last level\n"
      "  1  interrupted before a level broke\n"
      "  2  bad flags or thresholds, or the JSON could not be written\n"
      "  3  horde was the limit before the target broke: a level invalid twice, or refused\n"
      "     by the preflight\n");
  add_run_flags(cmd, options.run);
  auto& l = options.ladder;
  const std::string group = "Ladder";
  cmd->add_option("--step", l.step, "What rises: connections (-c), or rate (--total-rate)")
      ->capture_default_str()
      ->check(CLI::IsMember({"connections", "rate"}))
      ->group(group);
  cmd->add_option("--start", l.start,
                  "The first level's connections, or msgs/s over all connections (k/M); "
                  "default: -c, or the run's total rate")
      ->group(group);
  cmd->add_option("--factor", l.factor, "Each level is the previous one times this")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--add", l.add, "Each level is the previous one plus this (instead of --factor)")
      ->group(group);
  cmd->add_option("--levels", l.levels, "At most this many levels")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--hold", l.hold, "Each level's run, ramp included (default: --duration, 10s)")
      ->group(group);
  cmd->add_option("--p99-limit", l.p99_limit, "The default latency limit: p99 above it breaks")
      ->capture_default_str()
      ->group(group);
  return cmd;
}

}  // namespace horde::app

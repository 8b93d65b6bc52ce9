#include "app/cli.hh"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include <string>

#include "app/cli_commands.hh"
#include "app/run_command.hh"

namespace horde::app {

const char* const exit_codes_text =
    "Exit codes:\n"
    "  0  horde run: the run worked and every --threshold passed; horde serve, horde tune:\n"
    "     done, the plan fits\n"
    "  1  horde run: a --threshold failed, or nothing worked (no connection opened, no\n"
    "     --protocol handshake completed, no message answered, every delivery lost),\n"
    "     thresholds or not; horde serve: a shard failed; horde tune: the plan does not fit\n"
    "     this host\n"
    "  2  bad flags, a bad --threshold or an unknown command, or the JSON or CSV result could\n"
    "     not be written\n"
    "  3  horde run: the run is invalid: the preflight refused the plan (see horde tune),\n"
    "     horde could not keep its own schedule for want of CPU (saturated or starved: it,\n"
    "     not the target, was the limit), or a shard failed\n"
    "  horde ladder: 0 a level broke or none did, 1 interrupted, 2 usage, 3 horde was the\n"
    "     limit before the target broke (horde ladder --help)\n";

const char* const thresholds_text =
    "Thresholds (--threshold 'NAME OP VALUE[:abort]'):\n"
    "  NAME   rtt, connect, tls, upgrade, send_lag, subscribe, fanout, fanout_last, each with\n"
    "         .pN (any 0<N<100: .p95, .p99.9), .max or .mean;\n"
    "         "
    "connections.{attempted,opened,failed,peak_open,closed_clean,close_timed_out,close_reset},\n"
    "         messages.{sent,received,answered,unanswered,duplicated,corrupted,truncated},\n"
    "         pubsub.{expected,delivered,lost,duplicated,reordered}, errors (failed\n"
    "         connections + unanswered, corrupted, truncated echoes or lost deliveries);\n"
    "         with --protocol, its metrics as the report names them: a counter\n"
    "         (protocol.mqtt.publishes_refused) as a count, a histogram with .pN, .max or\n"
    "         .mean (protocol.mqtt.puback.p99); another protocol's names are refused\n"
    "  OP     < <= > >= == !=\n"
    "  VALUE  times with ns/us/ms/s; counts bare or with k/M; N% = a share of the whole\n"
    "         (failed of attempted, unanswered of sent, lost of expected, errors of both)\n"
    "  :abort judged once a second during the run; when it fails the run stops as on Ctrl-C\n"
    "         and the report says when and why\n"
    "  e.g. --threshold 'rtt.p99<50ms' --threshold 'errors<0.1%' --threshold 'errors<1%:abort'\n";

namespace {

const char* const description =
    "horde: a WebSocket connection generator. One Linux host drives 100,000+ concurrent\n"
    "WebSocket connections at a server and reports how it held up: connections taken and\n"
    "lost, messages delivered, and latency measured from each message's scheduled send\n"
    "time (coordinated omission corrected).\n\n"
    "  horde run                       a run against the built-in reference server\n"
    "  horde run ws://host:9000/ -c 100k --connect-rate 20k/s --duration 60s --rate 1/s\n"
    "  horde serve --listen 127.0.0.1:9000   the reference server on its own\n"
    "  horde report result.json -o report.html   charts and tables of a --json result\n"
    "  horde compare base.json new.json        each figure's change between two results\n"
    "  horde merge w0.json w1.json -o all.json  one result from a distributed run's workers\n"
    "  horde ladder --step rate -c 100 --start 1k   step the load up to the breaking point\n";

// The first word when it is not a flag and not a command: named, with the
// commands there are (CLI11 would call it an unexpected argument).
bool unknown_command(const CLI::App& cli, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return false;
  std::string known;
  for (const CLI::App* sub : cli.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name(argv[1])) return false;
    known += (known.empty() ? "" : ", ") + sub->get_name();
  }
  fmt::print(stderr, "horde: '{}' is not a command; the commands are: {} (horde --help)\n", argv[1],
             known);
  return true;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App cli{description, "horde"};
  cli.require_subcommand(0, 1);
  cli.set_version_flag("--version", "horde 0.1.0");
  cli.footer(std::string("\n") + exit_codes_text);
  run_options run;
  serve_options serve_opts;
  tune_options tune_opts;
  CLI::App* run_cmd = add_run_command(cli, run);
  CLI::App* serve_cmd = add_serve_command(cli, serve_opts);
  CLI::App* tune_cmd = add_tune_command(cli, tune_opts);
  report_options report_opts;
  compare_options compare_opts;
  CLI::App* report_cmd = add_report_command(cli, report_opts);
  CLI::App* compare_cmd = add_compare_command(cli, compare_opts);
  ladder_command_options ladder_opts;
  CLI::App* ladder_cmd = add_ladder_command(cli, ladder_opts);
  merge_options merge_opts;
  CLI::App* merge_cmd = add_merge_command(cli, merge_opts);
  if (unknown_command(cli, argc, argv)) return 2;
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are successes; every other parse error is a usage error.
    const int code = cli.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (run_cmd->parsed()) return run_load(run);
  if (serve_cmd->parsed()) return serve(serve_opts);
  if (tune_cmd->parsed()) return tune(tune_opts);
  if (report_cmd->parsed()) return report(report_opts);
  if (compare_cmd->parsed()) return compare(compare_opts);
  if (ladder_cmd->parsed()) return run_ladder(ladder_opts);
  if (merge_cmd->parsed()) return merge(merge_opts);
  // `horde` alone: what it does and how to ask.
  fmt::print("{}", cli.help());
  return 0;
}

}  // namespace horde::app

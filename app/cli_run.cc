// `horde run`'s flags: every one with what it means (horde run --help).
#include <CLI/CLI.hpp>

#include "app/cli.hh"
#include "app/cli_commands.hh"

namespace horde::app {
namespace {

// Connections, rates, sizes and timeouts.
void add_load_flags(CLI::App* run_cmd, run_options& run) {
  run_cmd->add_option("url", run.url,
                      "Target ws://host:port/path (default: the embedded reference server)");
  run_cmd
      ->add_option("-c,--connections", run.connections,
                   "Connections to open and hold (k/M suffixes)")
      ->capture_default_str();
  run_cmd
      ->add_option("--connect-rate", run.connect_rate,
                   "New connections per second, all shards; 0 = unlimited")
      ->capture_default_str();
  run_cmd
      ->add_option("--max-pending", run.max_pending,
                   "Connects in flight at once (a full accept queue drops SYNs and costs 1 s)")
      ->capture_default_str();
  run_cmd->add_option("-d,--duration", run.duration, "Whole run, ramp included (30s, 2m, ...)")
      ->capture_default_str();
  run_cmd
      ->add_option("-r,--rate", run.rate,
                   "Messages per second per connection (10/s, 100/m); 0 = none")
      ->capture_default_str();
  run_cmd->add_option("--total-rate", run.total_rate,
                      "Messages per second over all connections (overrides --rate)");
  run_cmd->add_flag("--poisson", run.poisson, "Poisson arrivals instead of a constant interval");
  run_cmd
      ->add_option("-s,--size", run.size,
                   "Message payload size (64, 4KiB, 1MiB); a 32-byte stamp leads it")
      ->capture_default_str();
  run_cmd->add_flag("--text", run.text,
                    "Send text frames (stamp as a printable token) instead of binary");
  run_cmd
      ->add_option("--ping-interval", run.ping_interval,
                   "Send a ping this often per connection; 0 = never")
      ->capture_default_str();
  run_cmd->add_option("--connect-timeout", run.connect_timeout, "TCP connect timeout")
      ->capture_default_str();
  run_cmd->add_option("--upgrade-timeout", run.upgrade_timeout, "Time for the 101 answer")
      ->capture_default_str();
  run_cmd->add_option("--pong-timeout", run.pong_timeout, "Time for a pong after a ping")
      ->capture_default_str();
  run_cmd->add_option("--drain", run.drain, "After the last send, wait this long for echoes")
      ->capture_default_str();
  run_cmd
      ->add_option("--close-timeout", run.close_timeout,
                   "At the end, time for each close handshake; what still stands after twice "
                   "this is torn down, and the run returns at most once more this later. A run "
                   "ends by --duration + --drain + 3 x --close-timeout whatever the server does")
      ->capture_default_str();
  run_cmd->add_option(
      "--send-backlog", run.send_backlog,
      "Bytes one connection may have waiting to be sent before it counts as send_backlog (the "
      "server stopped reading) and is closed (default: 1MiB, or 8 messages if larger)");
  run_cmd
      ->add_option("--wake-interval", run.wake_interval,
                   "Timers wake a shard at most this often, so sends due close together leave "
                   "together: on a VM each wake-up costs ~20 us of CPU, and this cut horde's "
                   "CPU per message by 30% at 50k msg/s. A send leaves at most this late; the "
                   "lateness is measured (send lag) and counted in its round trip. Completions "
                   "wait at most as long for others to share a wake-up (Linux 6.12+). At most "
                   "10ms; 0 = wake for every deadline and completion (least added latency, "
                   "most CPU)")
      ->capture_default_str();
}

// The target's request, this host's addresses and CPUs, TLS, outputs.
void add_host_flags(CLI::App* run_cmd, run_options& run) {
  run_cmd->add_option("-H,--header", run.headers,
                      "Extra upgrade header, 'Name: value' (repeatable)");
  run_cmd->add_option("--subprotocol", run.subprotocols,
                      "Offer this Sec-WebSocket-Protocol (repeatable)");
  run_cmd->add_option("--origin", run.origin, "Origin header");
  run_cmd->add_option("--source-ips", run.source_ips,
                      "Local IPv4 addresses to bind, e.g. 127.0.0.1-127.0.0.8");
  run_cmd->add_option("--ports", run.ports, "Local port range horde binds from")
      ->capture_default_str();
  run_cmd->add_option("--cpus", run.cpus, "CPUs for the shards, e.g. 0-3,6 (default: all allowed)");
  run_cmd->add_option("--shards", run.shards,
                      "Shards (threads with their own ring); default: CPUs, more if needed");
  run_cmd->add_option(
      "--leave-for-target", run.leave_for_target,
      "Keep this many CPUs (whole cores) free for a target server on this host. Default: a "
      "target found listening on the URL's loopback port keeps the CPUs it is pinned to, or "
      "half of them when it may run anywhere; 0 = share");
  run_cmd->add_option("--json", run.json_path,
                      "Write the full result (histograms included) as JSON here");
  run_cmd->add_option("--csv", run.csv_path,
                      "Write the series here as CSV, one row per second (columns: docs/json.md)");
  run_cmd->add_option(
      "--threshold", run.thresholds,
      "Pass/fail check on the report's figures, e.g. 'rtt.p99<50ms', 'errors<0.1%', "
      "'pubsub.lost==0'; a failed one makes the exit code 1. Suffix ':abort' judges it once a "
      "second during the run and stops the run when it fails (repeatable; grammar below)");
  run_cmd->add_flag("-q,--quiet", run.quiet, "No live progress line");
  run_cmd->add_flag("--show-secrets", run.show_secrets,
                    "Show Authorization and Cookie values and JWTs in the report and JSON "
                    "(redacted by default)");
  run_cmd->add_flag("--raw", run.raw,
                    "Plain TCP instead of WebSocket (no upgrade, no framing), against `horde serve "
                    "--raw` or the embedded server: the same engine's ceiling without WebSocket");
  run_cmd
      ->add_option("--percentiles", run.percentiles,
                   "Percentile columns of the latency tables and the JSON's percentiles_ns "
                   "(max and mean are always given)")
      ->capture_default_str();
  run_cmd->add_option("--ca", run.tls.ca_file,
                      "wss://: trust the CAs in this PEM file instead of the system store");
  run_cmd->add_flag("--insecure", run.tls.insecure,
                    "wss://: accept any certificate for any name (no verification; the report "
                    "says so)");
  run_cmd->add_option("--cert", run.tls.cert_file, "wss://: client certificate (PEM), for mTLS");
  run_cmd->add_option("--key", run.tls.key_file, "wss://: the client certificate's key (PEM)");
  run_cmd->add_option("--sni", run.tls.sni,
                      "wss://: the name sent as SNI and verified in the certificate (default: "
                      "the URL's host)");
  run_cmd->add_option("--tls-timeout", run.tls.timeout, "wss://: time for the TLS handshake")
      ->capture_default_str();
  run_cmd->add_flag("--no-tls-resume", run.tls.no_resume,
                    "wss://: never resume a TLS session (every handshake is full)");
  run_cmd->add_flag("--force", run.force,
                    "Start even when the preflight (see horde tune) says the plan cannot fit");
}

void add_pubsub_flags(CLI::App* run_cmd, run_options& run) {
  auto& ps = run.pubsub;
  const std::string pubsub_group = "Pub/sub (docs/pubsub.md; on with --groups)";
  run_cmd
      ->add_option("--groups", ps.groups,
                   "Groups (k/M suffixes). Each connection subscribes to --subscriptions of "
                   "them; --publishers publish at --rate each (or --total-rate over all); every "
                   "delivery is accounted: expected, delivered, lost, duplicated, reordered")
      ->group(pubsub_group);
  run_cmd->add_option("--subscriptions", ps.per_connection, "Groups each connection subscribes to")
      ->capture_default_str()
      ->group(pubsub_group);
  run_cmd
      ->add_option("--zipf", ps.zipf,
                   "Zipf popularity with this exponent (1.0 is classic): a few huge groups; "
                   "default uniform (every group equally many subscribers)")
      ->group(pubsub_group);
  run_cmd
      ->add_option("--publishers", ps.publishers,
                   "Publishing connections, a count or N% (default 1%); each group has exactly "
                   "one, so loss and order are checked per group")
      ->group(pubsub_group);
  run_cmd->add_option("--group-pattern", ps.group_pattern, "Group names, with {n}")
      ->capture_default_str()
      ->group(pubsub_group);
  run_cmd
      ->add_option("--subscribe-template", ps.subscribe_template,
                   "The subscribe message, with {group}; e.g. '{\"type\":\"join\","
                   "\"room\":\"{group}\"}' (other braces are literal)")
      ->capture_default_str()
      ->group(pubsub_group);
  run_cmd
      ->add_option("--subscribe-ack", ps.subscribe_ack,
                   "The server's answer that a subscription is in force, with {group}; '' = the "
                   "server sends none (subscriptions count as in force after --settle)")
      ->capture_default_str()
      ->group(pubsub_group);
  run_cmd
      ->add_option("--publish-template", ps.publish_template,
                   "The publish message, with {group} and {payload} (the payload carries a "
                   "printable stamp; deliveries are found by it wherever the server puts it)")
      ->capture_default_str()
      ->group(pubsub_group);
  run_cmd->add_option("--subscribe-timeout", ps.subscribe_timeout, "Time for every acknowledgement")
      ->capture_default_str()
      ->group(pubsub_group);
  run_cmd->add_option("--settle", ps.settle, "With --subscribe-ack '': wait this long instead")
      ->capture_default_str()
      ->group(pubsub_group);
  run_cmd
      ->add_flag("--publish-binary", ps.publish_binary,
                 "Publish in binary frames (the payload is still the printable stamp): a server "
                 "that keeps the opcode delivers binary, which skips UTF-8 validation on both ends")
      ->group(pubsub_group);
  run_cmd
      ->add_option("--churn", ps.churn,
                   "Subscription churn while publishing: leave-and-rejoin operations per second "
                   "over the whole run (e.g. 500/s); a connection leaves one of its groups and "
                   "subscribes to it again once the leave is acknowledged")
      ->group(pubsub_group);
  run_cmd
      ->add_option("--unsubscribe-template", ps.unsubscribe_template,
                   "The unsubscribe message (churn), with {group}")
      ->capture_default_str()
      ->group(pubsub_group);
  run_cmd
      ->add_option("--unsubscribe-ack", ps.unsubscribe_ack,
                   "The server's answer that a leave took effect (churn), with {group}")
      ->capture_default_str()
      ->group(pubsub_group);
}

void add_group_setup_flags(CLI::App* run_cmd, run_options& run) {
  auto& setup = run.group_setup;
  const std::string setup_group = "Groups created by REST before subscribing (docs/pubsub.md)";
  run_cmd
      ->add_option("--setup-url", setup.url,
                   "POST each group here before any subscription, e.g. http://host:8080/groups; "
                   "a group whose creation fails is never subscribed to")
      ->group(setup_group);
  run_cmd->add_option("--setup-template", setup.body_template, "The request body, with {group}")
      ->capture_default_str()
      ->group(setup_group);
  run_cmd->add_option("--setup-batch", setup.batch, "Groups per request")
      ->capture_default_str()
      ->group(setup_group);
  run_cmd
      ->add_option(
          "--setup-batch-template", setup.batch_template,
          "With --setup-batch > 1: the body, with {items} = the groups' bodies joined by ','")
      ->capture_default_str()
      ->group(setup_group);
  run_cmd->add_option("--setup-rate", setup.rate, "Requests per second (default: unlimited)")
      ->group(setup_group);
  run_cmd->add_option("--setup-concurrency", setup.concurrency, "Requests in flight at once")
      ->capture_default_str()
      ->group(setup_group);
  run_cmd->add_option("--setup-timeout", setup.timeout, "Per request, connect included")
      ->capture_default_str()
      ->group(setup_group);
}

}  // namespace

CLI::App* add_run_command(CLI::App& cli, run_options& run) {
  CLI::App* run_cmd =
      cli.add_subcommand("run", "Open connections to a target, send on a schedule, report");
  run_cmd->footer(
      "\nWithout a URL, horde starts its reference echo server on 127.0.0.1 (a kernel-chosen\n"
      "port) in the same process and tears it down after; the report then includes the\n"
      "server's CPU and memory.\n\n"
      "Timing: --duration is the whole run, ramp included. Each connection sends --rate\n"
      "messages per second (or --total-rate over all), each stamped with its *scheduled*\n"
      "time; the echo's round trip is measured from that time, so a stalled server shows as\n"
      "latency instead of hiding behind a stalled generator. 'send lag' reports how late\n"
      "horde itself was; the summary says when horde, not the target, was the limit.\n\n"
      "Scale: past ~64k connections per source address, horde needs more addresses; on\n"
      "loopback it picks 127.0.0.x itself. When RLIMIT_NOFILE caps each io_uring's\n"
      "descriptor table (20,000 on some hosts), horde runs more shards than CPUs and says so.\n\n"
      "Examples:\n"
      "  horde run -c 100k --connect-rate 30k/s --duration 40s --ping-interval 10s --rate 0\n"
      "  horde run ws://127.0.0.1:9000/chat -c 1000 --rate 100/s --size 64 --json out.json\n"
      "  horde run ws://10.0.0.5:8080/ -H 'Authorization: Bearer xyz' --subprotocol chat.v1\n"
      "  horde run -c 100k --groups 3M --subscriptions 30 --publishers 1000 --rate 10/s\n"
      "  horde run -c 10k --groups 1 --subscriptions 1 --publishers 1 --rate 100/s   "
      "(broadcast)\n");
  run_cmd->footer(run_cmd->get_footer() + "\n" + thresholds_text + "\n" + exit_codes_text);
  add_load_flags(run_cmd, run);
  add_host_flags(run_cmd, run);
  add_pubsub_flags(run_cmd, run);
  add_group_setup_flags(run_cmd, run);
  return run_cmd;
}

}  // namespace horde::app

// `horde run`'s flags: every one with what it means (horde run --help).
#include <CLI/CLI.hpp>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "app/cli.hh"
#include "app/cli_commands.hh"
#include "app/protocol_options.hh"
#include "app/scenario_file.hh"

namespace horde::app {
namespace {

// Connections, rates, sizes and timeouts.
void add_load_flags(CLI::App* run_cmd, run_options& run) {
  run_cmd->add_option("url", run.urls,
                      "Target ws://host:port/path (default: the embedded reference server); "
                      "several URLs (a cluster's endpoints) share the connections, each "
                      "connection taking one in turn, and the report gives each its own figures");
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
                   "Connects in flight at once (a full accept queue drops SYNs and costs 1 s); "
                   "close handshakes in flight at the end are at most this or 256")
      ->capture_default_str();
  run_cmd->add_option(
      "--close-rate", run.close_rate,
      "Close handshakes per second at the end, all shards (default: as fast as the target "
      "answers them, with at most min(--max-pending, 256) in flight). Closes that time out or "
      "are reset are counted apart, never as failed connections");
  run_cmd->add_option("-d,--duration", run.duration, "Whole run, ramp included (30s, 2m, ...)")
      ->capture_default_str();
  run_cmd
      ->add_option("-r,--rate", run.rate,
                   "Messages per second per connection (10/s, 100/m); 0 = none")
      ->capture_default_str();
  run_cmd->add_option(
      "--stages", run.stages,
      "Open connections over time, DURATION:COUNT stages each reached at its end, from 0: "
      "'30s:100k,2m:100k,30s:0' ramps up, holds, ramps down (a falling stage closes "
      "connections cleanly, newest first). Sets -c to the peak and --duration to the total; "
      "rises are paced by --connect-rate");
  run_cmd->add_option(
      "--rate-stages", run.rate_stages,
      "Messages per second per connection over time, DURATION:RATE stages from --rate: "
      "'10s:10/s,0s:100/s,5s:100/s,0s:10/s,20s:10/s' is a 5 s spike to 10x and back (0s "
      "stages are steps). The echo follows it; the preflight budgets the peak");
  run_cmd->add_option("--total-rate", run.total_rate,
                      "Messages per second over all connections (overrides --rate)");
  run_cmd->add_flag("--poisson", run.poisson, "Poisson arrivals instead of a constant interval");
  run_cmd
      ->add_option("-s,--size", run.size,
                   "Message payload size (64, 4KiB, 1MiB); a 32-byte stamp leads it")
      ->capture_default_str();
  run_cmd->add_option(
      "--payload", run.payload,
      "The message's own bytes instead of horde's filler (protobuf, msgpack, a captured frame): "
      "hex:0a1b.., base64:.., file:PATH or text:..; sent in binary frames with the 32-byte stamp "
      "written at --stamp-offset, echoes checked byte for byte around it. Sets --size");
  run_cmd
      ->add_option("--stamp-offset", run.stamp_offset,
                   "Where the 32-byte stamp goes in --payload (it must fit)")
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
      ->add_option(
          "--close-timeout", run.close_timeout,
          "At the end, time for each close handshake; what still stands twice this "
          "after the last close began is torn down, and the run returns at most once "
          "more this later. Whatever the server does, a run ends by --duration + --drain + "
          "3 x --close-timeout + the close phase's bound (connections / the slower of "
          "--close-rate and 256 closes per --close-timeout)")
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
  run_cmd->add_option("--protocol", run.protocol, protocols_help())->capture_default_str();
  run_cmd->add_option("--protocol-option", run.protocol_options,
                      "KEY=VALUE for --protocol (repeatable; each protocol's keys are listed "
                      "under --protocol)");
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
                      "Write the full result (histograms included) as JSON here; '-': to stdout "
                      "between the lines -----BEGIN HORDE RESULT----- and -----END HORDE "
                      "RESULT----- (kubectl logs keeps it)");
  run_cmd->add_option("--csv", run.csv_path,
                      "Write the series here as CSV, one row per second (columns: docs/json.md)");
  run_cmd->add_option("--html", run.html_path,
                      "Write the report here as one HTML page that opens offline: charts over "
                      "time, percentile spectra, the tables (also: horde report RESULT.json)");
  run_cmd->add_option(
      "--threshold", run.thresholds,
      "Pass/fail check on the report's figures, e.g. 'rtt.p99<50ms', 'errors<0.1%', "
      "'pubsub.lost==0'; a failed one makes the exit code 1. Suffix ':abort' judges it once a "
      "second during the run and stops the run when it fails (repeatable; grammar below)");
  run_cmd->add_option("--target-pid", run.target_pids,
                      "Sample this process's RSS, CPU, open fds and threads once a second into "
                      "the series; the report gives its memory per connection, CPU per million "
                      "messages and memory slope (repeatable; default: the embedded server, or "
                      "the process listening on the URL's loopback port)");
  run_cmd->add_option("--target-cgroup", run.target_cgroup,
                      "Sample a cgroup v2 directory's memory.current, cpu.stat and pids.current "
                      "the same way (absolute, or relative to /sys/fs/cgroup)");
  run_cmd->add_option("--metrics-listen", run.metrics_listen,
                      "Serve the live counters, gauges and latency histograms at "
                      "http://ADDRESS:PORT/metrics in the Prometheus text format while the run "
                      "lasts, e.g. 127.0.0.1:9464 (port 0: the kernel picks; printed)");
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

// permessage-deflate (docs/compression.md): the mode, then the offer's shape.
void add_compression_flags(CLI::App* run_cmd, run_options& run) {
  static constexpr const char* group = "Compression (permessage-deflate, docs/compression.md)";
  CLI::Option* mode = run_cmd->add_option(
      "--compression", run.compression,
      "permessage-deflate (RFC 7692): off (not offered), offer (used when the server accepts, "
      "plain otherwise), or require (a 101 without it fails the connection as "
      "upgrade_compression_declined). Messages then go out compressed and compressed ones are "
      "inflated; the report gives what was agreed and the bytes before and after. Each "
      "connection that keeps its context holds ~180 KiB of zlib state at window 15: see "
      "--compression-no-context-takeover");
  mode->check(CLI::IsMember({"off", "offer", "require"}))->capture_default_str()->group(group);
  CLI::Option* bits = run_cmd->add_option(
      "--compression-window-bits", run.compression_window_bits,
      "Ask for LZ77 windows of 2^N bytes both ways (client_max_window_bits=N and "
      "server_max_window_bits=N, 9..15); a smaller window costs less memory per connection and "
      "finds fewer repeats. Default: the server chooses ours, the server keeps 15");
  bits->check(CLI::Range(9u, 15u))->type_name("N")->group(group);
  CLI::Option* fresh = run_cmd->add_option(
      "--compression-no-context-takeover", run.compression_no_context_takeover,
      "Compress each message on its own instead of against the ones before: client (ours: "
      "client_no_context_takeover), server (ask the server: server_no_context_takeover) or "
      "both. A side without context needs no zlib state per connection (horde shares one per "
      "shard), at some cost in ratio");
  fresh->check(CLI::IsMember({"client", "server", "both"}))->type_name("WHICH")->group(group);
}

// Several targets, and one plan over many processes (docs/distributed.md).
void add_distributed_flags(CLI::App* run_cmd, run_options& run) {
  const std::string group = "Several targets and workers (docs/distributed.md)";
  run_cmd
      ->add_option("--targets-file", run.targets_file,
                   "More targets, one URL a line with an optional weight after it "
                   "('ws://10.0.0.1:8080/ 3'; '#' comments): with weights, connections go to "
                   "each target in proportion")
      ->type_name("FILE")
      ->group(group);
  run_cmd
      ->add_option("--target-order", run.target_order,
                   "How connections take the targets: round-robin (connection c takes target "
                   "c mod T) or weighted (a smooth weighted round-robin of the weights); "
                   "default: weighted when a weight is not 1")
      ->check(CLI::IsMember({"round-robin", "weighted"}))
      ->group(group);
  run_cmd
      ->add_option("--worker", run.worker,
                   "Run slice i of N of this plan (0 <= i < N), e.g. 2/4: connection c belongs "
                   "to worker c mod N, the connect rate and every stage's count are divided, "
                   "groups and publishers stay those of the whole plan, so N workers started "
                   "with the same flags are exactly the plan; merge their --json with horde "
                   "merge")
      ->type_name("i/N")
      ->group(group);
  run_cmd
      ->add_option("--workers", run.workers,
                   "N workers, this one's index read from JOB_COMPLETION_INDEX (what a "
                   "Kubernetes Indexed Job sets): the same as --worker $JOB_COMPLETION_INDEX/N")
      ->group(group);
  run_cmd
      ->add_option("--start-at", run.start_at,
                   "Start the run at this wall-clock time, so workers on many hosts start "
                   "together: 2026-12-04T20:00:00Z (UTC) or @1796500000 (unix seconds). Set-up "
                   "happens before; the JSON gives this process's lateness (clock_offset_ns). "
                   "At most 24 h ahead, at most 60 s past")
      ->type_name("WHEN")
      ->group(group);
  run_cmd
      ->add_option("--barrier", run.barrier,
                   "Pub/sub with workers: worker 0 listens on this HOST:PORT and every worker "
                   "asks it until all have their subscriptions in force; only then does any "
                   "publish, so every publish's expected count is exact (e.g. "
                   "horde-0.horde:7000 in an Indexed Job; worker 0 binds the port on any "
                   "address)")
      ->type_name("HOST:PORT")
      ->group(group);
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

void add_publish_http_flags(CLI::App* run_cmd, pubsub_options& ps) {
  const std::string group = "Publishing over HTTP (docs/pubsub.md)";
  run_cmd
      ->add_option("--publish-http", ps.publish_http,
                   "Publish by HTTP request instead of WebSocket message: '[METHOD] "
                   "http://host:port/path/{group}' (POST by default; https:// with wss://). "
                   "--publishers P extra connections (beyond -c, which all subscribe) keep one "
                   "socket each to that origin and send one request at a time at the publish "
                   "rate; deliveries are matched by stamp and fan-out is timed from the "
                   "scheduled publish. Repeat it for several origins (a cluster's nodes): "
                   "publisher p sends to the (p mod N)+1-th, each with its own lines in the "
                   "report. `horde serve` takes POST /publish/{group}")
      ->allow_extra_args(false)  // one URL per occurrence: a URL after it is the target
      ->group(group);
  run_cmd
      ->add_option("--publish-http-body", ps.publish_http_body,
                   "The request body, with {payload} (the stamped message) and {group}; e.g. "
                   "'{\"channel\":\"{group}\",\"data\":\"{payload}\"}'")
      ->capture_default_str()
      ->group(group);
  run_cmd
      ->add_option("--publish-http-header", ps.publish_http_headers,
                   "An extra request header 'Name: value' (repeatable; {group} and {payload} "
                   "allowed), e.g. 'Content-Type: application/json' or 'Authorization: Bearer T'")
      ->group(group);
  run_cmd
      ->add_option("--publish-http-expect", ps.publish_http_expect,
                   "Statuses that mean published, e.g. 200,202 (default: any 2xx); any other "
                   "answer, or none, counts the publish refused: it owes no deliveries")
      ->group(group);
  run_cmd
      ->add_option("--publish-http-timeout", ps.publish_http_timeout,
                   "Request sent -> answer complete; past it the publish is refused and the "
                   "publisher reconnects")
      ->capture_default_str()
      ->group(group);
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

// What the Scenario flags say before they become scenario_spec entries: the
// file to read, and the one-liner's feeders, request and heartbeat.
struct scenario_flags {
  std::string file;
  std::vector<std::string> feeders;
  request_spec request;
  heartbeat_spec heartbeat;
};

// A scenario file's error is a usage error (run_cli exits 2), its message
// already naming file:line:column.
class scenario_error : public CLI::ParseError {
 public:
  explicit scenario_error(std::string message)
      : CLI::ParseError("ScenarioError", std::move(message), CLI::ExitCodes::ValidationError) {}
};

void add_scenario_flags(CLI::App* run_cmd, run_options& run, scenario_flags& flags) {
  auto& life = run.scenario.lifecycle;
  const std::string group = "Scenario (docs/scenarios.md; examples/ has one per kind of test)";
  run_cmd
      ->add_option("--scenario", flags.file,
                   "Read the run from a YAML file. Every flag here has its key, the long name "
                   "without dashes (connections: 100k, connect-rate: 5000/s, header: [...]), "
                   "and blocks describe what each connection does: feeders, http steps, jwt, "
                   "requests, heartbeat, lifecycle. Flags given on the command line override "
                   "the file's values. e.g. horde run --scenario examples/003-jsonrpc-calls.yaml")
      ->type_name("FILE")
      ->group(group);
  run_cmd
      ->add_option("--feeder", flags.feeders,
                   "A CSV file whose header row names variables; connection i takes row i "
                   "(cycling), so a file 'user,password' gives {user} and {password} to the URL, "
                   "headers and templates, e.g. --feeder users.csv -H 'X-User: {user}' "
                   "(repeatable)")
      ->type_name("FILE")
      ->group(group);
  run_cmd
      ->add_option("--lifetime", life.lifetime,
                   "Close each connection after this long (e.g. 60s), as clients that come and "
                   "go do; with --reconnect it comes back. Default: it lives for the whole run")
      ->group(group);
  run_cmd
      ->add_option("--lifetime-jitter", life.lifetime_jitter,
                   "Spread lifetimes uniformly by +/- this, so closes do not come in waves: "
                   "--lifetime 60s --lifetime-jitter 10s lives 50-70 s")
      ->group(group);
  run_cmd
      ->add_flag("--reconnect", life.reconnect,
                 "Reopen a connection that the server closed, that failed or whose lifetime "
                 "ended, after an exponential backoff with full jitter (a wait drawn from 0 to "
                 "min(cap, base x 2^attempt)), re-running its HTTP steps, upgrade and "
                 "subscriptions, so the live count returns to the plan")
      ->group(group);
  run_cmd
      ->add_option("--backoff-base", life.backoff_base,
                   "With --reconnect: the first attempt's wait is drawn from 0 to this; each "
                   "failed attempt doubles the bound")
      ->capture_default_str()
      ->group(group);
  run_cmd
      ->add_option("--backoff-cap", life.backoff_cap,
                   "With --reconnect: the bound stops doubling here (e.g. 30s)")
      ->capture_default_str()
      ->group(group);
  run_cmd
      ->add_option("--max-attempts", life.max_attempts,
                   "With --reconnect: give a connection up after this many failed attempts in "
                   "a row (e.g. 5); 0 = never")
      ->capture_default_str()
      ->group(group);
  run_cmd
      ->add_option("--chaos-rate", life.chaos_rate,
                   "Drop this many live connections per second over all shards (e.g. 100/s) to "
                   "measure the server's reconnect storm; with --reconnect they come back")
      ->group(group);
  run_cmd
      ->add_option("--chaos-mode", life.chaos_mode,
                   "How --chaos-rate drops a connection: reset (abortive, the server sees a "
                   "TCP RST) or close (a clean close frame, 1001 going away)")
      ->capture_default_str()
      ->check(CLI::IsMember({"reset", "close"}))
      ->group(group);
  run_cmd
      ->add_flag("--listen-only", run.scenario.listen_only,
                 "Never send (no echo messages, no requests): count and time every message the "
                 "server pushes on its own (per-connection gaps, messages/s), for servers that "
                 "push unprompted, e.g. a ticker or a notification feed")
      ->group(group);
  run_cmd
      ->add_option("--request", flags.request.send,
                   "Send this template at --rate on each connection and time the reply whose "
                   "--match field equals the request's {seq}, from the scheduled send; many "
                   "may be in flight. JSON-RPC 2.0: --request "
                   "'{\"jsonrpc\":\"2.0\",\"id\":{seq},\"method\":\"add\",\"params\":[1,2]}'. "
                   "Several kinds, streams and per-request rates: 'requests:' in a --scenario")
      ->type_name("TEMPLATE")
      ->group(group);
  run_cmd
      ->add_option("--match", flags.request.match,
                   "The JSON pointer of the reply field that must equal the request's {seq} "
                   "(JSON-RPC: /id; a nested one: /meta/request_id)")
      ->capture_default_str()
      ->type_name("PTR")
      ->group(group);
  run_cmd
      ->add_option("--error-field", flags.request.error,
                   "A reply carrying this JSON pointer is an error reply, counted by its value, "
                   "e.g. /error/code for JSON-RPC")
      ->type_name("PTR")
      ->group(group);
  run_cmd
      ->add_option("--request-timeout", flags.request.timeout,
                   "A reply later than this (from the scheduled send) counts as a timeout")
      ->capture_default_str()
      ->group(group);
  run_cmd
      ->add_option("--heartbeat-every", flags.heartbeat.every,
                   "Send --heartbeat-send this often on each connection (e.g. 25s), as chat "
                   "clients do to keep their session alive; misses are counted")
      ->group(group);
  run_cmd
      ->add_option("--heartbeat-send", flags.heartbeat.send,
                   "The heartbeat, a template, e.g. '{\"type\":\"ping\",\"t\":{now_ms}}'")
      ->type_name("TEMPLATE")
      ->group(group);
  run_cmd
      ->add_option("--heartbeat-expect", flags.heartbeat.expect,
                   "The reply that answers a heartbeat, a JSON predicate, e.g. "
                   "'/type == \"pong\"'; none within --heartbeat-timeout is a miss. Default: "
                   "any message answers")
      ->type_name("PREDICATE")
      ->group(group);
  run_cmd
      ->add_option("--heartbeat-timeout", flags.heartbeat.timeout, "Time for a heartbeat's reply")
      ->capture_default_str()
      ->group(group);
}

// Where a block set by flags came from: the file's block, else the first of
// its flags the file gave, else the command line.
spec_origin block_origin(const scenario_file& file, const spec_origin& block,
                         const std::vector<std::string>& flags) {
  if (block.line > 0) return block;
  for (const flag_value& value : file.flags)
    for (const std::string& flag : flags)
      if (value.flag == flag) return value.origin;
  return spec_origin{"", 0, 0, "--" + flags.front()};
}

// After every flag: the scenario file's values go under the command line's,
// then the one-liner's feeders, request and heartbeat become spec entries.
void finish_scenario(CLI::App& run_cmd, run_options& run, scenario_flags& flags) {
  std::set<const CLI::Option*> given;  // on the command line
  for (const CLI::Option* opt : run_cmd.get_options())
    if (opt->count() > 0) given.insert(opt);
  auto on_command_line = [&](const char* flag) {
    return given.count(run_cmd.get_option(flag)) > 0;
  };
  auto set_anywhere = [&](const char* flag) { return run_cmd.get_option(flag)->count() > 0; };

  scenario_file file;
  if (!flags.file.empty()) {
    auto read = read_scenario_file(flags.file, flag_keys(run_cmd));
    if (!read) throw scenario_error(read.error().message);
    if (auto applied = apply_flag_values(*read, run_cmd, given); !applied)
      throw scenario_error(applied.error().message);
    file = std::move(*read);
  }

  scenario_spec& spec = run.scenario;
  run.url = run.urls.empty() ? std::string() : run.urls.front();
  spec.source_file = flags.file;
  spec.feeders = std::move(file.spec.feeders);
  if (on_command_line("--feeder")) {
    spec.feeders.clear();
    for (const std::string& feeder : flags.feeders)
      spec.feeders.push_back(feeder_spec{feeder, "cycle", spec_origin{"", 0, 0, "--feeder"}});
  }
  spec.setup_steps = std::move(file.spec.setup_steps);
  spec.http_steps = std::move(file.spec.http_steps);
  spec.jwt = std::move(file.spec.jwt);

  if (!flags.request.send.empty()) {  // the one-liner's (a file's `request:` and
                                      // `requests:` together were refused)
    request_spec request = flags.request;
    request.origin = block_origin(file, {}, {"request"});
    spec.requests = {std::move(request)};
  } else {
    // A file's requests: --match, --error-field and --request-timeout given
    // on the command line override every entry; as top-level keys of the
    // file they fill what an entry left out.
    spec.requests = std::move(file.spec.requests);
    struct override_field {
      const char* flag;
      const char* key;
      std::string request_spec::*field;
    };
    const override_field fields[] = {{"--match", "match", &request_spec::match},
                                     {"--error-field", "error", &request_spec::error},
                                     {"--request-timeout", "timeout", &request_spec::timeout}};
    for (size_t i = 0; i < spec.requests.size(); ++i)
      for (const override_field& f : fields)
        if (on_command_line(f.flag) ||
            (set_anywhere(f.flag) && file.request_keys[i].count(f.key) == 0))
          spec.requests[i].*f.field = flags.request.*f.field;
  }

  spec.heartbeats.clear();
  if (set_anywhere("--heartbeat-every") || set_anywhere("--heartbeat-send") ||
      set_anywhere("--heartbeat-expect") || set_anywhere("--heartbeat-timeout")) {
    heartbeat_spec heartbeat = flags.heartbeat;
    heartbeat.origin = block_origin(
        file, file.heartbeat_origin,
        {"heartbeat-every", "heartbeat-send", "heartbeat-expect", "heartbeat-timeout"});
    spec.heartbeats.push_back(std::move(heartbeat));
  }
  spec.lifecycle.origin = block_origin(file, file.lifecycle_origin,
                                       {"lifetime", "lifetime-jitter", "reconnect", "backoff-base",
                                        "backoff-cap", "max-attempts", "chaos-rate", "chaos-mode"});
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
      "(broadcast)\n"
      "  horde run ws://127.0.0.1:9000/ -c 1000 --rate 10/s --error-field /error/code \\\n"
      "      --request '{\"jsonrpc\":\"2.0\",\"id\":{seq},\"method\":\"add\",\"params\":[1,2]}'\n"
      "  horde run --scenario examples/004-jwt-token-stream.yaml -c 5000   (file, flag wins)\n");
  run_cmd->footer(run_cmd->get_footer() + "\n" + thresholds_text + "\n" + exit_codes_text);
  add_run_flags(run_cmd, run);
  return run_cmd;
}

void add_run_flags(CLI::App* run_cmd, run_options& run) {
  add_load_flags(run_cmd, run);
  add_host_flags(run_cmd, run);
  add_compression_flags(run_cmd, run);
  add_distributed_flags(run_cmd, run);
  add_pubsub_flags(run_cmd, run);
  add_group_setup_flags(run_cmd, run);
  add_publish_http_flags(run_cmd, run.pubsub);
  // The scenario flags' values outlive add_run_command: the callback that
  // reads them owns them, and the options write into them.
  auto flags = std::make_shared<scenario_flags>();
  add_scenario_flags(run_cmd, run, *flags);
  run_cmd->final_callback([run_cmd, &run, flags] { finish_scenario(*run_cmd, run, *flags); });
}

}  // namespace horde::app

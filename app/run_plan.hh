// `horde run`'s flags turned into what the engine is asked to do, without
// starting anything: the client plan, the target, the sources, the report's
// notes and the rates the preflight budgets. A function of the flags and a
// few host facts (CPUs, the descriptor-table cap, a root directory for
// /proc), so tests drive it with made-up hosts and no sockets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/group_setup.hh"
#include "app/message_rate.hh"
#include "app/pubsub_options.hh"
#include "app/scenario_spec.hh"
#include "app/setup_steps.hh"
#include "app/target_url.hh"
#include "app/tls_flags.hh"
#include "base/result.hh"
#include "core/plan.hh"
#include "proto/upgrade_request.hh"

namespace horde::app {

// Flags as typed; build_run_plan parses and checks them.
struct run_options {
  std::string url;  // the first target; empty: start the embedded reference server on loopback
  std::vector<std::string> urls;  // every URL on the command line (url is the first)
  std::string targets_file;       // --targets-file: more URLs, with weights
  std::string target_order;       // round-robin | weighted; empty: weighted iff a weight is not 1
  // --worker i/N, or --workers N with i from $JOB_COMPLETION_INDEX: this
  // process runs slice i of N of the plan (app/worker_slice.hh).
  std::string worker;
  unsigned workers = 0;
  std::string start_at;  // --start-at: RFC 3339 UTC or @unix seconds; empty: now
  std::string barrier;   // --barrier HOST:PORT: pub/sub publish barrier (worker 0 serves it)
  std::string connections = "1000";
  std::string connect_rate = "20000/s";
  std::string max_pending = "4096";
  std::string close_rate;  // closes per second at the end; empty: as the target answers
  std::string duration = "10s";
  std::string rate = "1/s";  // messages per second per sender; 0 = none
  std::string stages;        // --stages: open connections over time (overrides -c, -d)
  std::string rate_stages;   // --rate-stages: messages/s per connection over time
  std::string total_rate;    // messages per second over all senders
  bool poisson = false;
  std::string size = "64";
  std::string payload;        // --payload hex:..|base64:..|file:PATH|text: the message's own bytes
  unsigned stamp_offset = 0;  // where the 32-byte stamp goes in --payload
  bool text = false;
  std::string ping_interval = "0";
  std::string connect_timeout = "10s";
  std::string upgrade_timeout = "10s";
  std::string pong_timeout = "10s";
  std::string drain = "2s";
  std::string close_timeout = "3s";     // per close handshake at the end; deadlines follow from it
  std::string send_backlog;             // empty: max(1 MiB, 8 messages)
  std::string wake_interval = "100us";  // timers wake a shard at most this often
  std::vector<std::string> headers;
  std::vector<std::string> subprotocols;
  std::string protocol = "ws";  // --protocol: the codec inside the messages (proto/codec.hh)
  std::vector<std::string> protocol_options;  // --protocol-option KEY=VALUE
  std::string origin;
  std::string compression = "off";              // --compression off|offer|require
  unsigned compression_window_bits = 0;         // 9..15 both ways; 0: the server chooses
  std::string compression_no_context_takeover;  // client|server|both; empty: keep contexts
  std::string source_ips;
  std::string ports = "1025-65535";
  std::string cpus;
  unsigned shards = 0;
  int leave_for_target = -1;  // CPUs kept free for a target on this host; -1: decide
  std::string percentiles = "50,90,95,99,99.9";  // the report's columns and the JSON's

  std::string json_path;
  std::string csv_path;                 // --csv: the series, one row per second
  std::string html_path;                // --html: the report as one self-contained page
  std::vector<std::string> thresholds;  // --threshold, as typed (app/threshold.hh)
  std::vector<int> target_pids;         // --target-pid: processes whose cost is sampled
  std::string target_cgroup;            // --target-cgroup: a cgroup v2 directory
  std::string metrics_listen;           // --metrics-listen ADDRESS:PORT: Prometheus /metrics
  bool quiet = false;
  bool force = false;
  bool raw = false;           // plain TCP: the engine's ceiling without WebSocket
  bool show_secrets = false;  // print Authorization/Cookie values and JWTs as given
  pubsub_options pubsub;
  tls_flags tls;  // wss:// only
  group_setup_options group_setup;
  scenario_spec scenario;  // per-connection steps: a scenario file, or the flags for them
};

// What the host gives a plan: found once by the caller (run_command.cc).
struct host_facts {
  std::vector<int> cpus;       // the shards' CPUs, in placement order
  uint64_t table_cap = 16384;  // descriptors one ring's table may hold (RLIMIT_NOFILE)
  uint64_t fd_soft = 0;        // RLIMIT_NOFILE as raised, for the report
  std::string root = "/";      // proc/ under it: reserved and listening ports
};

// One target as the report names it.
struct planned_target {
  std::string text;  // the URL, redacted unless --show-secrets
  uint32_t weight = 1;
  target_url url;
  core::endpoint address;
};

// --worker i/N: which slice of the whole plan this process runs.
struct worker_slice {
  uint32_t index = 0;
  uint32_t count = 1;
  bool enabled = false;  // a worker flag was given (the JSON then has "worker")
};

struct run_plan {
  core::client_plan client;
  std::vector<planned_target> targets;  // targets[0] is url/address/target_text below
  worker_slice worker;
  // The whole plan's figures (before slicing), for the JSON's whole_plan.
  uint64_t whole_connections = 0;
  double whole_connect_rate = 0;
  std::unique_ptr<core::pubsub_shared> pubsub_shared;  // client.pubsub.shared points here
  std::vector<setup_step_plan> setup;  // run-level setup steps, run once before the shards start
  bool embedded = false;  // no URL: the reference server, started once the preflight agrees
  target_url url;         // the embedded server's: 127.0.0.1, port 0 until it listens
  core::endpoint address;
  proto::upgrade_options upgrade;
  std::vector<uint16_t> avoided_ports;  // reserved and listening, as the preflight counts them
  std::vector<std::string> sources;     // as the report names them
  std::vector<std::string> notes;       // what horde decided on its own, and why
  std::string target_text;              // the URL, redacted unless --show-secrets
  std::vector<std::pair<std::string, std::string>> headers_shown;  // redacted likewise
  std::vector<double> percentiles;                                 // in percent, ascending
  // The run's rates over all connections: echo messages (or publishes) sent,
  // and for pub/sub the deliveries those publishes owe.
  double sends_per_second = 0;
  double deliveries_per_second = 0;
};

// Returns the plan, or the first error with the flag it is about.
result<run_plan> build_run_plan(const run_options& options, const host_facts& host);

// Once the embedded server listens on `port`: the target, its port kept out
// of the source ports.
result<void> target_embedded_server(run_plan& plan, const run_options& options, uint16_t port);

// "50,95,99,99.9": each above 0 and below 100, ascending and each once.
result<std::vector<double>> parse_percentiles(const std::string& text);

// Room for 8 messages and their frame headers, and never under 1 MiB.
inline uint64_t default_send_backlog(uint64_t message_size) noexcept {
  return std::max<uint64_t>(uint64_t(1) << 20, 8 * (message_size + 14));
}

}  // namespace horde::app

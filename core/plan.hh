// What the engine is asked to do, resolved to addresses and numbers: the app
// turns flags into this once, and every shard reads it (never writes) for the
// whole run.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <atomic>
#include <memory>
#include <optional>

#include "core/group_assignment.hh"
#include "core/group_ledger.hh"
#include "core/load_profile.hh"
#include "core/publish_timer.hh"
#include "proto/codec.hh"
#include "proto/csv_table.hh"
#include "proto/deflate_accept.hh"
#include "proto/json_fields.hh"
#include "proto/jwt.hh"
#include "proto/message_template.hh"
#include "proto/permessage_deflate.hh"
#include "proto/tls_context.hh"
#include "proto/upgrade_request.hh"
#include "proto/var_template.hh"

namespace horde::core {

// An IPv4 or IPv6 socket address (sockaddr_in6 is the larger of the two).
struct endpoint {
  sockaddr_in6 storage{};
  socklen_t length = 0;

  const sockaddr* address() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const noexcept { return storage.sin6_family; }
};

struct client_target {
  endpoint address;
  proto::upgrade_request_template request;
  // With {variables} in the URL or headers, the request is rendered per
  // connection from these two (around the key); otherwise `request` is copied.
  bool per_connection = false;
  proto::var_template before_key, after_key;
  size_t line_breaks = 0;  // CR and LF in the request: a value may add none
  std::vector<std::string> subprotocols;
  // wss://: the name sent as SNI and checked in the certificate (the URL's
  // host, or --sni). Unused unless the plan's tls is on.
  std::string tls_host;
  // --publish-http's origin: slots launched here never upgrade (docs/pubsub.md).
  bool http_publish = false;
};

enum class arrival : uint8_t { constant, poisson };

// --compression: permessage-deflate (RFC 7692) not offered, offered, or
// required (a 101 without it fails the connection, upgrade_compression_declined).
enum class compression_mode : uint8_t { off, offer, require };

struct shard_metrics;

// What the shards of one pub/sub run share (docs/pubsub.md): per group, the
// ledger (publish numbers, subscriptions in force), and the last-subscriber
// timer, counted down once per batch of deliveries, not per delivery.
struct pubsub_shared {
  explicit pubsub_shared(uint64_t groups) : ledger(groups) {}

  group_ledger ledger;
  publish_timer timer;                         // publish-to-last-subscriber timing, a fixed table
  std::atomic<uint32_t> shards_subscribed{0};  // shards done subscribing
  std::atomic<uint64_t> publish_start_ns{0};   // when the first shard began publishing
  // With workers (--worker i/N): false until every worker's subscriptions
  // are in force (the app's barrier); no shard publishes before.
  std::atomic<bool> workers_ready{true};
  // With workers: per group, its subscribers in other workers, owed every
  // publish (each group's count from the deterministic assignment); empty
  // without workers.
  std::vector<uint32_t> remote_subscribers;
  // Every shard's metrics (set by the engine), read by each shard's drain to
  // see whether every expected delivery has arrived everywhere.
  std::vector<const shard_metrics*> metrics;
  // With groups created by REST (--setup-url): 1 for each group whose
  // creation failed, never subscribed to; empty otherwise.
  std::vector<uint8_t> not_created;
};

inline constexpr uint32_t no_metric = UINT32_MAX;

// Publishing over HTTP (--publish-http, docs/pubsub.md): connections
// 0..P-1 never upgrade; each keeps one HTTP/1.1 socket to the publish URL's
// origin and sends its publishes there as requests, one in flight at a time.
// One origin HTTP publishers send to (--publish-http, repeatable): publisher
// p sends to origins[p % origins.size()].
struct http_publish_origin {
  std::string method;
  proto::message_template path;  // holes: {group}
  std::string host;              // the Host header
  uint8_t target = 0;            // its origin in client_plan::targets
  // With several origins, each one's own named metrics (else no_metric).
  uint32_t latency = no_metric, sent = no_metric, ok = no_metric, refused = no_metric,
           broken = no_metric;
};

struct http_publish_plan {
  std::vector<http_publish_origin> origins;      // empty: publishes go over WebSocket
  std::vector<proto::message_template> headers;  // "Name: value"; holes {group}, {payload}
  proto::message_template body;                  // holes: {group}, {payload}
  std::vector<int> expect;                       // empty: any 2xx
  uint64_t timeout_ns = 10'000'000'000;          // request sent -> answer complete
  // Named metrics (client_plan::named); status_class is the first of five (1xx..5xx).
  uint32_t latency = no_metric, sent = no_metric, ok = no_metric, refused = no_metric,
           timeouts = no_metric, broken = no_metric, reconnects = no_metric,
           status_class = no_metric;

  bool enabled() const noexcept { return !origins.empty(); }
  const http_publish_origin& origin_of(uint64_t publisher) const noexcept {
    return origins[publisher % origins.size()];
  }
};

struct pubsub_plan {
  group_layout layout;  // layout.groups == 0: no pub/sub in this run
  proto::group_names names;
  proto::message_template subscribe;        // holes: {group}
  proto::message_template subscribe_ack;    // holes: {group}; empty: in force after settle_ns
  proto::message_template publish;          // holes: {group}, {payload}
  proto::message_template unsubscribe;      // holes: {group}; used by churn only
  proto::message_template unsubscribe_ack;  // holes: {group}; churn needs both acks
  double churn_rate = 0;                    // leave-and-rejoin operations per second, all shards
  double publish_rate = 0;                  // publishes per second per publishing connection
  uint32_t payload_size = 64;               // {payload}: the text stamp, then filler
  bool publish_binary = false;  // publishes in binary frames (no UTF-8 checks on either end)
  uint64_t subscribe_timeout_ns = 10'000'000'000;
  uint64_t settle_ns = 1'000'000'000;
  pubsub_shared* shared = nullptr;
  http_publish_plan http;  // publishes as HTTP requests instead of WebSocket messages

  bool enabled() const noexcept { return layout.groups > 0; }
};

// Counters and histograms a scenario declares beyond the fixed ones (per
// request name, per HTTP step, stream gaps, reconnect backoff): the app
// names them while building the plan, and each shard's metrics keep them in
// this order (shard_metrics::declare). Names are dotted: "request.add.sent".
struct named_metrics {
  std::vector<std::string> counters;
  std::vector<std::string> histograms;

  uint32_t counter(std::string name) {
    counters.push_back(std::move(name));
    return uint32_t(counters.size() - 1);
  }
  uint32_t histogram(std::string name) {
    histograms.push_back(std::move(name));
    return uint32_t(histograms.size() - 1);
  }
};

// Connections that end on their own and come back (the lifecycle layer).
struct lifecycle_plan {
  uint64_t lifetime_ns = 0;         // an open connection is closed (1000) after this; 0 = never
  uint64_t lifetime_jitter_ns = 0;  // +/- uniformly
  // On any end before the run's (server close, error, lifetime, chaos): launch
  // again after a backoff, full jitter (AWS's "exponential backoff and
  // jitter"): uniform in [0, min(cap, base * 2^failures in a row)].
  bool reconnect = false;
  uint64_t backoff_base_ns = 100'000'000;
  uint64_t backoff_cap_ns = 10'000'000'000;
  uint32_t max_attempts = 0;               // failed attempts in a row before giving up; 0 = never
  double chaos_rate = 0;                   // open connections dropped per second, all shards
  bool chaos_reset = true;                 // RST (SO_LINGER 0); false: a clean close 1001
  uint32_t backoff_histogram = no_metric;  // named histogram of backoff waits
  // Idle-timeout discovery (a hold with nothing sent, no pings): how long an
  // open connection had been silent when the server or the path ended it,
  // by how: a close frame, an RST, a FIN without a close. no_metric: off.
  uint32_t idle_cut_close = no_metric, idle_cut_reset = no_metric, idle_cut_eof = no_metric;
};

// Per-connection variables ({user}, {token}, {jwt}): the user names in
// order — a feeder's columns first (values from its row for the
// connection, read-only and shared), then the run-level variables (the
// captures of the scenario's `setup:` steps, one value for every
// connection), then values a connection stores for itself (HTTP captures,
// its minted JWT).
struct vars_plan {
  std::vector<std::string> names;
  std::shared_ptr<const proto::csv_table> feeder;  // null: no feeder
  enum class feeder_order : uint8_t { cycle, once, random } order = feeder_order::cycle;
  size_t run_count = 0;  // run-level names, right after the feeder's columns
  // Their values: set once by the app after the setup steps ran, before any
  // shard starts; read-only from then on.
  std::vector<std::string> run_values;
  size_t feeder_columns() const noexcept { return feeder ? feeder->column_count() : 0; }
  size_t stored() const noexcept { return names.size() - feeder_columns() - run_count; }
};

// A value an HTTP step keeps from its answer, into a stored variable.
struct http_capture {
  size_t stored_index = 0;
  bool from_header = false;
  std::string header;        // from_header
  proto::json_pointer json;  // otherwise: a field of the JSON body
};

// One HTTP/1.1 request a connection makes before its upgrade, on its own
// socket (kept alive), to the WebSocket's origin; the upgrade follows on
// the same socket, as a browser's page would log in and then open it.
struct http_step_plan {
  std::string name;
  std::string method;
  proto::var_template target;                // path and query
  std::string host;                          // the Host header
  std::vector<proto::var_template> headers;  // "Name: value" lines
  proto::var_template body;
  std::vector<int> expect;  // empty: any 2xx
  std::vector<http_capture> captures;
  uint64_t timeout_ns = 10'000'000'000;
  uint32_t latency = no_metric, ok = no_metric, failed = no_metric;
  uint32_t status_class = no_metric;  // five counters: 1xx .. 5xx answers
};

// A JWT minted per connection into {jwt} (a stored variable).
struct jwt_plan {
  std::optional<proto::jwt_signer> signer;  // none: no JWT
  std::vector<std::string> claim_names;
  std::vector<proto::var_template> claim_values;
  std::vector<bool> claim_is_string;  // forced to a JSON string
  size_t stored_index = 0;            // its index among the stored variables
};

// One kind of request a connection sends on its own open-loop schedule, and
// the reply (or, for a stream, the frames) it expects: a reply is matched to
// its request when the JSON field `match` equals `match_value` rendered for
// that request (JSON-RPC 2.0: /id and {seq}).
struct request_kind {
  std::string name;
  proto::var_template send;         // {seq}: the request's number on its connection
  proto::var_template match_value;  // the correlation key, rendered per request
  proto::json_pointer match;
  bool binary = false;
  bool has_error = false;  // a reply with this field is an error reply
  proto::json_pointer error;
  double rate = 0;  // per connection per second
  uint64_t timeout_ns = 10'000'000'000;
  // A stream: frames until one matches `end`, or `count` frames.
  bool stream = false;
  bool has_end = false;
  proto::json_predicate end;
  uint32_t count = 0;
  // Named metrics (client_plan::named).
  uint32_t latency = no_metric;  // request: scheduled send -> reply; stream: -> its end
  uint32_t first_frame = no_metric, frame_gap = no_metric;
  uint32_t sent = no_metric, answered = no_metric, errors = no_metric, timeouts = no_metric,
           lost = no_metric, frames = no_metric;
};

// An application heartbeat: `send` every `every_ns`, a reply matching
// `expect` (any message, without one) within `timeout_ns`.
struct heartbeat_plan {
  uint64_t every_ns = 0;  // 0: none
  proto::var_template send;
  bool has_expect = false;
  proto::json_predicate expect;
  uint64_t timeout_ns = 5'000'000'000;
  uint32_t latency = no_metric, sent = no_metric, answered = no_metric, missed = no_metric;
};

// What open connections do when it is not the stamped echo or pub/sub.
struct steps_plan {
  std::vector<request_kind> requests;
  heartbeat_plan heartbeat;
  bool listen_only = false;  // never send: count and time what the server pushes
  uint32_t pushes = no_metric, push_gap = no_metric, unmatched = no_metric;

  bool enabled() const noexcept {
    return !requests.empty() || heartbeat.every_ns != 0 || listen_only;
  }
};

// An application protocol spoken over the WebSocket (--protocol,
// proto/codec.hh): the scenario runs above its codec (core/codec_scenario.hh).
struct protocol_plan {
  const proto::codec_info* codec = nullptr;  // nullptr: bare WebSocket messages
  proto::codec_options options;              // --protocol-option KEY=VALUE
  // The codec's counters and histograms among the named metrics, in the
  // order codec_info lists them.
  uint32_t first_counter = no_metric, first_histogram = no_metric;
  bool enabled() const noexcept { return codec != nullptr; }
};

struct client_plan {
  std::vector<client_target> targets;
  // Which target each connection takes: connection id c (run-wide) takes
  // targets[target_cycle[c % size]]. Round-robin: 0, 1, ..., T-1; weighted:
  // a smooth weighted round-robin of the weights (app/target_list.hh).
  // Empty: c % targets.size(). A function of the id only, so N workers of
  // one plan together send each target exactly what one process would.
  std::vector<uint8_t> target_cycle;
  // The target of connection `id`: an HTTP publisher's is its publish
  // origin (the last targets); the others follow the cycle over the
  // WebSocket targets.
  uint8_t target_of(uint64_t id) const noexcept {
    if (pubsub.http.enabled() && id < pubsub.layout.publishers)
      return pubsub.http.origin_of(id).target;
    if (!target_cycle.empty()) return target_cycle[id % target_cycle.size()];
    const size_t websocket_targets = targets.size() - pubsub.http.origins.size();
    return uint8_t(id % std::max<size_t>(websocket_targets, 1));
  }

  // --worker i/N: this process runs connections c with c % worker_count ==
  // worker_index of a plan of whole_connections (ids stay run-wide: they
  // pick targets, feeder rows, groups and publishers as in one process).
  // `connections` is then this worker's share; stages give the whole plan's
  // counts and each worker takes its share of them.
  uint32_t worker_index = 0;
  uint32_t worker_count = 1;
  uint64_t whole_connections = 1;
  // The run-wide id of a shard's k-th connection.
  uint64_t global_id(uint32_t shard, uint64_t k) const noexcept {
    return worker_index + uint64_t(worker_count) * (shard + k * shards);
  }
  std::vector<endpoint> sources;  // local addresses to bind; ports come from the allocator
  uint16_t port_low = 1025;
  uint16_t port_high = 65535;
  std::vector<uint16_t> excluded_ports;  // e.g. listening ports on the same addresses

  uint64_t connections = 1;  // with stages: their peak (the slots)
  // --stages: the open connections the run aims at over time (empty: all of
  // `connections`, opened at connect_rate, held). A falling stage closes
  // connections cleanly and parks their slots for the next rise.
  load_profile connection_stages;
  // --rate-stages: messages per second per connection over time (empty:
  // message_rate throughout, which is then the stages' peak).
  load_profile rate_stages;
  double connect_rate = 0;               // new connections per second, all shards; 0 = unlimited
  uint32_t max_pending_connects = 4096;  // all shards; a full accept queue drops SYNs
  // The run's end closes connections at this pace (all shards; 0 = as fast
  // as the target answers), with at most max_pending_closes close
  // handshakes in flight: each holds a framing context on both ends until
  // it completes, and a million at once would swamp the server and horde's
  // memory alike. The window alone paces closes to what the target takes.
  double close_rate = 0;
  uint32_t max_pending_closes = 4096;
  uint64_t duration_ns = 10'000'000'000;  // whole run, ramp included

  compression_mode compression = compression_mode::off;
  proto::deflate_offer deflate;  // what is offered unless compression is off

  double message_rate = 0;  // messages per second per connection; 0 = none
  arrival arrivals = arrival::constant;
  uint32_t message_size = 64;
  bool binary = true;
  // --payload: the application's own message bytes (protobuf, msgpack...),
  // sent as they are with the binary stamp written at stamp_offset; echoes
  // are checked against them. Empty: the stamp, then horde's filler.
  std::string payload;
  uint32_t stamp_offset = 0;

  // Raw TCP instead of WebSocket: no upgrade, no framing; fixed-size stamped
  // messages on the byte stream. The same engine's ceiling without WebSocket.
  bool raw = false;

  pubsub_plan pubsub;
  lifecycle_plan lifecycle;
  vars_plan vars;
  std::vector<http_step_plan> http_steps;  // before the upgrade, in order
  jwt_plan jwt;
  steps_plan steps;
  protocol_plan protocol;
  named_metrics named;

  // wss:// (core/tls_transport.hh): every shard makes its own context from
  // these options, so resumption is per shard.
  bool tls = false;
  proto::tls_options tls_options;
  uint64_t tls_timeout_ns = 10'000'000'000;  // TCP connected -> handshake finished

  uint64_t ping_interval_ns = 0;  // 0 = no pings
  uint64_t connect_timeout_ns = 10'000'000'000;
  uint64_t upgrade_timeout_ns = 10'000'000'000;
  uint64_t pong_timeout_ns = 10'000'000'000;
  uint64_t drain_ns = 2'000'000'000;  // after the last send: wait for echoes
  // Timers wake a shard at most this often (sends due within it leave
  // together); completions of open connections wake it only in batches.
  uint64_t wake_interval_ns = 100'000;
  uint64_t close_timeout_ns = 3'000'000'000;
  // Bytes one connection may have waiting to be sent (the server is not
  // reading them) before it is counted send_backlog and torn down. The app
  // sets it from the message size (app/run_plan: at least 1 MiB, room for 8
  // messages); it bounds horde's memory per connection whatever the server
  // does.
  uint32_t send_backlog_bytes = 1u << 20;

  // Shards and where they run; shard i runs on cpus[i % cpus.size()].
  uint32_t shards = 1;
  std::vector<int> cpus;
  uint32_t file_slots_per_shard = 16384;
};

// The target a connection launches towards: HTTP publishers (ids 0..P-1
// with --publish-http) their own origin, the others the WebSocket targets
// in turn.

// The most connections any one client shard owns (ids i % shards == index).
inline uint64_t client_shard_share(uint64_t connections, uint32_t shards) noexcept {
  return (connections + shards - 1) / shards;
}

// Close handshakes one shard keeps in flight at the run's end.
inline uint64_t client_shard_closing_window(const client_plan& plan) noexcept {
  const uint64_t shards = plan.shards == 0 ? 1 : plan.shards;
  return plan.max_pending_closes / shards == 0 ? 1 : plan.max_pending_closes / shards;
}

// The longest the close phase can take to begin every close handshake: each
// close ends (cleanly or not) within close_timeout, so a shard's window
// moves at least window / close_timeout closes per second, or at the close
// rate if that is slower. The run's watchdog allows this much.
inline uint64_t close_phase_budget_ns(const client_plan& plan) noexcept {
  const double share = double(client_shard_share(plan.connections, plan.shards ? plan.shards : 1));
  double pace = double(client_shard_closing_window(plan)) * 1e9 / double(plan.close_timeout_ns);
  if (plan.close_rate > 0)
    pace = std::min(pace, plan.close_rate / double(plan.shards ? plan.shards : 1));
  return uint64_t(1e9 * share / pace);
}

// echo: every WebSocket message comes back as it came, except the pub/sub
// commands of the reference protocol (docs/pubsub.md: "sub G", "unsub G",
// "pub G payload"), which the broker in the same server answers.
enum class server_mode : uint8_t { echo, raw_echo };

struct server_plan {
  endpoint listen;
  uint32_t shards = 1;
  std::vector<int> cpus;
  uint32_t file_slots_per_shard = 16384;
  int backlog = 65535;
  server_mode mode = server_mode::echo;

  // Testing horde's loss accounting only: every Nth delivery a shard makes is
  // dropped, or sent twice (0 = never).
  uint32_t drop_every = 0;
  uint32_t duplicate_every = 0;
  // A subscriber whose unsent bytes pass this is disconnected (a slow consumer).
  uint32_t max_out_bytes = 16u << 20;

  // TLS terminated by the server itself (`horde serve --tls-cert`): set when
  // tls_server.cert_file is. Every shard's context gets the same ticket keys,
  // so a session made on one shard resumes on any.
  proto::tls_server_options tls_server;
  bool tls() const noexcept { return !tls_server.cert_file.empty(); }

  // `horde serve --sessions SECRET` (proto/session_issuer.hh): POST /sessions
  // answers 201 with a session id and an HS256 JWT signed with this secret,
  // on a kept-alive connection; every upgrade then needs a valid
  // "Authorization: Bearer" token (401 and close otherwise). Empty: off.
  std::string sessions_secret;

  // `--drop-at`: drop_after_ns after the server's first accepted connection
  // (on any shard), every shard closes drop_fraction of its open WebSocket
  // connections at once, with close 1001 or (drop_reset) a TCP RST. Once;
  // 0 = never.
  uint64_t drop_after_ns = 0;
  double drop_fraction = 0;
  bool drop_reset = false;

  // `--compression accept`: permessage-deflate (RFC 7692) for clients that
  // offer it, on these terms (proto/deflate_accept.hh). Echoes go out
  // compressed; broker answers and deliveries go uncompressed, which the
  // extension allows (RFC 7692 6).
  bool compression = false;
  proto::deflate_policy deflate;
};

}  // namespace horde::core

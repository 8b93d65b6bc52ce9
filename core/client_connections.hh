// The connection lifecycle layer of a client shard: the slots, the connect
// chain, the upgrade, the WebSocket session, pings, timeouts, and the end of
// every connection (teardown, settle, finish) as moves in the table of
// core/connection_state.hh. Below it the transport (plain, TLS or raw) moves
// bytes; above it the scenario decides what an open connection sends and
// makes of what it receives; the shard loop (client_shard.cc) paces launches
// and phases and hands this layer its completions and timers.
//
// Invariants: a slot's descriptor, port and buffers are reused or released
// only when nothing is in flight for it (pending == 0, in settle); a
// completion whose generation is not its slot's belongs to a connection that
// is gone and is dropped; every connection that does not end cleanly is
// counted under exactly one failure reason.
#pragma once

#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/buffer_pool.hh"
#include "core/client_transport.hh"
#include "core/connection_state.hh"
#include "core/connection_vars.hh"
#include "core/http_publish.hh"
#include "core/http_steps.hh"
#include "core/metrics.hh"
#include "core/out_buffer.hh"
#include "core/plan.hh"
#include "core/port_allocator.hh"
#include "core/raw_messages.hh"
#include "core/ring.hh"
#include "core/scenario.hh"
#include "core/slot_io.hh"
#include "core/timer_wheel.hh"
#include "core/user_data.hh"
#include "proto/http_response.hh"
#include "proto/mask_source.hh"
#include "proto/upgrade_response.hh"
#include "proto/ws_session.hh"

namespace horde::core {

// Why a connection is being torn down, if it failed.
inline constexpr uint8_t no_failure = 0xff;

struct connection {
  timer_node timer;  // one wake-up: the earliest of deadline, ping, scenario
  out_buffer out;    // plaintext waiting for the one send in flight
  proto::ws_session session;
  proto::upgrade_response_parser* upgrade = nullptr;  // only during the handshake
  proto::http_response_parser* http = nullptr;        // only during the HTTP steps
  uint64_t phase_start_ns = 0;                        // connect start, then TLS, then upgrade
  uint64_t deadline_ns = 0;                           // the current state's timeout; 0 = none
  uint64_t next_ping_ns = 0;
  // Open: when its --lifetime ends (0 = never). Waiting to reconnect: unused
  // (deadline_ns holds the relaunch time).
  uint64_t life_end_ns = 0;
  source_port port{};
  uint16_t generation = 0;
  uint16_t bind_slot = 0;
  int16_t chain_error = 0;  // first error in the connect chain
  conn_state state = conn_state::idle;
  uint8_t pending = 0;  // operations in flight for this slot
  uint8_t failure = no_failure;
  uint8_t target = 0;
  uint8_t retries = 0;
  uint8_t http_step = 0;           // the HTTP step in flight (requesting)
  uint8_t failures_in_row = 0;     // attempts that never opened, since the last open
  bool was_open = false;           // this attempt opened
  bool waiting_relaunch = false;   // done, idle until deadline_ns, then launched again
  bool relaunched = false;         // this attempt is a reconnect
  bool parking = false;            // closed by a falling stage: parked when it ends, not done
  bool parked = false;             // idle, launched again when the stages rise
  bool timed_out = false;          // the connect timed out (its cancel was sent)
  bool ping_outstanding = false;   // deadline_ns is the pong's
  bool abort_after_chain = false;  // ended while connecting: finish once the chain reports
  op chain_failed_op = op::connect;
};

static_assert(sizeof(connection) <= 160, "a connection slot must stay small: 100k of them");

class client_connections final {
 public:
  struct parts {
    const client_plan& plan;
    shard_metrics& metrics;                     // what belongs to no one connection
    std::span<shard_metrics* const> by_target;  // a connection's own, by its target
    ring& uring;
    buffer_pool& buffers;
    timer_wheel& wheel;
    port_allocator& ports;
    proto::mask_source& masks;
    proto::ws_shard_env& ws_env;
    client_transport& transport;
  };

  client_connections(parts p, size_t slots);
  ~client_connections();
  client_connections(const client_connections&) = delete;
  client_connections& operator=(const client_connections&) = delete;

  void set_scenario(scenario& s) noexcept { _scenario = &s; }
  // Per-connection variables (URL, headers, the JWT); before the first launch.
  void set_vars(connection_vars& v) {
    _vars = &v;
    _steps = std::make_unique<http_steps>(_plan, _metrics, v);
  }
  // --publish-http: where HTTP publisher slots take their publishes.
  void set_publish_source(http_publish_source& s) noexcept { _publish = &s; }
  size_t size() const noexcept { return _conns.size(); }
  connection& at(uint32_t slot) noexcept { return _conns[slot]; }

  // Starts the slot's connect chain towards its target.
  void launch(uint32_t slot, uint8_t target, uint64_t now) noexcept;
  void on_completion(const io_uring_cqe& cqe, uint64_t now) noexcept;
  void on_timer(timer_node& node, uint64_t now) noexcept;

  // Sending is over: no pings, no scenario sends from now on.
  void stop_sending() noexcept;
  // The run's end: a close handshake for an open connection, unfinished
  // for one still being set up.
  void begin_close(uint32_t slot, uint64_t now) noexcept;
  // The run's end caught the slot before it opened: counted unfinished.
  void cut_short(uint32_t slot) noexcept;
  // Ends the connection now (no close handshake), counted under `reason`.
  void teardown(uint32_t slot, std::optional<failure_reason> reason) noexcept;
  // A falling stage: ends the connection cleanly (a close handshake when
  // open) and parks its slot for a later rise instead of counting it done.
  void stage_close(uint32_t slot, uint64_t now) noexcept;
  // A parked slot (its close has ended) launched again; false if not parked yet.
  bool unpark(uint32_t slot, uint64_t now) noexcept;
  // --chaos-rate: drops an open connection on purpose (RST or a clean 1001);
  // false when the slot is not open.
  bool chaos_drop(uint32_t slot, uint64_t now) noexcept;

  // The slot's scenario port for work of the whole shard; sends flush at once.
  scenario_port* port_of(uint32_t slot) noexcept;
  void rescheduled(uint32_t slot) noexcept;

  uint64_t live() const noexcept { return _live; }
  void forget_unlaunched(uint64_t n) noexcept { _live -= n; }
  uint32_t handshaking() const noexcept { return _handshaking; }
  uint32_t pending_connects() const noexcept { return _pending_connects; }
  uint32_t max_pending() const noexcept { return _max_pending; }
  size_t closing_now() const noexcept { return _closing_now; }
  // Large sends and send backlogs seen since the last call: wake promptly.
  unsigned take_sends_to_watch() noexcept {
    const unsigned n = _sends_to_watch;
    _sends_to_watch = 0;
    return n;
  }
  // The leak check: slots in use, and open or opening connections.
  uint64_t slots_in_use() const noexcept;
  // Resynchronise CLOCK_REALTIME and CLOCK_MONOTONIC (receive stamps are realtime).
  void set_realtime_offset(int64_t offset_ns) noexcept { _realtime_offset_ns = offset_ns; }

 private:
  class port;
  class session_sink;
  friend class port;
  friend class session_sink;

  uint32_t slot_of(const connection& c) const noexcept { return uint32_t(&c - _conns.data()); }
  void move(connection& c, conn_event event) noexcept;
  io_uring_sqe* sqe_for(connection& c, op operation) noexcept;
  void launch_chain(connection& c, const client_target& target, const endpoint& bind_to,
                    bool with_request) noexcept;
  void prepare_upgrade(connection& c, const client_target& target) noexcept;
  // The connection's own values: a fresh JWT; then its upgrade request when
  // the URL or headers have {variables}. False when a value cannot go in the
  // request (counted bad_variable_value).
  bool prepare_identity(connection& c, const client_target& target, uint64_t now) noexcept;
  // HTTP steps: the next request into c.out, and each answer.
  bool send_step(connection& c, uint64_t now) noexcept;
  void feed_http(connection& c, std::span<const uint8_t> bytes, uint64_t now) noexcept;
  void steps_done(connection& c, uint64_t now) noexcept;
  bool steps_first() const noexcept { return _steps && _steps->any(); }
  // HTTP publishers (core/client_publisher.cc): they stay in `requesting`,
  // one request in flight at most (deadline_ns != 0 while one is).
  bool is_publisher(const connection& c) const noexcept {
    return _publish != nullptr && _plan.targets[c.target].http_publish;
  }
  void publisher_ready(connection& c, uint64_t now) noexcept;
  void feed_publish(connection& c, std::span<const uint8_t> bytes, uint64_t now) noexcept;
  void publisher_timer(connection& c, uint64_t now) noexcept;
  void arm_recv(connection& c) noexcept;
  void flush(connection& c) noexcept;
  void send_wire(connection& c) noexcept;
  void schedule(connection& c) noexcept;
  void on_open_timer(connection& c, uint64_t now) noexcept;
  void ping_due(connection& c, uint64_t now) noexcept;
  void maybe_release_context(connection& c, uint64_t now) noexcept;

  void on_chain_step(connection& c, op operation, int res) noexcept;
  void on_connect(connection& c, int res, uint64_t now) noexcept;
  void settle(connection& c, uint64_t now) noexcept;
  void settle_failed_chain(connection& c, uint64_t now) noexcept;
  void on_send(connection& c, int res) noexcept;
  void on_recv(connection& c, const io_uring_cqe& cqe, uint64_t now) noexcept;
  void on_end_of_stream(connection& c) noexcept;

  void feed(connection& c, std::span<const uint8_t> bytes, uint64_t received_ns,
            uint64_t now) noexcept;
  void feed_plain(connection& c, std::span<const uint8_t> bytes, uint64_t received_ns,
                  uint64_t now) noexcept;
  bool feed_upgrade(connection& c, std::span<const uint8_t>& bytes, uint64_t now) noexcept;
  bool take_deflate(connection& c) noexcept;
  void feed_frames(connection& c, std::span<const uint8_t> bytes, uint64_t received_ns,
                   uint64_t now) noexcept;
  void opened(connection& c, uint64_t now) noexcept;
  void secured(connection& c, uint64_t now) noexcept;
  void transport_failed(connection& c, failure_reason reason) noexcept;
  void start_close(connection& c, uint16_t code, std::string_view reason, uint64_t now) noexcept;

  void finish_failed(connection& c, std::optional<failure_reason> reason) noexcept;
  void finish(connection& c) noexcept;
  void record_idle_cut(const connection& c, failure_reason reason) noexcept;
  // After an end while the run goes on: wait a backoff and launch again, or
  // (no --reconnect, or --max-attempts reached) the connection is done.
  bool wait_to_relaunch(connection& c, uint64_t now) noexcept;
  void relaunch(connection& c, uint64_t now) noexcept;
  void lifetime_over(connection& c, uint64_t now) noexcept;
  static std::optional<failure_reason> recorded_failure(const connection& c) noexcept;
  bool ended_our_close(failure_reason reason) noexcept;

  const client_plan& _plan;
  shard_metrics& _metrics;
  std::span<shard_metrics* const> _by_target;
  // The metrics a connection's life counts in: its target's.
  shard_metrics& of(const connection& c) const noexcept { return *_by_target[c.target]; }
  ring& _uring;
  buffer_pool& _buffers;
  timer_wheel& _wheel;
  port_allocator& _ports;
  proto::mask_source& _masks;
  proto::ws_shard_env& _ws_env;
  client_transport& _transport;
  scenario* _scenario = nullptr;
  connection_vars* _vars = nullptr;
  std::unique_ptr<http_steps> _steps;
  http_publish_source* _publish = nullptr;
  parser_pool<proto::http_response_parser> _http_parsers;
  std::string _scratch;           // a rendered request or JWT claims
  std::string _rendered_request;  // this launch's upgrade request, when per connection
  size_t _key_offset_in_rendered = 0;
  std::string _claim_text;  // a JWT's claims rendered back to back, then the token
  std::vector<size_t> _claim_ends;
  std::vector<proto::jwt_claim_view> _claim_views;
  uint64_t _random_state = 0;  // {rand:N}, {uuid} in the request and the claims

  std::vector<connection> _conns;
  std::vector<raw_messages> _raw;         // raw TCP only, one per slot
  std::vector<endpoint> _bind_addresses;  // one per connect in flight; the kernel reads it late
  std::vector<uint16_t> _free_bind_slots;
  parser_pool<proto::upgrade_response_parser> _parsers;
  // Every receive is a multishot recvmsg carrying the kernel's receive
  // timestamp (core/received_bytes.hh).
  msghdr _receive_header;
  int64_t _realtime_offset_ns = 0;

  uint64_t _live = 0;  // connections not yet done
  uint32_t _handshaking = 0;
  uint32_t _pending_connects = 0;
  uint32_t _max_pending = 0;
  size_t _closing_now = 0;
  unsigned _sends_to_watch = 0;
  bool _sending = true;
  bool _feeding = false;  // inside a session's feed: scenarios must not send
};

}  // namespace horde::core

#include "core/client_shard.hh"

#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/buffer_pool.hh"
#include "core/clock.hh"
#include "core/out_buffer.hh"
#include "core/port_allocator.hh"
#include "core/pubsub_client.hh"
#include "core/received_bytes.hh"
#include "core/ring.hh"
#include "core/thread_cpu.hh"
#include "core/timer_wheel.hh"
#include "core/tls_transport.hh"
#include "core/uring_compat.hh"
#include "core/user_data.hh"
#include "core/wake_plan.hh"
#include "proto/accept_key.hh"
#include "proto/mask_source.hh"
#include "proto/stamp.hh"
#include "proto/upgrade_response.hh"
#include "proto/ws_session.hh"

namespace horde::core {
namespace {

constexpr uint16_t buffer_group = 1;
// Per shard, recycled as soon as fed: 2 MiB however many connections the
// shard holds. A bigger message simply arrives in several buffers.
constexpr unsigned receive_buffers = 1024;
constexpr unsigned receive_buffer_size = 2048;
constexpr unsigned max_bind_retries = 16;
constexpr unsigned max_sends_per_wakeup = 64;     // catch-up burst bound per connection
constexpr uint64_t context_keep_ns = 50'000'000;  // keep wslay context if a send is this close
constexpr uint64_t max_wait_ns = 10'000'000;
constexpr size_t max_pooled_parsers = 64;
constexpr size_t max_closing = 1024;            // close handshakes in flight per shard
constexpr unsigned separate_submit_at = 8;      // queued entries submitted before the wait is timed
constexpr size_t large_send_bytes = 64 * 1024;  // a send that may complete short
constexpr size_t max_pooled_ws_contexts = 64;
constexpr uint32_t invalid_slot = UINT32_MAX;  // a request that belongs to no connection

enum class conn_state : uint8_t {
  idle,             // not launched yet
  connecting,       // socket/bind/connect/send chain in flight
  tls_handshaking,  // wss://: ClientHello sent with the chain, waiting for the handshake to end
  upgrading,        // request sent, waiting for 101
  open,
  closing,  // our close frame sent, waiting for the server's
  tearing,  // cancel + close of the descriptor in flight
  done,
};

// Why a connection is being torn down, if it failed.
constexpr uint8_t no_failure = 0xff;

struct connection {
  timer_node timer;  // one wake-up: the earliest of deadline, send, ping
  out_buffer out;    // bytes waiting for the one send in flight
  proto::ws_session session;
  proto::upgrade_response_parser* upgrade = nullptr;  // only during the handshake
  uint64_t phase_start_ns = 0;                        // connect start, then upgrade start
  uint64_t deadline_ns = 0;                           // the current state's timeout; 0 = none
  uint64_t next_send_ns = 0;
  uint64_t next_ping_ns = 0;
  uint32_t id = 0;
  uint32_t seq = 0;
  source_port port{};
  uint16_t generation = 0;
  uint16_t bind_slot = 0;
  int16_t chain_error = 0;  // first error in the connect chain
  conn_state state = conn_state::idle;
  uint8_t pending = 0;  // operations in flight for this slot
  uint8_t failure = no_failure;
  uint8_t target = 0;
  uint8_t retries = 0;
  bool recv_armed = false;
  bool timed_out = false;
  bool ping_outstanding = false;
  bool abort_after_chain = false;
  bool subscribed =
      false;  // pub/sub: every subscription in force, given up, or the connection gone
  bool was_opened = false;  // reached open at least once (leaves the handshake count)
  op chain_failed_op = op::connect;
};

static_assert(sizeof(connection) <= 160, "a connection slot must stay small: 100k of them");

// Why a session failed, as the report names it: the close code horde sent
// says which rule the server broke.
failure_reason failure_of(const proto::ws_session& session) noexcept {
  switch (session.failure_code()) {
    case 1007:
      return failure_reason::protocol_invalid_utf8;
    case 1009:
      return failure_reason::protocol_message_too_big;
    case 1011:
      return failure_reason::io_error;  // memory ran out on our side
    default:
      return failure_reason::protocol_error;
  }
}

// The reason an upgrade answer was refused. A TLS record (handshake 0x16 or
// alert 0x15, version 3.x) where "HTTP/1.1" should be means ws:// reached a
// TLS port.
failure_reason failure_of(const proto::upgrade_response_parser& parser,
                          std::span<const uint8_t> first_bytes) noexcept {
  switch (parser.failure()) {
    case proto::upgrade_failure::not_101:
      return failure_reason::upgrade_rejected;
    case proto::upgrade_failure::bad_accept:
      return failure_reason::upgrade_bad_accept;
    case proto::upgrade_failure::too_large:
      return failure_reason::upgrade_header_too_large;
    default:
      break;
  }
  const bool tls_record = first_bytes.size() >= 2 &&
                          (first_bytes[0] == 0x15 || first_bytes[0] == 0x16) &&
                          first_bytes[1] == 0x03;
  return tls_record ? failure_reason::tls_answer_to_plain : failure_reason::upgrade_invalid;
}

// wss://: an HTTP answer where a TLS record should be means a plain port.
bool is_plain_http(std::span<const uint8_t> bytes) noexcept {
  return bytes.size() >= 5 && std::memcmp(bytes.data(), "HTTP/", 5) == 0;
}

}  // namespace

struct client_shard::impl final : proto::ws_sink, tls_transport::plaintext_sink {
  const client_plan& plan;
  const uint32_t index;
  shard_metrics& metrics;
  shard_control& control;
  uint64_t start_ns = 0;  // set when the controller says go
  uint64_t end_ns = 0;

  ring uring;
  buffer_pool buffers;
  timer_wheel wheel;
  port_allocator ports;
  proto::mask_source masks;
  proto::ws_shard_env ws_env;
  std::vector<connection> conns;
  struct raw_receive {
    uint32_t offset = 0;                 // bytes of the current message received
    uint8_t stamp[proto::stamp_size]{};  // its first bytes, while it straddles receives
  };
  std::vector<raw_receive> raw_state;    // raw TCP mode only, one per connection
  std::vector<endpoint> bind_addresses;  // one per connect in flight; the kernel reads it late
  std::vector<uint16_t> free_bind_slots;
  std::vector<proto::upgrade_response_parser*> parser_pool;
  std::vector<uint8_t> payload;

  // Every receive is a multishot recvmsg carrying the kernel's receive
  // timestamp (core/received_bytes.hh).
  msghdr receive_header = timestamped_receive_header();
  int64_t realtime_offset_ns = realtime_minus_monotonic_ns();

  uint64_t launched = 0;
  uint64_t next_launch_ns = 0;
  uint64_t launch_interval_ns = 0;
  uint32_t pending_connects = 0;
  uint64_t last_turn_ns = 0;  // when the last loop turn began
  unsigned last_drained = 0;  // completions the last loop turn took
  unsigned sends_to_watch =
      0;                     // large sends, or sends a completion started, this turn: wake promptly
  uint32_t handshaking = 0;  // launched, not yet open nor finished: their completions are timed
  uint32_t max_pending = 0;
  uint64_t live = 0;  // connections not yet done
  uint64_t outstanding_echoes = 0;
  uint64_t drain_until_ns = 0;
  uint64_t close_until_ns = 0;  // set once every close has been started
  uint64_t hard_stop_ns = 0;    // past it the loop returns, whatever is in flight
  size_t close_cursor = 0;      // the next connection to start closing
  size_t closing_now = 0;       // close handshakes in flight
  enum class phase { running, draining, closing } run_phase = phase::running;

  // Pub/sub (docs/pubsub.md): the shard's subscriptions and accounting.
  std::optional<pubsub_client> pubsub;
  uint64_t conns_subscribed = 0;  // connections with c.subscribed
  bool shard_subscribed = false;  // told the other shards
  bool publishing = false;
  std::vector<uint32_t> rejoins;  // churn: slots whose leave was acknowledged

  // wss:// only: TLS sessions and ciphertext buffers beside the slots.
  std::unique_ptr<tls_transport> tls;

  connection* current = nullptr;  // the connection whose session is being driven
  uint64_t received_ns = 0;       // when the bytes being fed reached this host (kernel stamp)
  uint64_t processed_ns = 0;      // when horde took the completion that brought them
  static const int one;

  impl(const client_plan& p, uint32_t i, shard_metrics& m, shard_control& c)
      : plan(p),
        index(i),
        metrics(m),
        control(c),
        wheel(now_ns()),
        ports(uint16_t(p.sources.size()), p.port_low, p.port_high, i, p.shards,
              std::span<const uint16_t>(p.excluded_ports)),
        ws_env(proto::ws_role::client, proto::ws_limits{}, masks, max_pooled_ws_contexts) {
    max_pending = std::max<uint32_t>(1, p.max_pending_connects / p.shards);
    bind_addresses.resize(max_pending);
    for (uint32_t b = 0; b < max_pending; ++b)
      free_bind_slots.push_back(uint16_t(max_pending - 1 - b));
    if (p.connect_rate > 0) launch_interval_ns = uint64_t(1e9 * p.shards / p.connect_rate);
    payload.resize(std::max<uint32_t>(p.message_size, proto::stamp_text_size));
  }

  // The per-connection state, made once the run starts: the memory it takes
  // belongs to the connections, not to the shard's fixed setup.
  void make_slots(uint64_t t0) {
    start_ns = t0;
    end_ns = t0 + plan.duration_ns;
    next_launch_ns = t0;
    conns = std::vector<connection>(client_shard::share(plan.connections, plan.shards, index));
    live = conns.size();
    for (size_t k = 0; k < conns.size(); ++k)
      conns[k].id = uint32_t(index + k * plan.shards);
    if (plan.raw) raw_state.resize(conns.size());
    if (plan.pubsub.enabled()) {
      std::vector<uint32_t> ids(conns.size());
      for (size_t k = 0; k < conns.size(); ++k)
        ids[k] = conns[k].id;
      pubsub.emplace(plan.pubsub, metrics, ids, plan.shards);
    }
  }

  // Messages per second per connection that sends: echo traffic, or in a
  // pub/sub run the publishes of a publishing connection.
  double send_rate() const noexcept {
    return plan.pubsub.enabled() ? plan.pubsub.publish_rate : plan.message_rate;
  }

  ~impl() {
    for (auto& c : conns)
      c.session.reset(ws_env);
    for (auto* parser : parser_pool)
      delete parser;
  }

  // ---- submission helpers -------------------------------------------------

  io_uring_sqe* sqe_for(connection& c, op operation) noexcept {
    io_uring_sqe* e = uring.sqe();
    io_uring_sqe_set_data64(e, pack({slot_of(c), c.generation, operation}));
    ++c.pending;
    return e;
  }

  uint32_t slot_of(const connection& c) const noexcept { return uint32_t(&c - conns.data()); }

  void launch(connection& c, uint64_t now) noexcept {
    ++handshaking;
    const client_target& target = plan.targets[c.target];
    auto port = ports.acquire();
    if (!port) {
      finish_failed(c, failure_reason::ports_exhausted);
      return;
    }
    c.port = *port;
    if (tls && !tls->connect(slot_of(c), plan.targets[c.target].tls_host)) {
      metrics.counters.attempts.add();
      tls_failed(c);
      return;
    }
    uint8_t* request = plan.raw ? nullptr : c.out.prepare(uint32_t(target.request.size()));
    if (!plan.raw && request == nullptr) {
      finish_failed(c, failure_reason::io_error);
      return;
    }
    c.bind_slot = free_bind_slots.back();
    free_bind_slots.pop_back();
    endpoint& bind_to = bind_addresses[c.bind_slot];
    bind_to = plan.sources[c.port.source_index];
    bind_to.storage.sin6_port = htons(c.port.port);  // same offset in sockaddr_in

    c.state = conn_state::connecting;
    c.chain_error = 0;
    c.chain_failed_op = op::connect;
    c.timed_out = false;
    c.phase_start_ns = now;
    c.deadline_ns = now + plan.connect_timeout_ns;
    ++pending_connects;
    metrics.counters.attempts.add();

    if (plan.raw) {
      launch_chain(c, target, bind_to, false);
      return;
    }
    // The upgrade request rides at the end of the chain: one submission, no
    // round trip through user space between TCP connect and the request.
    uint8_t key_random[16];
    masks.fill(key_random, sizeof key_random);
    char key[proto::ws_key_length];
    proto::encode_ws_key(key_random, key);
    char accept[proto::ws_accept_length];
    proto::accept_key_for(std::string_view(key, sizeof key), accept);
    c.upgrade = take_parser();
    c.upgrade->reset(std::string_view(accept, sizeof accept), &target.subprotocols);
    target.request.write(reinterpret_cast<char*>(request), std::string_view(key, sizeof key));
    c.out.commit(uint32_t(target.request.size()));
    launch_chain(c, target, bind_to, true);
  }

  // socket -> setsockopt -> bind -> connect [-> send the upgrade request],
  // linked in one submission.
  void launch_chain(connection& c, const client_target& target, const endpoint& bind_to,
                    bool with_request) noexcept {
    const uint32_t slot = slot_of(c);
    io_uring_sqe* e = sqe_for(c, op::socket);
    io_uring_prep_socket_direct(e, target.address.family(), SOCK_STREAM, 0, slot, 0);
    e->flags |= IOSQE_IO_LINK;
    e = sqe_for(c, op::setsockopt);
    uring_compat::prep_setsockopt(e, int(slot), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    e->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
    // A load generator must not let Nagle hold a message back waiting for an
    // ACK: that would be horde's delay measured as the server's latency.
    e = sqe_for(c, op::setsockopt);
    uring_compat::prep_setsockopt(e, int(slot), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    e->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
    // The kernel stamps each receive: latency ends when the echo arrived.
    e = sqe_for(c, op::setsockopt);
    uring_compat::prep_setsockopt(e, int(slot), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    e->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
    e = sqe_for(c, op::bind);
    uring_compat::prep_bind(e, int(slot), bind_to.address(), bind_to.length);
    e->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
    e = sqe_for(c, op::connect);
    io_uring_prep_connect(e, int(slot), target.address.address(), target.address.length);
    e->flags |= IOSQE_FIXED_FILE;
    if (!with_request) {
      schedule(c);
      return;
    }
    e->flags |= IOSQE_IO_LINK;
    // wss://: the ClientHello rides here instead; the request waits in c.out.
    auto bytes = wire_of(c).start_send();
    e = sqe_for(c, op::send);
    io_uring_prep_send(e, int(slot), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    e->flags |= IOSQE_FIXED_FILE;
    schedule(c);
  }

  proto::upgrade_response_parser* take_parser() {
    if (parser_pool.empty()) return new proto::upgrade_response_parser();
    auto* parser = parser_pool.back();
    parser_pool.pop_back();
    return parser;
  }

  void return_parser(connection& c) noexcept {
    if (c.upgrade == nullptr) return;
    // Parsers (8 KiB each) are needed only during handshakes: keep a few for
    // the next ones and give the rest back, so a finished ramp holds nothing.
    if (parser_pool.size() < max_pooled_parsers) {
      parser_pool.push_back(c.upgrade);
    } else {
      delete c.upgrade;
    }
    c.upgrade = nullptr;
  }

  void arm_recv(connection& c) noexcept {
    io_uring_sqe* e = sqe_for(c, op::recv);
    io_uring_prep_recvmsg_multishot(e, int(slot_of(c)), &receive_header, 0);
    e->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    e->buf_group = buffers.group_id();
    c.recv_armed = true;
  }

  void flush(connection& c) noexcept {
    if (c.state == conn_state::tearing || c.state == conn_state::done) return;
    if (tls && !tls->seal(slot_of(c), c.out)) {
      tls_failed(c);
      return;
    }
    send_wire(c);
  }

  // Starts a send of what waits in wire_of(c), unless one is in flight. A
  // connection whose waiting bytes pass the plan's cap has a server that
  // stopped reading: it is counted and torn down, never fed without bound.
  void send_wire(connection& c) noexcept {
    out_buffer& out = wire_of(c);
    if (out.size() > metrics.counters.backlog_peak_bytes.get())
      metrics.counters.backlog_peak_bytes.set(out.size());
    if (out.size() > plan.send_backlog_bytes) {
      teardown(c, failure_reason::send_backlog);
      return;
    }
    if (out.sending() || out.empty()) return;
    auto bytes = out.start_send();
    // A send this large may complete short: take its completion promptly,
    // or the rest of the message waits for the next wake-up.
    if (bytes.size() > large_send_bytes) ++sends_to_watch;
    io_uring_sqe* e = sqe_for(c, op::send);
    io_uring_prep_send(e, int(slot_of(c)), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    e->flags |= IOSQE_FIXED_FILE;
  }

  // ---- timers -------------------------------------------------------------

  void schedule(connection& c) noexcept {
    uint64_t when = 0;
    auto consider = [&](uint64_t t) {
      if (t != 0 && (when == 0 || t < when)) when = t;
    };
    consider(c.deadline_ns);
    if (pubsub && c.state == conn_state::open) consider(pubsub->waiting_until(slot_of(c)));
    if (c.state == conn_state::open && run_phase == phase::running) {
      consider(c.next_send_ns);
      consider(c.next_ping_ns);
    }
    if (when == 0) {
      wheel.cancel(c.timer);
    } else {
      wheel.schedule(c.timer, when);
    }
  }

  void on_timer(connection& c, uint64_t now) noexcept {
    switch (c.state) {
      case conn_state::connecting:
        if (c.deadline_ns != 0 && now >= c.deadline_ns && !c.timed_out) {
          c.timed_out = true;
          c.deadline_ns = 0;
          io_uring_sqe* e = sqe_for(c, op::cancel);
          io_uring_prep_cancel64(e, pack({slot_of(c), c.generation, op::connect}), 0);
        }
        break;
      case conn_state::tls_handshaking:
        if (c.deadline_ns != 0 && now >= c.deadline_ns) {
          metrics.counters.tls.fail_with(failure_reason::tls_handshake_timeout,
                                         "no finished handshake within --tls-timeout");
          teardown(c, failure_reason::tls_handshake_timeout);
          return;
        }
        break;
      case conn_state::upgrading:
        if (c.deadline_ns != 0 && now >= c.deadline_ns) {
          teardown(c, failure_reason::upgrade_timeout);
          return;
        }
        break;
      case conn_state::open:
        if (c.deadline_ns != 0 && now >= c.deadline_ns) {  // a ping went unanswered
          teardown(c, failure_reason::pong_timeout);
          return;
        }
        if (pubsub && !c.subscribed) {
          const uint64_t until = pubsub->waiting_until(slot_of(c));
          if (until != 0 && now >= until) {
            if (plan.pubsub.subscribe_ack.empty()) {
              pubsub->settle(slot_of(c), now);
            } else {
              pubsub->give_up(slot_of(c));
            }
            mark_subscribed(c);
          }
        }
        if (run_phase == phase::running) {
          send_due(c, now);
          ping_due(c, now);
        }
        break;
      case conn_state::closing:
        if (c.deadline_ns != 0 && now >= c.deadline_ns) {
          teardown(c, failure_reason::close_timeout);
          return;
        }
        break;
      default:
        break;
    }
    schedule(c);
  }

  // ---- sending ------------------------------------------------------------

  uint64_t next_interval_ns() noexcept {
    const double mean_ns = 1e9 / send_rate();
    if (plan.arrivals == arrival::constant) return uint64_t(mean_ns);
    // Exponential gaps make a Poisson process; 53 random bits give (0, 1].
    const double u = double((masks.next() >> 11) + 1) * (1.0 / 9007199254740992.0);
    return uint64_t(-std::log(u) * mean_ns) + 1;
  }

  void send_due(connection& c, uint64_t now) noexcept {
    if (send_rate() <= 0 || c.next_send_ns == 0) return;
    unsigned sent = 0;
    current = &c;
    // Open loop: every message scheduled up to now is sent, stamped with its
    // scheduled time, however late we are; a stalled server cannot slow the
    // schedule, it can only make the measured latency grow.
    while (c.next_send_ns <= now && sent < max_sends_per_wakeup && c.next_send_ns < end_ns) {
      const uint64_t scheduled = c.next_send_ns;
      c.next_send_ns += next_interval_ns();
      std::span<const uint8_t> body;
      auto opcode = plan.binary ? proto::ws_opcode::binary : proto::ws_opcode::text;
      if (pubsub) {
        const std::string_view text = pubsub->publish_message(c.id, scheduled, masks.next());
        body = {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
        opcode = plan.pubsub.publish_binary ? proto::ws_opcode::binary : proto::ws_opcode::text;
      } else {
        proto::stamp st{c.id, c.seq++, 0, scheduled};
        std::span<uint8_t> filled(payload.data(), plan.message_size);
        if (plan.binary) {
          proto::fill_payload(filled, st);
        } else {
          std::memset(filled.data(), 'x', filled.size());
          if (filled.size() >= proto::stamp_text_size) {
            proto::write_stamp_text(reinterpret_cast<char*>(filled.data()), st);
          }
        }
        body = filled;
      }
      auto state = proto::ws_state::open;
      if (plan.raw) {
        if (!c.out.append(body)) state = proto::ws_state::failed;
      } else {
        state = c.session.send(ws_env, opcode, body, *this);
      }
      if (state == proto::ws_state::failed) {
        current = nullptr;
        teardown(c, failure_of(c.session));
        return;
      }
      metrics.counters.messages_sent.add();
      metrics.counters.bytes_sent.add(body.size());
      metrics.latency.send_lag.record(now - scheduled);
      if (!pubsub) ++outstanding_echoes;
      ++sent;
    }
    current = nullptr;
    if (c.next_send_ns >= end_ns) c.next_send_ns = 0;
    flush(c);
    maybe_release_context(c, now);
  }

  void ping_due(connection& c, uint64_t now) noexcept {
    if (plan.ping_interval_ns == 0 || c.next_ping_ns == 0 || now < c.next_ping_ns) return;
    c.next_ping_ns = now + plan.ping_interval_ns;
    current = &c;
    auto state = c.session.ping(ws_env, {}, *this);
    current = nullptr;
    if (state == proto::ws_state::failed) {
      teardown(c, failure_of(c.session));
      return;
    }
    metrics.counters.pings_sent.add();
    c.ping_outstanding = true;
    c.deadline_ns = now + plan.pong_timeout_ns;
    flush(c);
  }

  void maybe_release_context(connection& c, uint64_t now) noexcept {
    if (!c.session.has_context()) return;
    if (c.next_send_ns != 0 && c.next_send_ns < now + context_keep_ns) return;
    c.session.release_context(ws_env);
  }

  // ---- ws_sink: events from the session of `current` ------------------------

  void on_message(proto::ws_opcode opcode, std::span<const uint8_t> body) override {
    connection& c = *current;
    const uint64_t now = received_ns;
    metrics.counters.messages_received.add();
    metrics.counters.bytes_received.add(body.size());
    if (pubsub) {
      const auto outcome =
          pubsub->on_message(slot_of(c), body, opcode == proto::ws_opcode::binary, now);
      if (outcome == pubsub_client::outcome::all_in_force) mark_subscribed(c);
      if (outcome == pubsub_client::outcome::left) rejoins.push_back(slot_of(c));
      return;
    }
    std::optional<proto::stamp> st;
    if (opcode == proto::ws_opcode::binary) {
      st = proto::read_stamp(body);
    } else {
      st = proto::find_stamp_text(
          std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
    }
    record_echo(c, st, now);
  }

  void record_echo(connection& c, std::optional<proto::stamp> st, uint64_t now) noexcept {
    if (!st || st->conn_id != c.id || st->send_ns > now) {
      metrics.counters.messages_unstamped.add();
      return;
    }
    metrics.latency.round_trip.record(now - st->send_ns);
    if (outstanding_echoes > 0) --outstanding_echoes;
  }

  void on_pong(std::span<const uint8_t>) override {
    connection& c = *current;
    metrics.counters.pongs_received.add();
    if (c.ping_outstanding) {
      c.ping_outstanding = false;
      c.deadline_ns = 0;
    }
  }

  void on_close(uint16_t code, std::string_view) override {
    connection& c = *current;
    metrics.counters.close_code(code);
    if (c.state != conn_state::closing) c.failure = uint8_t(failure_reason::closed_by_server);
  }

  void write(std::span<const uint8_t> bytes) override {
    if (!current->out.append(bytes)) current->failure = uint8_t(failure_reason::io_error);
  }

  // ---- completions --------------------------------------------------------

  void on_completion(const io_uring_cqe& cqe, uint64_t now) noexcept {
    const op_tag tag = unpack(cqe.user_data);
    const bool has_buffer = (cqe.flags & IORING_CQE_F_BUFFER) != 0;
    const uint16_t buffer_id = uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    if (tag.slot >= conns.size()) {
      if (has_buffer) buffers.recycle(buffer_id);
      return;
    }
    connection& c = conns[tag.slot];
    if (tag.generation != c.generation) {
      if (has_buffer) buffers.recycle(buffer_id);
      return;
    }
    const bool final_cqe = !(tag.operation == op::recv && (cqe.flags & IORING_CQE_F_MORE));
    if (final_cqe) --c.pending;

    switch (tag.operation) {
      case op::socket:
      case op::setsockopt:
      case op::bind:
        if (cqe.res < 0 && c.chain_error == 0) {
          c.chain_error = int16_t(cqe.res);
          c.chain_failed_op = tag.operation;
        }
        break;
      case op::connect:
        on_connect(c, cqe.res, now);
        break;
      case op::send:
        on_send(c, cqe.res);
        break;
      case op::recv:
        if (!final_cqe) {
          on_recv(c, cqe.res, has_buffer, buffer_id, now);
        } else {
          c.recv_armed = false;
          on_recv(c, cqe.res, has_buffer, buffer_id, now);
          // A multishot recv ends when buffers run out (-ENOBUFS) or the
          // kernel decides to; it is re-armed while the connection lives.
          if (cqe.res > 0 || cqe.res == -ENOBUFS) {
            if (c.state == conn_state::tls_handshaking || c.state == conn_state::upgrading ||
                c.state == conn_state::open || c.state == conn_state::closing) {
              metrics.counters.recv_rearms.add();
              arm_recv(c);
            }
          }
        }
        break;
      default:
        break;
    }
    if (c.pending == 0) settle(c, now);
  }

  void on_connect(connection& c, int res, uint64_t now) noexcept {
    --pending_connects;
    free_bind_slots.push_back(c.bind_slot);
    int error = c.chain_error != 0 ? c.chain_error : res;
    if (error == 0) {
      metrics.counters.tcp_connected.add();
      metrics.latency.connect.record(now - c.phase_start_ns);
      if (c.abort_after_chain) {
        // Connected after all (the cancel came too late): leave the
        // connecting state first, or teardown would only mark it again and
        // the slot would never be freed.
        c.state = conn_state::upgrading;
        teardown(c, recorded_failure(c));
        return;
      }
      if (plan.raw) {
        arm_recv(c);
        opened(c, now);
        return;
      }
      c.state = tls ? conn_state::tls_handshaking : conn_state::upgrading;
      c.phase_start_ns = now;
      c.deadline_ns = now + (tls ? plan.tls_timeout_ns : plan.upgrade_timeout_ns);
      arm_recv(c);
      schedule(c);
      return;
    }
    // The chain failed: decide once every linked operation has reported.
    if (c.chain_error == 0) c.chain_failed_op = op::connect;
    c.chain_error = int16_t(error);
  }

  // Called when a slot has no operation in flight: the only moment its
  // descriptor slot, port and buffers may be reused or released.
  void settle(connection& c, uint64_t now) noexcept {
    if (c.state == conn_state::connecting) {
      if (c.chain_error == 0) return;  // connected; upgrade continues (a recv is armed)
      settle_failed_chain(c, now);
      return;
    }
    if (c.state == conn_state::tearing) finish(c);
  }

  void settle_failed_chain(connection& c, uint64_t now) noexcept {
    const int error = c.chain_error;
    c.out.release();
    if (tls) tls->release(slot_of(c));
    return_parser(c);
    const bool port_busy =
        (c.chain_failed_op == op::bind && error == -EADDRINUSE) || error == -EADDRNOTAVAIL;
    if (c.abort_after_chain) {
      finish_failed(c, recorded_failure(c));
      return;
    }
    if (port_busy && c.retries < max_bind_retries && !c.timed_out) {
      // Another socket holds this (address, port) or its 4-tuple is in
      // TIME_WAIT: try the next pair, it is not the server's fault.
      ++c.retries;
      metrics.counters.bind_retries.add();
      ++c.generation;
      c.state = conn_state::idle;
      ports.release(c.port);
      c.port = {};
      --handshaking;  // launch counts it again
      launch(c, now);
      metrics.counters.attempts.sub();
      return;
    }
    failure_reason reason = failure_reason::connect_error;
    if (c.timed_out) {
      reason = failure_reason::connect_timeout;
    } else if (port_busy) {
      reason = failure_reason::bind_failed;
    } else if (error == -ECONNREFUSED) {
      reason = failure_reason::connect_refused;
    } else if (error == -ETIMEDOUT) {
      reason = failure_reason::connect_timeout;
    }
    if (reason == failure_reason::connect_error) metrics.counters.connect_errno(-error);
    finish_failed(c, reason);
  }

  void on_send(connection& c, int res) noexcept {
    if (res < 0) {
      wire_of(c).finish_send(0);
      if (c.state == conn_state::connecting || c.state == conn_state::tearing) return;
      teardown(c, res == -EPIPE || res == -ECONNRESET ? failure_reason::reset_by_server
                                                      : failure_reason::io_error);
      return;
    }
    wire_of(c).finish_send(uint32_t(res));
    flush(c);
    if (wire_of(c).sending()) ++sends_to_watch;  // a backlog: take its completion promptly
  }

  void on_recv(connection& c, int res, bool has_buffer, uint16_t buffer_id, uint64_t now) noexcept {
    processed_ns = now;
    bool end_of_stream = res == 0;
    if (res > 0 && has_buffer) {
      auto filled = buffers.bytes(buffer_id, unsigned(res));
      std::span<uint8_t> buffer(const_cast<uint8_t*>(filled.data()), filled.size());
      const received_bytes received =
          parse_received(buffer, res, receive_header, realtime_offset_ns, now);
      if (received.valid && !received.end_of_stream) {
        feed(c, received.payload, received.received_ns != 0 ? received.received_ns : now);
        buffers.recycle(buffer_id);
        return;
      }
      buffers.recycle(buffer_id);
      if (!received.valid) {
        if (c.state != conn_state::tearing && c.state != conn_state::done)
          teardown(c, failure_reason::io_error);
        return;
      }
      end_of_stream = true;
    } else if (has_buffer) {
      buffers.recycle(buffer_id);
    }
    if (res == -ENOBUFS || c.state == conn_state::tearing || c.state == conn_state::done) return;
    if (end_of_stream) {
      if (c.state == conn_state::closing || c.session.state() == proto::ws_state::closed) {
        teardown(c, std::nullopt);
      } else {
        teardown(c, failure_reason::eof_from_server);
      }
      return;
    }
    if (res == -ECANCELED) return;
    teardown(c, res == -ECONNRESET || res == -EPIPE ? failure_reason::reset_by_server
                                                    : failure_reason::io_error);
  }

  // A connection is open: a verified 101, or in raw mode a TCP connect.
  void opened(connection& c, uint64_t now) noexcept {
    metrics.counters.upgraded.add();
    metrics.counters.open_now.add();
    if (metrics.counters.open_now.get() > metrics.counters.open_peak.get()) {
      metrics.counters.open_peak.set(metrics.counters.open_now.get());
    }
    c.state = conn_state::open;
    c.was_opened = true;
    --handshaking;
    c.deadline_ns = 0;
    if (pubsub) {
      subscribe(c, now);
    } else if (plan.message_rate > 0 && run_phase == phase::running) {
      // A random phase spreads connections over the first interval instead
      // of a thundering herd of sends at upgrade time.
      const uint64_t interval = uint64_t(1e9 / plan.message_rate);
      c.next_send_ns = now + (interval ? masks.next() % interval : 0);
    }
    if (plan.ping_interval_ns != 0 && !plan.raw) {
      c.next_ping_ns =
          now + plan.ping_interval_ns / 2 + masks.next() % (plan.ping_interval_ns / 2 + 1);
    }
    schedule(c);
  }

  // ---- pub/sub ------------------------------------------------------------

  void subscribe(connection& c, uint64_t now) noexcept {
    const uint32_t slot = slot_of(c);
    uint32_t sent = 0;
    for (uint32_t j = 0; j < pubsub->per_connection(); ++j) {
      const std::string_view text = pubsub->subscribe_message(slot, j);
      if (text.empty()) continue;  // its group could not be created
      if (!queue_text(c, text)) return;
      ++sent;
    }
    pubsub->subscribes_sent(slot, sent, now);
    if (sent == 0) mark_subscribed(c);
    flush(c);
  }

  // Queues one text message on an open connection (tearing it down if the
  // session fails); false when the connection is gone.
  bool queue_text(connection& c, std::string_view text) noexcept {
    if (c.state != conn_state::open) return false;
    current = &c;
    const auto state =
        c.session.send(ws_env, proto::ws_opcode::text,
                       {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, *this);
    current = nullptr;
    if (state == proto::ws_state::failed) {
      teardown(c, failure_of(c.session));
      return false;
    }
    metrics.counters.messages_sent.add();
    return true;
  }

  void send_text(connection& c, std::string_view text) noexcept {
    if (queue_text(c, text)) flush(c);
  }

  // Subscription churn (docs/pubsub.md): at the plan's rate, a random
  // subscribed connection leaves one of its groups; it rejoins when the
  // leave is acknowledged (queued by on_message, sent at the next loop turn).
  void churn(uint64_t now) noexcept {
    for (unsigned n = 0; n < max_sends_per_wakeup && pubsub->churn_due(now); ++n) {
      connection& c = conns[masks.next() % conns.size()];
      if (c.state != conn_state::open || !c.subscribed) continue;
      const std::string_view text = pubsub->leave_message(slot_of(c), masks.next(), now);
      if (!text.empty()) send_text(c, text);
    }
  }

  void mark_subscribed(connection& c) noexcept {
    if (c.subscribed) return;
    c.subscribed = true;
    ++conns_subscribed;
  }

  // Publishing starts on every shard once every shard's connections are
  // subscribed, so a publish's expected count is final when it is sent.
  void advance_pubsub(uint64_t now) noexcept {
    if (!pubsub) return;
    pubsub->end_of_turn();
    for (uint32_t slot : rejoins) {
      const std::string_view text = pubsub->rejoin_message(slot, now);
      if (!text.empty()) send_text(conns[slot], text);
    }
    rejoins.clear();
    if (run_phase != phase::running) return;
    if (publishing) {
      churn(now);
      return;
    }
    pubsub_shared& shared = *plan.pubsub.shared;
    if (!shard_subscribed && conns_subscribed == conns.size()) {
      shard_subscribed = true;
      shared.shards_subscribed.fetch_add(1, std::memory_order_acq_rel);
    }
    if (!shard_subscribed ||
        shared.shards_subscribed.load(std::memory_order_acquire) < plan.shards) {
      return;
    }
    publishing = true;
    uint64_t unset = 0;
    shared.publish_start_ns.compare_exchange_strong(unset, now, std::memory_order_relaxed);
    if (send_rate() <= 0) return;
    const uint64_t interval = uint64_t(1e9 / send_rate());
    for (auto& c : conns) {
      if (c.state != conn_state::open || !pubsub->publishes(c.id)) continue;
      c.next_send_ns = now + (interval ? masks.next() % interval : 0);
      schedule(c);
    }
  }

  // Raw TCP: the echo comes back as a byte stream; messages are cut at the
  // fixed message size and a message's stamp is its first 32 bytes, kept
  // here while a message straddles two receives.
  void feed_raw(connection& c, std::span<const uint8_t> bytes, uint64_t now) noexcept {
    raw_receive& r = raw_state[slot_of(c)];
    const uint32_t size = plan.message_size;
    while (!bytes.empty()) {
      const uint32_t take = uint32_t(std::min<size_t>(size - r.offset, bytes.size()));
      if (r.offset < proto::stamp_size) {
        const uint32_t stamp_bytes =
            std::min<uint32_t>(take, uint32_t(proto::stamp_size) - r.offset);
        std::memcpy(r.stamp + r.offset, bytes.data(), stamp_bytes);
      }
      r.offset += take;
      bytes = bytes.subspan(take);
      if (r.offset < size) break;
      r.offset = 0;
      metrics.counters.messages_received.add();
      metrics.counters.bytes_received.add(size);
      current = &c;
      record_echo(c,
                  size >= proto::stamp_size
                      ? proto::read_stamp(std::span<const uint8_t>(r.stamp, proto::stamp_size))
                      : std::nullopt,
                  now);
      current = nullptr;
    }
  }

  void feed(connection& c, std::span<const uint8_t> bytes, uint64_t now) noexcept {
    if (tls) {
      feed_tls(c, bytes, now);
      return;
    }
    feed_plain(c, bytes, now);
  }

  // Bytes as the server meant them: the 101 and the frames after it.
  void feed_plain(connection& c, std::span<const uint8_t> bytes, uint64_t now) noexcept {
    if (plan.raw) {
      if (c.state == conn_state::open) feed_raw(c, bytes, now);
      return;
    }
    if (c.state == conn_state::upgrading) {
      size_t consumed = 0;
      auto status = c.upgrade->feed(
          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), consumed);
      if (status == proto::parse_status::need_more) return;
      if (status == proto::parse_status::invalid || !c.upgrade->accepted()) {
        const int code = c.upgrade->status_code();
        const failure_reason reason = failure_of(*c.upgrade, bytes);
        if (reason == failure_reason::upgrade_rejected && code > 0 && code < 600)
          metrics.counters.http_status[size_t(code)].add();
        teardown(c, reason);
        return;
      }
      return_parser(c);
      // Handshake phases are timed on when horde handled their completions
      // (as their start was): a kernel stamp can predate the handling of
      // the TCP connect that started the phase.
      metrics.latency.upgrade.record(processed_ns - c.phase_start_ns);
      opened(c, processed_ns);
      bytes = bytes.subspan(consumed);
      if (bytes.empty()) return;
    }
    if (c.state != conn_state::open && c.state != conn_state::closing) return;
    current = &c;
    received_ns = now;
    auto state = c.session.feed(ws_env, bytes, *this);
    current = nullptr;
    flush(c);
    if (state == proto::ws_state::failed) {
      teardown(c, failure_of(c.session));
      return;
    }
    if (c.failure != no_failure) {
      teardown(c, failure_reason(c.failure));
      return;
    }
    if (state == proto::ws_state::closed) {
      // Both close frames exchanged: a clean end. The server closes TCP first
      // (RFC 6455 5.5.1), but we do not wait for it.
      if (c.state == conn_state::closing) {
        metrics.counters.closed_clean.add();
        say_tls_goodbye(c);
      }
      teardown(c, std::nullopt);
      return;
    }
    maybe_release_context(c, now);
  }

  // ---- wss:// (core/tls_transport.hh) ----------------------------------------

  // What the ring sends: the ciphertext buffer in a TLS run, else c.out.
  out_buffer& wire_of(connection& c) noexcept { return tls ? tls->wire(slot_of(c)) : c.out; }

  void feed_tls(connection& c, std::span<const uint8_t> ciphertext, uint64_t now) noexcept {
    received_ns = now;  // the plaintext inside arrived when its ciphertext did
    if (c.state == conn_state::tls_handshaking && is_plain_http(ciphertext)) {
      teardown(c, failure_reason::plain_answer_to_tls);
      return;
    }
    const proto::tls_state state = tls->feed(slot_of(c), ciphertext, *this);
    if (c.state == conn_state::tearing || c.state == conn_state::done) return;
    if (state == proto::tls_state::failed) {
      send_wire(c);  // the alert we sent, best effort
      tls_failed(c);
      return;
    }
    if (state == proto::tls_state::open && c.state == conn_state::tls_handshaking) {
      tls_opened(c, processed_ns);
    }
    flush(c);  // our handshake messages, answers to key updates
    if (state == proto::tls_state::closed) {
      // close_notify without the WebSocket close before it: the server hung up.
      teardown(c, failure_reason::eof_from_server);
    }
  }

  // The plaintext of the records being fed: the 101, then frames.
  void on_plaintext(uint32_t slot, std::span<const uint8_t> bytes) noexcept override {
    connection& c = conns[slot];
    if (c.state == conn_state::tls_handshaking) tls_opened(c, processed_ns);
    feed_plain(c, bytes, received_ns);
  }

  // Handshake done: the upgrade request, waiting in c.out since launch, goes out sealed.
  void tls_opened(connection& c, uint64_t now) noexcept {
    metrics.latency.tls_handshake.record(now - c.phase_start_ns);
    if (tls->session(slot_of(c)).resumed()) {
      metrics.counters.tls.resumed_handshakes.add();
    } else {
      metrics.counters.tls.full_handshakes.add();
    }
    c.state = conn_state::upgrading;
    c.phase_start_ns = now;
    c.deadline_ns = now + plan.upgrade_timeout_ns;
    schedule(c);
    flush(c);
  }

  void tls_failed(connection& c) noexcept {
    const auto [reason, text] = tls_failure_cause_of(tls->session(slot_of(c)));
    metrics.counters.tls.fail_with(reason, text);
    if (c.state == conn_state::idle) {
      finish_failed(c, reason);  // from launch: nothing submitted yet
    } else {
      teardown(c, reason);
    }
  }

  // After a clean WebSocket close: close_notify, best effort (the descriptor
  // closes right after). The session stays resumable either way.
  void say_tls_goodbye(connection& c) noexcept {
    if (!tls) return;
    tls->close_notify(slot_of(c));
    flush(c);
  }

  // ---- ending a connection ------------------------------------------------

  void teardown(connection& c, std::optional<failure_reason> reason) noexcept {
    if (c.state == conn_state::tearing || c.state == conn_state::done) return;
    if (c.state == conn_state::connecting) {
      // The chain still owns the slot; finish once it has reported.
      c.abort_after_chain = true;
      if (reason) c.failure = uint8_t(*reason);
      return;
    }
    if (reason) metrics.counters.fail(*reason);
    if (c.state == conn_state::open || c.state == conn_state::closing)
      metrics.counters.open_now.sub();
    if (c.state == conn_state::closing) --closing_now;
    c.state = conn_state::tearing;
    c.deadline_ns = 0;
    wheel.cancel(c.timer);
    const uint32_t slot = slot_of(c);
    // Cancel first: a pending multishot recv holds the socket open even after
    // its table slot is closed, and a send blocked on a full socket (a server
    // that stopped reading) would never complete, so the slot would never
    // settle and the run never end. Cancel each by its exact user_data, a
    // hash lookup: cancelling by descriptor walks every pending request of
    // the ring, which made closing 15k connections per shard quadratic. Hard
    // links, so the close runs even when there was nothing to cancel.
    io_uring_sqe* e = sqe_for(c, op::cancel);
    io_uring_prep_cancel64(e, pack({slot, c.generation, op::recv}), 0);
    e->flags |= IOSQE_IO_HARDLINK;
    if (wire_of(c).sending()) {
      e = sqe_for(c, op::cancel);
      io_uring_prep_cancel64(e, pack({slot, c.generation, op::send}), 0);
      e->flags |= IOSQE_IO_HARDLINK;
    }
    e = sqe_for(c, op::close);
    io_uring_prep_close_direct(e, slot);
  }

  // The reason kept in the slot while its connect chain was still in flight.
  static std::optional<failure_reason> recorded_failure(const connection& c) noexcept {
    if (c.failure == no_failure) return std::nullopt;
    return failure_reason(c.failure);
  }

  void finish_failed(connection& c, std::optional<failure_reason> reason) noexcept {
    if (reason) metrics.counters.fail(*reason);
    c.state = conn_state::tearing;
    finish(c);
  }

  void finish(connection& c) noexcept {
    // Only called with nothing in flight for this slot (pending == 0), so no
    // send still reads the out buffer.
    wheel.cancel(c.timer);
    if (!c.was_opened) --handshaking;
    if (pubsub) {
      pubsub->connection_gone(slot_of(c));
      mark_subscribed(c);
    }
    c.out.release();
    if (tls) tls->release(slot_of(c));
    return_parser(c);
    c.session.reset(ws_env);
    if (c.port.port != 0) ports.release(c.port);
    c.port = {};
    c.state = conn_state::done;
    ++c.generation;
    --live;
  }

  // ---- the loop -----------------------------------------------------------

  void launch_due(uint64_t now) noexcept {
    if (run_phase != phase::running) return;
    while (launched < conns.size() && pending_connects < max_pending && next_launch_ns <= now) {
      connection& c = conns[launched++];
      c.target = uint8_t(c.id % plan.targets.size());
      launch(c, now);
      next_launch_ns += launch_interval_ns;
    }
  }

  // Running -> draining (echoes still owed) -> closing (close handshakes in
  // waves) -> a hard stop. Every step has a deadline that holds whatever the
  // server does: the last resort tears down what still stands at
  // close_until + close_timeout, and the loop returns at hard_stop_ns even if
  // some completions never came. A second signal (abort) skips to the end.
  void advance_phase(uint64_t now) noexcept {
    const bool stopping = control.stop.load(std::memory_order_relaxed);
    if (control.abort.load(std::memory_order_relaxed) && hard_stop_ns == 0) {
      abort_all(now);
      return;
    }
    if (run_phase == phase::running && (now >= end_ns || stopping)) {
      run_phase = phase::draining;
      count_live_slots();
      drain_until_ns = now + (stopping || send_rate() <= 0 ? 0 : plan.drain_ns);
      // Connections never launched are not part of the run any more.
      live -= conns.size() - launched;
      launched = conns.size();
    }
    if (run_phase == phase::draining &&
        (everything_answered() || now >= drain_until_ns || stopping)) {
      run_phase = phase::closing;
    }
    if (run_phase == phase::closing && close_until_ns == 0) {
      // Closes start in waves: a close handshake holds a wslay context on
      // both ends until it completes, and 100k at once would take 870 MB
      // here and swamp the server, which would then miss our timeout.
      while (close_cursor < conns.size() && closing_now < max_closing) {
        begin_close(conns[close_cursor++], now);
      }
      if (close_cursor == conns.size()) close_until_ns = now + plan.close_timeout_ns;
    }
    if (run_phase == phase::closing && close_until_ns != 0 && hard_stop_ns == 0 &&
        now >= close_until_ns + plan.close_timeout_ns) {
      // Last resort: whatever still stands goes now.
      for (auto& c : conns) {
        if (c.state == conn_state::open || c.state == conn_state::closing) {
          teardown(c, failure_reason::close_timeout);
        } else {
          cut_short(c);
        }
      }
      hard_stop_ns = now + plan.close_timeout_ns;
    }
  }

  // The leak check's first half (a soak's end): every slot still in use is
  // an open connection or one being set up.
  void count_live_slots() noexcept {
    uint64_t busy = 0;
    for (const auto& c : conns)
      busy += c.state != conn_state::idle && c.state != conn_state::done;
    metrics.counters.slots_live_at_end.set(busy);
    metrics.counters.open_at_end.set(metrics.counters.open_now.get() + handshaking);
  }

  // A second signal: no drain, no close handshakes; what is open is torn
  // down (not a failure: the user ended it), what was still being set up is
  // counted unfinished. The loop returns within a second at most.
  void abort_all(uint64_t now) noexcept {
    run_phase = phase::closing;
    live -= conns.size() - launched;
    launched = conns.size();
    close_cursor = conns.size();
    if (close_until_ns == 0) close_until_ns = now;
    for (auto& c : conns) {
      if (c.state == conn_state::open || c.state == conn_state::closing) {
        teardown(c, std::nullopt);
      } else {
        cut_short(c);
      }
    }
    hard_stop_ns = now + 1'000'000'000;
  }

  // A connection the run's end caught before it opened: counted unfinished,
  // with the step it was in.
  void cut_short(connection& c) noexcept {
    switch (c.state) {
      case conn_state::connecting:
        if (c.abort_after_chain) break;  // its cancel is already on its way
        c.abort_after_chain = true;
        c.failure = uint8_t(failure_reason::unfinished_connect);
        {
          io_uring_sqe* e = sqe_for(c, op::cancel);
          io_uring_prep_cancel64(e, pack({slot_of(c), c.generation, op::connect}), 0);
        }
        break;
      case conn_state::tls_handshaking:
        teardown(c, failure_reason::unfinished_tls);
        break;
      case conn_state::upgrading:
        teardown(c, failure_reason::unfinished_upgrade);
        break;
      default:
        break;
    }
  }

  bool everything_answered() const noexcept {
    return pubsub ? pubsub->all_delivered() : outstanding_echoes == 0;
  }

  void begin_close(connection& c, uint64_t now) noexcept {
    switch (c.state) {
      case conn_state::open: {
        if (plan.raw) {
          // Raw TCP has no close handshake: closing the socket is the end.
          metrics.counters.closed_clean.add();
          teardown(c, std::nullopt);
          return;
        }
        current = &c;
        c.state = conn_state::closing;
        ++closing_now;
        auto state = c.session.close(ws_env, 1000, "horde: run complete", *this);
        current = nullptr;
        if (state == proto::ws_state::failed) {
          teardown(c, failure_of(c.session));
          return;
        }
        c.deadline_ns = now + plan.close_timeout_ns;
        flush(c);
        schedule(c);
        break;
      }
      default:
        cut_short(c);
        break;
    }
  }

  // The shard's fixed setup: ring, buffer ring, TLS context.
  result<void> set_up() {
    const uint64_t share = client_shard::share(plan.connections, plan.shards, index);
    ring_options options;
    options.file_table_slots = std::max<uint32_t>(uint32_t(share), 1);
    if (auto r = uring.init(options); !r) return r;
    if (auto r = buffers.init(uring.raw(), buffer_group, receive_buffers, receive_buffer_size); !r)
      return r;
    if (plan.tls) {
      auto made = tls_transport::client(plan.tls_options, share);
      if (!made) return made.error();
      tls = std::move(*made);
    }
    return {};
  }

  // Waits for the controller's start time; 0 when the run was aborted first.
  uint64_t wait_for_start() const noexcept {
    for (;;) {
      const uint64_t t0 = control.start_ns.load(std::memory_order_acquire);
      if (t0 != 0) return t0;
      if (control.abort.load(std::memory_order_relaxed)) return 0;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  // Past the hard stop: whatever is still in flight is abandoned (counted),
  // every request of the ring cancelled, and the loop returns.
  void abandon_in_flight() noexcept {
    for (auto& c : conns) {
      if (c.state != conn_state::done && c.state != conn_state::idle)
        metrics.counters.hard_stops.add();
    }
    io_uring_sqe* e = uring.sqe();
    io_uring_prep_cancel64(e, 0, IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data64(e, pack({invalid_slot, 0, op::cancel}));
    uring.submit_and_wait(100'000'000, 1, 0);
  }

  result<void> run() {
    auto ready = set_up();
    control.ready.fetch_add(1, std::memory_order_acq_rel);
    if (!ready) return ready;
    const uint64_t t0 = wait_for_start();
    if (t0 == 0) return {};
    make_slots(t0);
    const thread_cpu cpu_at_start = read_thread_cpu();
    auto ran = loop();
    // The second half: with every connection ended, nothing may be held.
    metrics.counters.contexts_left.set(ws_env.contexts_in_use());
    metrics.counters.ports_left.set(ports.in_use());
    const thread_cpu cpu_at_end = read_thread_cpu();
    metrics.counters.cpu_run_ns.set(cpu_at_end.run_ns - cpu_at_start.run_ns);
    metrics.counters.cpu_wait_ns.set(cpu_at_end.wait_ns - cpu_at_start.wait_ns);
    return ran;
  }

  result<void> loop() {
    while (live > 0) {
      uint64_t now = now_ns();
      if (hard_stop_ns != 0 && now >= hard_stop_ns) {
        abandon_in_flight();
        return {};
      }
      wheel.advance(now, [&](timer_node& node) {
        auto* c = reinterpret_cast<connection*>(reinterpret_cast<char*>(&node) -
                                                offsetof(connection, timer));
        on_timer(*c, now);
      });
      launch_due(now);
      advance_pubsub(now);
      advance_phase(now);
      if (live == 0) break;
      uint64_t wait = wheel.next_expiry_hint(now, max_wait_ns);
      if (run_phase == phase::running && launched < conns.size() &&
          pending_connects < max_pending) {
        wait = next_launch_ns > now ? std::min(wait, next_launch_ns - now) : 0;
      }
      if (publishing) {
        const uint64_t churn_at = pubsub->next_churn_ns();
        if (churn_at != 0) wait = churn_at > now ? std::min(wait, churn_at - now) : 0;
      }
      const wake_plan sleep = plan_wake({.now_ns = now,
                                         .due_in_ns = wait,
                                         .last_turn_ns = last_turn_ns,
                                         .interval_ns = plan.wake_interval_ns,
                                         .handshakes_running = handshaking > 0,
                                         .closing = run_phase == phase::closing,
                                         .last_drained = last_drained,
                                         .sends_to_watch = sends_to_watch});
      last_turn_ns = now;
      sends_to_watch = 0;
      uring.submit_if_queued(separate_submit_at);
      const uint64_t before_wait = now_ns();
      metrics.counters.busy_ns.add(before_wait - now);
      wait = sleep.wake_at_ns > before_wait ? sleep.wake_at_ns - before_wait : 0;
      int ret = wait == 0
                    ? uring.submit_and_poll()
                    : uring.submit_and_wait(wait, sleep.min_completions, plan.wake_interval_ns);
      if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
        return make_error(std::string("io_uring_enter failed: ") + std::strerror(-ret));
      }
      const uint64_t after_wait = now_ns();
      realtime_offset_ns = realtime_minus_monotonic_ns();
      last_drained = uring.drain([&](const io_uring_cqe& cqe) { on_completion(cqe, after_wait); });
      metrics.counters.busy_ns.add(now_ns() - after_wait);
      metrics.counters.loop_turns.add();
    }
    // Submit anything queued (closes) before the ring goes away.
    uring.submit_and_poll();
    return {};
  }
};

const int client_shard::impl::one = 1;

client_shard::client_shard(const client_plan& plan, uint32_t index, shard_metrics& metrics,
                           shard_control& control)
    : _impl(std::make_unique<impl>(plan, index, metrics, control)) {}

client_shard::~client_shard() = default;

result<void> client_shard::run() {
  return _impl->run();
}

}  // namespace horde::core

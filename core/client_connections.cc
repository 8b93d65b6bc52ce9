#include "core/client_connections.hh"

#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/clock.hh"
#include "core/received_bytes.hh"
#include "core/uring_compat.hh"
#include "proto/accept_key.hh"

namespace horde::core {
namespace {

constexpr unsigned max_bind_retries = 16;
constexpr uint64_t context_keep_ns = 50'000'000;  // keep a wslay context if work is this close
constexpr size_t large_send_bytes = 64 * 1024;    // a send that may complete short
const int one = 1;

// Why a session failed, as the report names it.
failure_reason failure_of(const proto::ws_session& session) noexcept {
  switch (session.failure()) {
    case proto::ws_failure::masked_frame:
      return failure_reason::protocol_masked_frame;
    case proto::ws_failure::reserved_bits:
      return failure_reason::protocol_reserved_bits;
    case proto::ws_failure::no_deflate_rsv1:
      return failure_reason::protocol_unnegotiated_compression;
    case proto::ws_failure::bad_deflate:
      return failure_reason::protocol_bad_deflate;
    case proto::ws_failure::bad_opcode:
      return failure_reason::protocol_bad_opcode;
    case proto::ws_failure::bad_control_frame:
      return failure_reason::protocol_bad_control_frame;
    case proto::ws_failure::bad_close_code:
      return failure_reason::protocol_bad_close_code;
    case proto::ws_failure::invalid_utf8:
      return failure_reason::protocol_invalid_utf8;
    case proto::ws_failure::too_big:
      return failure_reason::protocol_message_too_big;
    case proto::ws_failure::out_of_memory:
      return failure_reason::io_error;
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
    case proto::upgrade_failure::unexpected_extension:
      return failure_reason::upgrade_bad_extension;
    default:
      break;
  }
  const bool tls_record = first_bytes.size() >= 2 &&
                          (first_bytes[0] == 0x15 || first_bytes[0] == 0x16) &&
                          first_bytes[1] == 0x03;
  return tls_record ? failure_reason::tls_answer_to_plain : failure_reason::upgrade_invalid;
}

failure_reason failure_of_errno(int res) noexcept {
  return res == -ECONNRESET || res == -EPIPE ? failure_reason::reset_by_server
                                             : failure_reason::io_error;
}

}  // namespace

// A session's events for one connection, with the time its bytes arrived:
// the context travels with the call (uWebSockets' consume(src, len, user)).
class client_connections::session_sink final : public proto::ws_sink {
 public:
  session_sink(client_connections& self, connection& c, uint64_t received_ns)
      : _self(self), _c(c), _received_ns(received_ns) {}

  void on_message(proto::ws_opcode opcode, std::span<const uint8_t> body) override;
  void on_pong(std::span<const uint8_t>) override {
    _self._metrics.counters.pongs_received.add();
    // Only an open connection's deadline is its pong's: a closing one's is
    // the close handshake's, which a late pong must not erase.
    if (_c.ping_outstanding && _c.state == conn_state::open) {
      _c.ping_outstanding = false;
      _c.deadline_ns = 0;
    }
  }
  void on_close(uint16_t code, std::string_view) override {
    _self._metrics.counters.close_code(code);
    if (_c.state != conn_state::closing) _c.failure = uint8_t(failure_reason::closed_by_server);
  }
  void write(std::span<const uint8_t> bytes) override {
    if (!_c.out.append(bytes)) failed = true;
  }

  bool failed = false;  // memory for the out-buffer ran out

 private:
  client_connections& _self;
  connection& _c;
  uint64_t _received_ns;
};

// What a scenario reaches its connection through (core/scenario.hh): made
// for one call, with the connection it is about.
class client_connections::port final : public scenario_port {
 public:
  port(client_connections& self, connection& c, bool flush_each_send = false)
      : _self(self), _c(c), _flush_each_send(flush_each_send) {}

  bool send(proto::ws_opcode opcode, std::span<const uint8_t> body) noexcept override {
    if (_c.state != conn_state::open) return false;
    refuse_inside_feed("sent");
    if (!_self._transport.websocket()) {
      if (!_c.out.append(body)) {
        _self.teardown(_self.slot_of(_c), failure_reason::io_error);
        return false;
      }
    } else {
      session_sink sink(_self, _c, 0);
      if (_c.session.send(_self._ws_env, opcode, body, sink) == proto::ws_state::failed ||
          sink.failed) {
        _self.teardown(_self.slot_of(_c),
                       sink.failed ? failure_reason::io_error : failure_of(_c.session));
        return false;
      }
    }
    if (_flush_each_send) _self.flush(_c);
    return true;
  }
  void close(uint16_t code) noexcept override {
    if (_c.state != conn_state::open) return;
    refuse_inside_feed("closed");
    _self.start_close(_c, code, "", now_ns());
  }
  void fail(failure_reason reason) noexcept override { _self.teardown(_self.slot_of(_c), reason); }

 private:
  // wslay is mid-read for this shard: a session call now would clear the
  // read's context under it. Scenarios send and close from on_due or shard
  // work (pub/sub queues its rejoins for the end of the turn).
  void refuse_inside_feed(const char* what) const noexcept {
    if (!_self._feeding) return;
    std::fprintf(stderr, "horde: bug: a scenario %s from inside on_message (slot %u)\n", what,
                 _self.slot_of(_c));
    std::abort();
  }

  client_connections& _self;
  connection& _c;
  bool _flush_each_send;
};

void client_connections::session_sink::on_message(proto::ws_opcode opcode,
                                                  std::span<const uint8_t> body) {
  port p(_self, _c);
  _self._scenario->on_message(_self.slot_of(_c), p, opcode, body, _received_ns);
}

client_connections::client_connections(parts p, size_t slots)
    : _plan(p.plan),
      _metrics(p.metrics),
      _by_target(p.by_target),
      _uring(p.uring),
      _buffers(p.buffers),
      _wheel(p.wheel),
      _ports(p.ports),
      _masks(p.masks),
      _ws_env(p.ws_env),
      _transport(p.transport),
      _conns(slots),
      _receive_header(timestamped_receive_header()),
      _realtime_offset_ns(realtime_minus_monotonic_ns()),
      _live(slots) {
  _max_pending = std::max<uint32_t>(1, _plan.max_pending_connects / _plan.shards);
  _bind_addresses.resize(_max_pending);
  for (uint32_t b = 0; b < _max_pending; ++b)
    _free_bind_slots.push_back(uint16_t(_max_pending - 1 - b));
  if (_plan.raw) _raw.resize(slots);
}

client_connections::~client_connections() {
  for (auto& c : _conns) {
    c.session.reset(_ws_env);
    _parsers.give(c.upgrade);
  }
}

// ---- the lifecycle table ----------------------------------------------------

void client_connections::move(connection& c, conn_event event) noexcept {
  const auto to = next_state(c.state, event);
  if (!to) {
    std::fprintf(stderr, "horde: bug: slot %u in state %d cannot take event %d\n", slot_of(c),
                 int(c.state), int(event));
    std::abort();
  }
  // Leaving the handshake states, one way or another, ends a handshake.
  if (is_handshaking(c.state) && !is_handshaking(*to)) --_handshaking;
  if (!is_handshaking(c.state) && is_handshaking(*to)) ++_handshaking;
  if (c.state == conn_state::closing) --_closing_now;
  c.state = *to;
}

uint64_t client_connections::slots_in_use() const noexcept {
  uint64_t busy = 0;
  for (const auto& c : _conns)
    busy += c.state != conn_state::idle && c.state != conn_state::done;
  return busy;
}

// ---- submissions ------------------------------------------------------------

io_uring_sqe* client_connections::sqe_for(connection& c, op operation) noexcept {
  return slot_sqe(_uring, slot_of(c), c.generation, c.pending, operation);
}

void client_connections::launch(uint32_t slot, uint8_t target_index, uint64_t now) noexcept {
  connection& c = _conns[slot];
  c.target = target_index;
  move(c, conn_event::launch);
  const client_target& target = _plan.targets[c.target];
  const bool publisher = target.http_publish;
  if (!publisher && !prepare_identity(c, target, now)) {
    of(c).counters.attempts.add();
    finish_failed(c, failure_reason::bad_variable_value);
    return;
  }
  auto pair = _ports.acquire();
  if (!pair) {
    finish_failed(c, failure_reason::ports_exhausted);
    return;
  }
  c.port = *pair;
  if (!_transport.open(slot, target.tls_host)) {
    of(c).counters.attempts.add();
    finish_failed(c, _transport.count_failure(slot, of(c)));
    return;
  }
  c.bind_slot = _free_bind_slots.back();
  _free_bind_slots.pop_back();
  endpoint& bind_to = _bind_addresses[c.bind_slot];
  bind_to = _plan.sources[c.port.source_index];
  bind_to.storage.sin6_port = htons(c.port.port);  // same offset in sockaddr_in

  c.was_open = false;
  c.life_end_ns = 0;
  c.chain_error = 0;
  c.chain_failed_op = op::connect;
  c.timed_out = false;
  c.failure = no_failure;
  c.abort_after_chain = false;
  c.phase_start_ns = now;
  c.deadline_ns = now + _plan.connect_timeout_ns;
  ++_pending_connects;
  of(c).counters.attempts.add();
  if (publisher) {
    // An HTTP publisher: its requests go when they are due, once connected
    // (a TLS chain still carries its ClientHello).
    launch_chain(c, target, bind_to, _transport.which() == client_transport::kind::tls);
    return;
  }
  if (steps_first()) {
    c.http_step = 0;
    if (!send_step(c, now)) return;
  } else if (_transport.websocket()) {
    prepare_upgrade(c, target);
  }
  launch_chain(c, target, bind_to, _transport.websocket());
}

// The upgrade request, with a fresh key, waits in c.out: it rides at the end
// of the connect chain (plain), or leaves sealed once TLS is up (wss://).
void client_connections::prepare_upgrade(connection& c, const client_target& target) noexcept {
  uint8_t key_random[16];
  _masks.fill(key_random, sizeof key_random);
  char key[proto::ws_key_length];
  proto::encode_ws_key(key_random, key);
  char accept[proto::ws_accept_length];
  proto::accept_key_for(std::string_view(key, sizeof key), accept);
  c.upgrade = _parsers.take();
  c.upgrade->reset(std::string_view(accept, sizeof accept), &target.subprotocols, {},
                   _plan.compression == compression_mode::off ? nullptr : &_plan.deflate);
  // Per connection: rendered by prepare_identity, with a blank for the key.
  const uint32_t size =
      uint32_t(target.per_connection ? _rendered_request.size() : target.request.size());
  uint8_t* request = c.out.prepare(size);
  if (request == nullptr) return;  // no memory: the empty send fails the upgrade by timeout
  if (target.per_connection) {
    std::memcpy(request, _rendered_request.data(), size);
    std::memcpy(request + _key_offset_in_rendered, key, sizeof key);
  } else {
    target.request.write(reinterpret_cast<char*>(request), std::string_view(key, sizeof key));
  }
  c.out.commit(size);
}

// The HTTP step c.http_step's request, into c.out (sent with the connect
// chain for the first, at once for the next).
bool client_connections::send_step(connection& c, uint64_t now) noexcept {
  _scratch.clear();
  if (!_steps->render(slot_of(c), c.http_step, _scratch)) {
    if (c.state == conn_state::connecting) {
      finish_failed(c, failure_reason::bad_variable_value);
    } else {
      teardown(slot_of(c), failure_reason::bad_variable_value);
    }
    return false;
  }
  if (c.http == nullptr) c.http = _http_parsers.take();
  proto::http_response_limits limits;
  limits.keep = true;
  c.http->reset(limits);
  uint8_t* request = c.out.prepare(uint32_t(_scratch.size()));
  if (request != nullptr) {
    std::memcpy(request, _scratch.data(), _scratch.size());
    c.out.commit(uint32_t(_scratch.size()));
  }
  c.phase_start_ns = now;
  return true;
}

void client_connections::feed_http(connection& c, std::span<const uint8_t> bytes,
                                   uint64_t now) noexcept {
  size_t consumed = 0;
  const auto status = c.http->feed(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), consumed);
  if (status == proto::parse_status::need_more) return;
  if (status == proto::parse_status::invalid) {
    _steps->count_failed(c.http_step);
    teardown(slot_of(c), failure_reason::http_step_invalid);
    return;
  }
  if (auto failed = _steps->judge(slot_of(c), c.http_step, *c.http, now - c.phase_start_ns)) {
    teardown(slot_of(c), *failed);
    return;
  }
  if (!c.http->keep_alive()) {
    teardown(slot_of(c), failure_reason::http_not_kept_alive);
    return;
  }
  if (++c.http_step < _steps->count()) {
    if (!send_step(c, now)) return;
    c.deadline_ns = now + _steps->timeout_ns(c.http_step);
    schedule(c);
    flush(c);
    return;
  }
  steps_done(c, now);
}

// The steps answered: the connection's JWT and upgrade request (which may
// use the captures) go out on the same socket.
void client_connections::steps_done(connection& c, uint64_t now) noexcept {
  _http_parsers.give(c.http);
  const client_target& target = _plan.targets[c.target];
  move(c, conn_event::steps_done);
  if (!prepare_identity(c, target, now)) {
    teardown(slot_of(c), failure_reason::bad_variable_value);
    return;
  }
  prepare_upgrade(c, target);
  c.phase_start_ns = now;
  c.deadline_ns = now + _plan.upgrade_timeout_ns;
  schedule(c);
  flush(c);
}

bool client_connections::prepare_identity(connection& c, const client_target& target,
                                          uint64_t now) noexcept {
  if (_vars == nullptr) return true;
  const uint32_t slot = slot_of(c);
  if (c.state == conn_state::connecting) _vars->clear(slot);  // launched: captures come later
  if (steps_first() && c.state == conn_state::connecting) return true;  // after the steps
  // The plain echo's launch (no JWT, no variables in the request) ends here.
  if (!_plan.jwt.signer && !target.per_connection) return true;
  proto::var_values values;
  values.conn = _vars->conn_id(slot);
  values.realtime_ns = int64_t(realtime_ns());
  values.random_state = &_random_state;
  if (const jwt_plan& jwt = _plan.jwt; jwt.signer) {
    // Claims rendered back to back, then viewed: no allocation once warm.
    values.user = _vars->values(slot);
    _claim_text.clear();
    _claim_ends.clear();
    for (const auto& value : jwt.claim_values) {
      value.render(_claim_text, values);
      _claim_ends.push_back(_claim_text.size());
    }
    _claim_views.clear();
    size_t begin = 0;
    for (size_t i = 0; i < jwt.claim_names.size(); ++i) {
      _claim_views.push_back(proto::jwt_claim_view{
          jwt.claim_names[i], std::string_view(_claim_text).substr(begin, _claim_ends[i] - begin),
          jwt.claim_is_string[i] ? proto::jwt_value_type::string : proto::jwt_value_type::infer});
      begin = _claim_ends[i];
    }
    _scratch.clear();
    proto::encode_claims(_scratch, _claim_views);
    _claim_text.clear();
    jwt.signer->sign(_claim_text, _scratch);
    _vars->set(slot, jwt.stored_index, _claim_text);
  }
  (void)now;
  if (!target.per_connection) return true;
  values.user = _vars->values(slot);
  _rendered_request.clear();
  target.before_key.render(_rendered_request, values);
  _key_offset_in_rendered = _rendered_request.size();
  _rendered_request.append(proto::ws_key_length, '?');
  target.after_key.render(_rendered_request, values);
  // A value with a line break would end a header early (or inject one).
  size_t breaks = 0;
  for (char ch : _rendered_request) {
    if (ch == '\0') return false;
    breaks += ch == '\r' || ch == '\n';
  }
  return breaks == target.line_breaks;
}

// socket -> setsockopt x3 -> bind -> connect [-> send the first bytes],
// linked in one submission: no round trip through user space between the
// TCP connect and the upgrade request (or the ClientHello).
void client_connections::launch_chain(connection& c, const client_target& target,
                                      const endpoint& bind_to, bool with_request) noexcept {
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
  if (with_request) {
    e->flags |= IOSQE_IO_LINK;
    auto bytes = _transport.wire(slot, c.out).start_send();
    e = sqe_for(c, op::send);
    io_uring_prep_send(e, int(slot), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    e->flags |= IOSQE_FIXED_FILE;
  }
  schedule(c);
}

void client_connections::arm_recv(connection& c) noexcept {
  io_uring_sqe* e = sqe_for(c, op::recv);
  io_uring_prep_recvmsg_multishot(e, int(slot_of(c)), &_receive_header, 0);
  e->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
  e->buf_group = _buffers.group_id();
}

void client_connections::flush(connection& c) noexcept {
  if (!has_socket(c.state)) return;
  if (!_transport.seal(slot_of(c), c.out)) {
    transport_failed(c, _transport.count_failure(slot_of(c), of(c)));
    return;
  }
  send_wire(c);
}

// Starts a send of what waits on the wire, unless one is in flight. A
// connection whose waiting bytes pass the plan's cap has a server that
// stopped reading: it is counted and torn down, never fed without bound.
void client_connections::send_wire(connection& c) noexcept {
  out_buffer& out = _transport.wire(slot_of(c), c.out);
  if (out.size() > _metrics.counters.backlog_peak_bytes.get())
    _metrics.counters.backlog_peak_bytes.set(out.size());
  if (out.size() > _plan.send_backlog_bytes) {
    teardown(slot_of(c), failure_reason::send_backlog);
    return;
  }
  if (out.sending() || out.empty()) return;
  auto bytes = out.start_send();
  // A send this large may complete short: take its completion promptly, or
  // the rest of the message waits for the next wake-up.
  if (bytes.size() > large_send_bytes) ++_sends_to_watch;
  io_uring_sqe* e = sqe_for(c, op::send);
  io_uring_prep_send(e, int(slot_of(c)), bytes.data(), bytes.size(), MSG_NOSIGNAL);
  e->flags |= IOSQE_FIXED_FILE;
}

scenario_port* client_connections::port_of(uint32_t slot) noexcept {
  static thread_local std::optional<port> shard_port;
  connection& c = _conns[slot];
  if (c.state != conn_state::open) return nullptr;
  shard_port.emplace(*this, c, true);
  return &*shard_port;
}

// ---- timers -----------------------------------------------------------------

void client_connections::schedule(connection& c) noexcept {
  uint64_t when = c.deadline_ns;
  auto consider = [&](uint64_t t) {
    if (t != 0 && (when == 0 || t < when)) when = t;
  };
  if (c.state == conn_state::open) {
    // The scenario's own deadlines hold in every phase (a subscription's
    // wait still settles after sending stops); pings only while sending.
    consider(_scenario->next_due_ns(slot_of(c)));
    if (_sending) {
      consider(c.next_ping_ns);
      consider(c.life_end_ns);
    }
  }
  // An HTTP publisher with no request in flight wakes for its next publish.
  if (c.state == conn_state::requesting && c.deadline_ns == 0 && is_publisher(c))
    consider(_publish->next_publish_ns(slot_of(c)));
  if (when == 0) {
    _wheel.cancel(c.timer);
  } else {
    _wheel.schedule(c.timer, when);
  }
}

void client_connections::on_timer(timer_node& node, uint64_t now) noexcept {
  auto* c =
      reinterpret_cast<connection*>(reinterpret_cast<char*>(&node) - offsetof(connection, timer));
  const bool expired = c->deadline_ns != 0 && now >= c->deadline_ns;
  switch (c->state) {
    case conn_state::connecting:
      if (expired && !c->timed_out) {
        c->timed_out = true;
        c->deadline_ns = 0;
        io_uring_sqe* e = sqe_for(*c, op::cancel);
        io_uring_prep_cancel64(e, pack({slot_of(*c), c->generation, op::connect}), 0);
      }
      break;
    case conn_state::tls_handshaking:
      if (expired) {
        of(*c).counters.tls.fail_with(failure_reason::tls_handshake_timeout,
                                      "no finished handshake within --tls-timeout");
        teardown(slot_of(*c), failure_reason::tls_handshake_timeout);
        return;
      }
      break;
    case conn_state::upgrading:
      if (expired) {
        teardown(slot_of(*c), failure_reason::upgrade_timeout);
        return;
      }
      break;
    case conn_state::requesting:
      if (is_publisher(*c)) {
        publisher_timer(*c, now);
        return;
      }
      if (expired) {
        _steps->count_failed(c->http_step);
        teardown(slot_of(*c), failure_reason::http_step_timeout);
        return;
      }
      break;
    case conn_state::idle:
      if (c->waiting_relaunch && expired) {
        relaunch(*c, now);
        return;
      }
      break;
    case conn_state::open:
      if (expired) {  // a ping went unanswered
        teardown(slot_of(*c), failure_reason::pong_timeout);
        return;
      }
      if (c->life_end_ns != 0 && now >= c->life_end_ns && _sending) {
        lifetime_over(*c, now);
        return;
      }
      on_open_timer(*c, now);
      if (c->state != conn_state::open) return;
      break;
    case conn_state::closing:
      if (expired) {
        _metrics.counters.close_timed_out.add();
        teardown(slot_of(*c), std::nullopt);
        return;
      }
      break;
    default:
      break;
  }
  schedule(*c);
}

void client_connections::on_open_timer(connection& c, uint64_t now) noexcept {
  port p(*this, c);
  _scenario->on_due(slot_of(c), p, now);
  if (c.state != conn_state::open) return;
  ping_due(c, now);
  if (c.state != conn_state::open) return;
  flush(c);
  maybe_release_context(c, now);
}

void client_connections::ping_due(connection& c, uint64_t now) noexcept {
  if (_plan.ping_interval_ns == 0 || c.next_ping_ns == 0 || now < c.next_ping_ns) return;
  c.next_ping_ns = now + _plan.ping_interval_ns;
  session_sink sink(*this, c, 0);
  if (c.session.ping(_ws_env, {}, sink) == proto::ws_state::failed || sink.failed) {
    teardown(slot_of(c), sink.failed ? failure_reason::io_error : failure_of(c.session));
    return;
  }
  _metrics.counters.pings_sent.add();
  // The deadline is the oldest unanswered ping's: later pings do not push it.
  if (!c.ping_outstanding) c.deadline_ns = now + _plan.pong_timeout_ns;
  c.ping_outstanding = true;
}

void client_connections::rescheduled(uint32_t slot) noexcept {
  schedule(_conns[slot]);
  maybe_release_context(_conns[slot], now_ns());
}

void client_connections::maybe_release_context(connection& c, uint64_t now) noexcept {
  if (!c.session.has_context()) return;
  const uint64_t next = _scenario->next_due_ns(slot_of(c));
  if (next != 0 && next < now + context_keep_ns) return;
  c.session.release_context(_ws_env);
}

void client_connections::stop_sending() noexcept {
  _sending = false;
  // Connections waiting to reconnect are done: the run is ending.
  for (auto& c : _conns) {
    if (!c.waiting_relaunch && !c.parked) continue;
    c.waiting_relaunch = false;
    c.parked = false;
    c.deadline_ns = 0;
    _wheel.cancel(c.timer);
    move(c, conn_event::abandon);
    --_live;
  }
}

// ---- completions ------------------------------------------------------------

void client_connections::on_completion(const io_uring_cqe& cqe, uint64_t now) noexcept {
  const op_tag tag = unpack(cqe.user_data);
  const bool has_buffer = (cqe.flags & IORING_CQE_F_BUFFER) != 0;
  const uint16_t buffer_id = uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  if (tag.slot >= _conns.size() || tag.generation != _conns[tag.slot].generation) {
    if (has_buffer) _buffers.recycle(buffer_id);
    return;
  }
  connection& c = _conns[tag.slot];
  const bool final_cqe = !(tag.operation == op::recv && (cqe.flags & IORING_CQE_F_MORE));
  if (final_cqe) --c.pending;
  switch (tag.operation) {
    case op::socket:
    case op::setsockopt:
    case op::bind:
      on_chain_step(c, tag.operation, cqe.res);
      break;
    case op::connect:
      on_connect(c, cqe.res, now);
      break;
    case op::send:
      on_send(c, cqe.res);
      break;
    case op::recv:
      on_recv(c, cqe, now);
      // A multishot recv ends when buffers run out (-ENOBUFS) or the kernel
      // decides to; it is re-armed while the connection lives.
      if (final_cqe && (cqe.res > 0 || cqe.res == -ENOBUFS) && has_socket(c.state)) {
        _metrics.counters.recv_rearms.add();
        arm_recv(c);
      }
      break;
    default:
      break;
  }
  if (c.pending == 0) settle(c, now);
}

void client_connections::on_chain_step(connection& c, op operation, int res) noexcept {
  if (res < 0 && c.chain_error == 0) {
    c.chain_error = int16_t(res);
    c.chain_failed_op = operation;
  }
}

void client_connections::on_connect(connection& c, int res, uint64_t now) noexcept {
  --_pending_connects;
  _free_bind_slots.push_back(c.bind_slot);
  const int error = c.chain_error != 0 ? c.chain_error : res;
  if (error != 0) {
    // The chain failed: decide once every linked operation has reported.
    if (c.chain_error == 0) c.chain_failed_op = op::connect;
    c.chain_error = int16_t(error);
    return;
  }
  of(c).counters.tcp_connected.add();
  of(c).latency.connect.record(now - c.phase_start_ns);
  const uint32_t slot = slot_of(c);
  switch (_transport.which()) {
    case client_transport::kind::raw:
      move(c, conn_event::connected_raw);
      break;
    case client_transport::kind::tls:
      move(c, conn_event::connected_tls);
      break;
    case client_transport::kind::plain:
      move(c, steps_first() || is_publisher(c) ? conn_event::connected_http
                                               : conn_event::connected_plain);
      break;
  }
  if (c.abort_after_chain) {
    // Connected after all (the cancel came too late): end it now.
    if (c.state == conn_state::open) of(c).counters.open_now.add();  // teardown takes it back
    teardown(slot, recorded_failure(c));
    return;
  }
  arm_recv(c);
  if (c.state == conn_state::open) {
    opened(c, now);
    return;
  }
  c.phase_start_ns = now;
  if (c.state == conn_state::requesting && is_publisher(c)) {
    publisher_ready(c, now);
    return;
  }
  c.deadline_ns = now + (c.state == conn_state::tls_handshaking ? _plan.tls_timeout_ns
                         : c.state == conn_state::requesting    ? _steps->timeout_ns(c.http_step)
                                                                : _plan.upgrade_timeout_ns);
  schedule(c);
}

// Called when a slot has no operation in flight: the only moment its
// descriptor slot, port and buffers may be reused or released.
void client_connections::settle(connection& c, uint64_t now) noexcept {
  if (c.state == conn_state::connecting) {
    if (c.chain_error == 0) return;  // still connecting (a cancel was all that ended)
    settle_failed_chain(c, now);
    return;
  }
  if (c.state == conn_state::tearing) finish(c);
}

void client_connections::settle_failed_chain(connection& c, uint64_t now) noexcept {
  const int error = c.chain_error;
  c.out.release();
  _transport.release(slot_of(c));
  _parsers.give(c.upgrade);
  _http_parsers.give(c.http);
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
    of(c).counters.bind_retries.add();
    ++c.generation;
    move(c, conn_event::retry);
    _ports.release(c.port);
    c.port = {};
    of(c).counters.attempts.sub();  // the relaunch counts it again
    launch(slot_of(c), c.target, now);
    return;
  }
  failure_reason reason = failure_reason::connect_error;
  if (c.timed_out || error == -ETIMEDOUT) {
    reason = failure_reason::connect_timeout;
  } else if (port_busy) {
    reason = failure_reason::bind_failed;
  } else if (error == -ECONNREFUSED) {
    reason = failure_reason::connect_refused;
  }
  if (reason == failure_reason::connect_error) of(c).counters.connect_errno(-error);
  finish_failed(c, reason);
}

void client_connections::on_send(connection& c, int res) noexcept {
  out_buffer& wire = _transport.wire(slot_of(c), c.out);
  if (res < 0) {
    wire.finish_send(0);
    if (c.state == conn_state::connecting || c.state == conn_state::tearing) return;
    teardown(slot_of(c), failure_of_errno(res));
    return;
  }
  wire.finish_send(uint32_t(res));
  flush(c);
  if (wire.sending()) ++_sends_to_watch;  // a backlog: take its completion promptly
}

void client_connections::on_recv(connection& c, const io_uring_cqe& cqe, uint64_t now) noexcept {
  const int res = cqe.res;
  const bool has_buffer = (cqe.flags & IORING_CQE_F_BUFFER) != 0;
  const uint16_t buffer_id = uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  bool end_of_stream = res == 0;
  if (res > 0 && has_buffer) {
    auto filled = _buffers.bytes(buffer_id, unsigned(res));
    std::span<uint8_t> buffer(const_cast<uint8_t*>(filled.data()), filled.size());
    const received_bytes received =
        parse_received(buffer, res, _receive_header, _realtime_offset_ns, now);
    if (received.valid && !received.end_of_stream) {
      feed(c, received.payload, received.received_ns != 0 ? received.received_ns : now, now);
      _buffers.recycle(buffer_id);
      return;
    }
    _buffers.recycle(buffer_id);
    if (!received.valid) {
      if (has_socket(c.state)) teardown(slot_of(c), failure_reason::io_error);
      return;
    }
    end_of_stream = true;
  } else if (has_buffer) {
    _buffers.recycle(buffer_id);
  }
  if (res == -ENOBUFS || !has_socket(c.state)) return;
  if (end_of_stream) {
    on_end_of_stream(c);
    return;
  }
  if (res == -ECANCELED) return;
  teardown(slot_of(c), failure_of_errno(res));
}

void client_connections::on_end_of_stream(connection& c) noexcept {
  const bool idle_publisher =
      c.state == conn_state::requesting && is_publisher(c) && c.deadline_ns == 0;
  if (c.state == conn_state::closing || c.session.state() == proto::ws_state::closed ||
      idle_publisher) {  // a server may close a kept-alive socket between requests
    if (c.state == conn_state::closing && c.session.state() != proto::ws_state::closed)
      _metrics.counters.close_without_frame.add();
    teardown(slot_of(c), std::nullopt);
  } else {
    teardown(slot_of(c), failure_reason::eof_from_server);
  }
}

// ---- bytes in -----------------------------------------------------------------

void client_connections::feed(connection& c, std::span<const uint8_t> bytes, uint64_t received_ns,
                              uint64_t now) noexcept {
  if (!has_socket(c.state)) return;  // bytes that arrived before the teardown's cancel
  const uint32_t slot = slot_of(c);
  const auto r = _transport.feed(slot, bytes, c.state == conn_state::tls_handshaking);
  using status = client_transport::received::status;
  if (r.state == status::failed) {
    send_wire(c);  // the alert we sent, best effort
    transport_failed(c, r.reason == failure_reason::plain_answer_to_tls
                            ? r.reason
                            : _transport.count_failure(slot, of(c)));
    return;
  }
  // Handshake phases are timed on when horde handled their completions (as
  // their start was): a kernel stamp can predate the handling of the TCP
  // connect that started the phase.
  if (r.state == status::secured) secured(c, now);
  if (!r.plaintext.empty()) feed_plain(c, r.plaintext, received_ns, now);
  if (!has_socket(c.state)) return;
  flush(c);  // handshake messages, answers to key updates
  if (r.state == status::closed) teardown(slot, failure_reason::eof_from_server);
}

// Bytes as the server meant them: the 101 and the frames after it, or raw
// TCP's echoed stream.
void client_connections::feed_plain(connection& c, std::span<const uint8_t> bytes,
                                    uint64_t received_ns, uint64_t now) noexcept {
  if (!_transport.websocket()) {
    if (c.state != conn_state::open) return;
    const uint32_t slot = slot_of(c);
    _raw[slot].feed(bytes, _plan.message_size, [&](std::span<const uint8_t> stamp) {
      port p(*this, c);
      _scenario->on_message(slot, p, proto::ws_opcode::binary, stamp, received_ns);
    });
    return;
  }
  if (c.state == conn_state::requesting) {
    if (is_publisher(c)) {
      feed_publish(c, bytes, now);
    } else {
      feed_http(c, bytes, now);
    }
    return;
  }
  if (c.state == conn_state::upgrading && !feed_upgrade(c, bytes, now)) return;
  if (bytes.empty()) return;
  if (c.state == conn_state::open || c.state == conn_state::closing)
    feed_frames(c, bytes, received_ns, now);
}

// The answer to the upgrade; false when the bytes are spent or the
// connection failed. Leaves in `bytes` what follows the header (frames).
bool client_connections::feed_upgrade(connection& c, std::span<const uint8_t>& bytes,
                                      uint64_t now) noexcept {
  size_t consumed = 0;
  const auto status = c.upgrade->feed(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), consumed);
  if (status == proto::parse_status::need_more) return false;
  if (status == proto::parse_status::invalid || !c.upgrade->accepted()) {
    const int code = c.upgrade->status_code();
    const failure_reason reason = failure_of(*c.upgrade, bytes);
    if (reason == failure_reason::upgrade_rejected && code > 0 && code < 600)
      of(c).counters.http_status[size_t(code)].add();
    teardown(slot_of(c), reason);
    return false;
  }
  if (!take_deflate(c)) return false;
  _parsers.give(c.upgrade);
  of(c).latency.upgrade.record(now - c.phase_start_ns);
  move(c, conn_event::upgraded);
  opened(c, now);
  bytes = bytes.subspan(consumed);
  return c.state == conn_state::open;
}

// permessage-deflate as the 101 agreed: the session compresses from now on.
// False when the connection ended (require and declined, or no memory).
bool client_connections::take_deflate(connection& c) noexcept {
  if (_plan.compression == compression_mode::off) return true;
  shard_counters& counters = of(c).counters;
  if (!c.upgrade->deflate_accepted()) {
    counters.deflate_declined.add();
    if (_plan.compression != compression_mode::require) return true;
    teardown(slot_of(c), failure_reason::upgrade_compression_declined);
    return false;
  }
  const proto::deflate_params& agreed = c.upgrade->deflate_agreed();
  if (!c.session.use_deflate(_ws_env, agreed)) {
    teardown(slot_of(c), failure_reason::io_error);
    return false;
  }
  counters.deflate_negotiated.add();
  counters.deflate_client_window_bits_sum.add(agreed.client_max_window_bits);
  counters.deflate_server_window_bits_sum.add(agreed.server_max_window_bits);
  if (agreed.client_no_context_takeover) counters.deflate_client_no_context_takeover.add();
  if (agreed.server_no_context_takeover) counters.deflate_server_no_context_takeover.add();
  return true;
}

void client_connections::feed_frames(connection& c, std::span<const uint8_t> bytes,
                                     uint64_t received_ns, uint64_t now) noexcept {
  const uint32_t slot = slot_of(c);
  session_sink sink(*this, c, received_ns);
  _feeding = true;
  const auto state = c.session.feed(_ws_env, bytes, sink);
  _feeding = false;
  if (!has_socket(c.state)) return;  // the scenario ended it
  flush(c);
  if (!has_socket(c.state)) return;
  if (state == proto::ws_state::failed || sink.failed) {
    teardown(slot, sink.failed ? failure_reason::io_error : failure_of(c.session));
    return;
  }
  if (c.failure != no_failure) {
    teardown(slot, failure_reason(c.failure));
    return;
  }
  if (state == proto::ws_state::closed) {
    // Both close frames exchanged: a clean end. The server closes TCP first
    // (RFC 6455 5.5.1), but we do not wait for it.
    if (c.state == conn_state::closing) {
      of(c).counters.closed_clean.add();
      _transport.goodbye(slot);
      flush(c);
    }
    teardown(slot, std::nullopt);
    return;
  }
  if (c.state == conn_state::open) c.phase_start_ns = now;  // heard from: silence restarts
  maybe_release_context(c, now);
}

// A connection is open: a verified 101, or in raw mode a TCP connect.
void client_connections::opened(connection& c, uint64_t now) noexcept {
  of(c).counters.upgraded.add();
  of(c).counters.open_now.add();
  if (of(c).counters.open_now.get() > of(c).counters.open_peak.get())
    of(c).counters.open_peak.set(of(c).counters.open_now.get());
  c.deadline_ns = 0;
  c.phase_start_ns = now;  // open: the last time the server was heard from
  c.was_open = true;
  c.failures_in_row = 0;
  if (c.relaunched) of(c).counters.reconnects_opened.add();
  c.relaunched = false;
  if (const auto& life = _plan.lifecycle; life.lifetime_ns != 0) {
    const uint64_t jitter = life.lifetime_jitter_ns;
    c.life_end_ns = now + life.lifetime_ns - std::min(jitter, life.lifetime_ns - 1) +
                    (jitter ? _masks.next() % (2 * jitter + 1) : 0);
  }
  if (_plan.ping_interval_ns != 0 && _transport.websocket()) {
    c.next_ping_ns =
        now + _plan.ping_interval_ns / 2 + _masks.next() % (_plan.ping_interval_ns / 2 + 1);
  }
  if (_sending) {
    port p(*this, c);
    _scenario->on_open(slot_of(c), p, now);
    if (c.state != conn_state::open) return;
    flush(c);
  }
  schedule(c);
}

// TLS is up: the upgrade request, waiting in c.out since launch, goes out sealed.
void client_connections::secured(connection& c, uint64_t now) noexcept {
  of(c).latency.tls_handshake.record(now - c.phase_start_ns);
  if (_transport.resumed(slot_of(c))) {
    of(c).counters.tls.resumed_handshakes.add();
  } else {
    of(c).counters.tls.full_handshakes.add();
  }
  const bool publisher = is_publisher(c);
  move(c, steps_first() || publisher ? conn_event::secured_http : conn_event::secured);
  c.phase_start_ns = now;
  if (publisher) {
    publisher_ready(c, now);
    return;
  }
  c.deadline_ns =
      now + (steps_first() ? _steps->timeout_ns(c.http_step) : _plan.upgrade_timeout_ns);
  schedule(c);
}

void client_connections::transport_failed(connection& c, failure_reason reason) noexcept {
  if (c.state == conn_state::idle) {
    finish_failed(c, reason);  // nothing submitted yet
  } else {
    teardown(slot_of(c), reason);
  }
}

// ---- ending a connection ------------------------------------------------------

void client_connections::begin_close(uint32_t slot, uint64_t now) noexcept {
  connection& c = _conns[slot];
  if (c.state != conn_state::open) {
    cut_short(slot);
    return;
  }
  if (!_transport.websocket()) {
    // Raw TCP has no close handshake: closing the socket is the end.
    of(c).counters.closed_clean.add();
    teardown(slot, std::nullopt);
    return;
  }
  start_close(c, 1000, "horde: run complete", now);
}

// Our close frame, and its deadline: a server that never answers costs
// close_timeout, whatever else arrives meanwhile.
void client_connections::start_close(connection& c, uint16_t code, std::string_view reason,
                                     uint64_t now) noexcept {
  session_sink sink(*this, c, 0);
  const auto state = c.session.close(_ws_env, code, reason, sink);
  move(c, conn_event::close_sent);
  ++_closing_now;
  c.ping_outstanding = false;
  if (state == proto::ws_state::failed || sink.failed) {
    teardown(slot_of(c), sink.failed ? failure_reason::io_error : failure_of(c.session));
    return;
  }
  c.deadline_ns = now + _plan.close_timeout_ns;
  flush(c);
  if (has_socket(c.state)) schedule(c);
}

void client_connections::cut_short(uint32_t slot) noexcept {
  connection& c = _conns[slot];
  switch (c.state) {
    case conn_state::connecting:
      if (c.abort_after_chain) break;  // its cancel is already on its way
      c.abort_after_chain = true;
      c.failure = uint8_t(failure_reason::unfinished_connect);
      {
        io_uring_sqe* e = sqe_for(c, op::cancel);
        io_uring_prep_cancel64(e, pack({slot, c.generation, op::connect}), 0);
      }
      break;
    case conn_state::tls_handshaking:
      teardown(slot, failure_reason::unfinished_tls);
      break;
    case conn_state::upgrading:
      teardown(slot, failure_reason::unfinished_upgrade);
      break;
    case conn_state::requesting:
      // An HTTP publisher between requests ends cleanly; one still waiting
      // for an answer is counted like an HTTP step.
      teardown(slot, is_publisher(c) && c.deadline_ns == 0
                         ? std::nullopt
                         : std::optional(failure_reason::unfinished_http));
      break;
    default:
      break;
  }
}

// Idle-timeout discovery: the silence before the server (or a proxy on the
// way) ended an open connection, by how it ended.
void client_connections::record_idle_cut(const connection& c, failure_reason reason) noexcept {
  const lifecycle_plan& life = _plan.lifecycle;
  uint32_t metric = no_metric;
  if (reason == failure_reason::closed_by_server) metric = life.idle_cut_close;
  if (reason == failure_reason::reset_by_server) metric = life.idle_cut_reset;
  if (reason == failure_reason::eof_from_server) metric = life.idle_cut_eof;
  if (metric == no_metric) return;
  const uint64_t now = now_ns();
  _metrics.latency.named[metric].record(now > c.phase_start_ns ? now - c.phase_start_ns : 0);
}

void client_connections::teardown(uint32_t slot, std::optional<failure_reason> reason) noexcept {
  connection& c = _conns[slot];
  if (c.state == conn_state::tearing || c.state == conn_state::done || c.state == conn_state::idle)
    return;
  if (c.state == conn_state::connecting) {
    // The chain still owns the slot; finish once it has reported.
    c.abort_after_chain = true;
    if (reason) c.failure = uint8_t(*reason);
    return;
  }
  if (reason && c.state == conn_state::closing && ended_our_close(*reason)) reason.reset();
  if (reason) of(c).counters.fail(*reason);
  if (reason && c.state == conn_state::open) record_idle_cut(c, *reason);
  if (c.state == conn_state::open || c.state == conn_state::closing) of(c).counters.open_now.sub();
  move(c, conn_event::tear_down);
  c.deadline_ns = 0;
  _wheel.cancel(c.timer);
  // A send blocked on a full socket (a server that stopped reading) would
  // never complete, so the slot would never settle and the run never end:
  // it is cancelled with the receive.
  submit_slot_close(_uring, slot, c.generation, c.pending, _transport.wire(slot, c.out).sending());
}

// A reset or a send error while our close is under way ends the close, not
// a connection that was held as asked: counted as the close's outcome.
bool client_connections::ended_our_close(failure_reason reason) noexcept {
  if (reason != failure_reason::reset_by_server && reason != failure_reason::io_error) return false;
  _metrics.counters.close_reset.add();
  return true;
}

std::optional<failure_reason> client_connections::recorded_failure(const connection& c) noexcept {
  if (c.failure == no_failure) return std::nullopt;
  return failure_reason(c.failure);
}

void client_connections::finish_failed(connection& c,
                                       std::optional<failure_reason> reason) noexcept {
  if (reason) of(c).counters.fail(*reason);
  if (c.state == conn_state::connecting) {
    move(c, conn_event::chain_failed);
  }
  finish(c);
}

// Only with nothing in flight for this slot (pending == 0), so no send still
// reads the out-buffer.
void client_connections::finish(connection& c) noexcept {
  _wheel.cancel(c.timer);
  if (c.state == conn_state::tearing) move(c, conn_event::settled);
  _scenario->on_gone(slot_of(c));
  c.out.release();
  _transport.release(slot_of(c));
  _parsers.give(c.upgrade);
  _http_parsers.give(c.http);
  c.session.reset(_ws_env);
  if (c.port.port != 0) _ports.release(c.port);
  c.port = {};
  c.ping_outstanding = false;
  c.life_end_ns = 0;
  ++c.generation;
  if (c.parking && _sending) {
    // Closed by a falling stage: the slot waits, idle, for the stages to rise.
    c.parking = false;
    c.parked = true;
    move(c, conn_event::relaunch);
    return;
  }
  c.parking = false;
  if (!wait_to_relaunch(c, now_ns())) --_live;
}

void client_connections::stage_close(uint32_t slot, uint64_t now) noexcept {
  connection& c = _conns[slot];
  switch (c.state) {
    case conn_state::open:
      c.parking = true;
      if (!_transport.websocket()) {
        of(c).counters.closed_clean.add();
        teardown(slot, std::nullopt);
      } else {
        start_close(c, 1000, "horde: stage", now);
      }
      break;
    case conn_state::idle:
      if (c.waiting_relaunch) {  // a reconnect that the falling stage makes moot
        c.waiting_relaunch = false;
        c.deadline_ns = 0;
        _wheel.cancel(c.timer);
        c.parked = true;
      }
      break;
    case conn_state::done:
      break;  // failed before: nothing to close
    default:
      // Still being set up: ended now, not counted a failure, parked.
      c.parking = true;
      if (c.state == conn_state::connecting) {
        if (!c.abort_after_chain) {
          c.abort_after_chain = true;
          io_uring_sqe* e = sqe_for(c, op::cancel);
          io_uring_prep_cancel64(e, pack({slot, c.generation, op::connect}), 0);
        }
      } else {
        teardown(slot, std::nullopt);
      }
      break;
  }
}

bool client_connections::unpark(uint32_t slot, uint64_t now) noexcept {
  connection& c = _conns[slot];
  if (!c.parked || c.state != conn_state::idle) return false;
  c.parked = false;
  c.failures_in_row = 0;
  c.retries = 0;
  launch(slot, c.target, now);
  return true;
}

bool client_connections::wait_to_relaunch(connection& c, uint64_t now) noexcept {
  const lifecycle_plan& life = _plan.lifecycle;
  // HTTP publishers always come back: publishing goes on while the run does.
  if ((!life.reconnect && !is_publisher(c)) || !_sending) return false;
  if (!c.was_open && c.failures_in_row < 255) ++c.failures_in_row;
  if (life.max_attempts != 0 && c.failures_in_row >= life.max_attempts) {
    of(c).counters.reconnects_abandoned.add();
    return false;
  }
  // Full jitter: uniform in [0, min(cap, base * 2^failures)].
  const uint32_t doublings = std::min<uint32_t>(c.failures_in_row, 40);
  const uint64_t ceiling =
      std::min<uint64_t>(life.backoff_cap_ns, life.backoff_base_ns << std::min(doublings, 20u));
  const uint64_t wait = ceiling ? _masks.next() % (ceiling + 1) : 0;
  if (life.backoff_histogram != no_metric)
    _metrics.latency.named[life.backoff_histogram].record(wait);
  move(c, conn_event::relaunch);
  c.waiting_relaunch = true;
  c.deadline_ns = now + wait;
  c.retries = 0;
  schedule(c);
  return true;
}

void client_connections::relaunch(connection& c, uint64_t now) noexcept {
  if (_pending_connects >= _max_pending) {
    // The shard's connects in flight are at their cap: try again shortly.
    c.deadline_ns = now + 1'000'000;
    schedule(c);
    return;
  }
  c.waiting_relaunch = false;
  c.relaunched = true;
  c.deadline_ns = 0;
  of(c).counters.reconnects.add();
  if (const auto& http = _plan.pubsub.http; is_publisher(c) && http.reconnects != no_metric)
    _metrics.counters.named[http.reconnects].add();
  launch(slot_of(c), c.target, now);
}

// --lifetime: a clean close from our side; the reconnect follows its end.
void client_connections::lifetime_over(connection& c, uint64_t now) noexcept {
  c.life_end_ns = 0;
  of(c).counters.lifetimes_ended.add();
  if (!_transport.websocket()) {
    teardown(slot_of(c), std::nullopt);
    return;
  }
  start_close(c, 1000, "horde: lifetime", now);
}

bool client_connections::chaos_drop(uint32_t slot, uint64_t now) noexcept {
  connection& c = _conns[slot];
  if (c.state != conn_state::open) return false;
  of(c).counters.chaos_drops.add();
  if (_plan.lifecycle.chaos_reset || !_transport.websocket()) {
    // SO_LINGER 0: close() sends an RST, as a crashed client or a cut
    // network would look to the server.
    static const linger abortive{1, 0};
    io_uring_sqe* e = sqe_for(c, op::setsockopt);
    uring_compat::prep_setsockopt(e, int(slot), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    e->flags |= IOSQE_FIXED_FILE;
    teardown(slot, std::nullopt);
    return true;
  }
  start_close(c, 1001, "horde: chaos", now);
  return true;
}

}  // namespace horde::core

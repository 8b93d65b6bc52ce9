#include "proto/ws_session.hh"

#include <wslay/wslay.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace horde::proto {

struct ws_context {
  wslay_event_context_ptr wslay = nullptr;
  uint64_t bytes_fed = 0;     // handed to wslay's recv callback
  uint64_t bytes_framed = 0;  // in frames wslay has finished
  uint64_t frame_size = 0;    // header + payload of the frame being read
  bool in_fragmented_message = false;
  frame_guard guard;  // checks headers and takes pings out before wslay reads
};

namespace {

// The size of a frame's header as RFC 6455 5.2 requires it (minimal length
// encoding); frames from a client carry a 4-byte masking key.
uint64_t frame_header_size(uint64_t payload_length, bool masked) noexcept {
  const uint64_t base = payload_length < 126 ? 2 : payload_length <= 0xffff ? 4 : 10;
  return base + (masked ? 4 : 0);
}

}  // namespace

// wslay's callbacks, bound to the env through user_data.
struct ws_callbacks {
  static ws_shard_env& env(void* user_data) { return *static_cast<ws_shard_env*>(user_data); }

  static ssize_t recv(wslay_event_context_ptr ctx, uint8_t* buf, size_t len, int, void* user_data) {
    ws_shard_env& e = env(user_data);
    const size_t left = e._input.size() - e._input_used;
    if (left == 0) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    const size_t n = len < left ? len : left;
    std::memcpy(buf, e._input.data() + e._input_used, n);
    e._input_used += n;
    e._active->bytes_fed += n;
    return ssize_t(n);
  }

  static ssize_t send(wslay_event_context_ptr, const uint8_t* data, size_t len, int,
                      void* user_data) {
    env(user_data)._sink->write({data, len});
    return ssize_t(len);
  }

  static int genmask(wslay_event_context_ptr, uint8_t* buf, size_t len, void* user_data) {
    env(user_data)._masks.fill(buf, len);
    return 0;
  }

  static void frame_start(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* arg,
                          void* user_data) {
    ws_shard_env& e = env(user_data);
    ws_context& c = *e._active;
    c.frame_size =
        frame_header_size(arg->payload_length, e._role == ws_role::server) + arg->payload_length;
    const bool data_frame = arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME;
    if (data_frame && !arg->fin) c.in_fragmented_message = true;
    if (arg->opcode == WSLAY_CONTINUATION_FRAME && arg->fin) c.in_fragmented_message = false;
  }

  static void frame_end(wslay_event_context_ptr, void* user_data) {
    ws_context& c = *env(user_data)._active;
    c.bytes_framed += c.frame_size;
    c.frame_size = 0;
  }

  // A compressed message, inflated; false when it is refused (the session
  // fails with env._inflate_failure, its close queued, reading stopped).
  static bool inflate(wslay_event_context_ptr ctx, ws_shard_env& e, bool text,
                      std::span<const uint8_t>& body) {
    ws_failure why = ws_failure::none;
    switch (e._deflate.inflate(e._active_deflate, body, e._limits.max_message_bytes)) {
      case inflate_status::ok:
        body = e._deflate.inflated();
        if (text && !valid_utf8(body)) why = ws_failure::invalid_utf8;  // wslay could not check it
        break;
      case inflate_status::too_big:
        why = ws_failure::too_big;  // a decompression bomb stops at the limit
        break;
      case inflate_status::bad_data:
        why = ws_failure::bad_deflate;
        break;
      case inflate_status::out_of_memory:
        why = ws_failure::out_of_memory;
        break;
    }
    if (why == ws_failure::none) return true;
    e._inflate_failure = why;
    wslay_event_queue_close(ctx, close_code_for(why), nullptr, 0);
    wslay_event_shutdown_read(ctx);
    return false;
  }

  static void message(wslay_event_context_ptr ctx, const wslay_event_on_msg_recv_arg* arg,
                      void* user_data) {
    ws_shard_env& e = env(user_data);
    ws_sink& sink = *e._sink;
    std::span<const uint8_t> body(arg->msg, arg->msg_length);
    const bool data = arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME;
    if (data && (arg->rsv & WSLAY_RSV1_BIT) != 0) {
      if (!inflate(ctx, e, arg->opcode == WSLAY_TEXT_FRAME, body)) return;
    }
    switch (arg->opcode) {
      case WSLAY_TEXT_FRAME:
        sink.on_message(ws_opcode::text, body);
        break;
      case WSLAY_BINARY_FRAME:
        sink.on_message(ws_opcode::binary, body);
        break;
      case WSLAY_PONG:
        sink.on_pong(body);
        break;
      case WSLAY_CONNECTION_CLOSE: {
        std::string_view reason;
        if (arg->msg_length > 2) {
          reason = {reinterpret_cast<const char*>(arg->msg) + 2, arg->msg_length - 2};
        }
        sink.on_close(arg->status_code == 0 ? 1005 : arg->status_code, reason);
        break;
      }
      default:  // pings never reach wslay: the frame guard takes them out

        break;
    }
    if (body.size() > (1u << 20)) e._deflate.trim();
  }
};

ws_shard_env::ws_shard_env(ws_role role, ws_limits limits, mask_source& masks, size_t max_pooled)
    : _role(role), _limits(limits), _masks(masks), _max_pooled(max_pooled) {}

ws_shard_env::~ws_shard_env() {
  for (ws_context* c : _pool) {
    wslay_event_context_free(c->wslay);
    delete c;
  }
}

ws_context* ws_shard_env::take(bool compressed) noexcept {
  ws_context* c = nullptr;
  if (!_pool.empty()) {
    c = _pool.back();
    _pool.pop_back();
  } else {
    c = new (std::nothrow) ws_context();
    if (c == nullptr) return nullptr;
    static const wslay_event_callbacks callbacks = {
        ws_callbacks::recv,
        ws_callbacks::send,
        ws_callbacks::genmask,
        ws_callbacks::frame_start,
        nullptr,
        ws_callbacks::frame_end,
        ws_callbacks::message,
    };
    const int r = _role == ws_role::client
                      ? wslay_event_context_client_init(&c->wslay, &callbacks, this)
                      : wslay_event_context_server_init(&c->wslay, &callbacks, this);
    if (r != 0) {
      delete c;
      return nullptr;
    }
    wslay_event_config_set_max_recv_msg_length(c->wslay, _limits.max_message_bytes);
  }
  c->bytes_fed = c->bytes_framed = c->frame_size = 0;
  c->in_fragmented_message = false;
  c->guard.reset(_role == ws_role::server, _limits.max_message_bytes);
  // A pooled context may have served a session with the other setting.
  c->guard.allow_compressed(compressed);
  wslay_event_config_set_allowed_rsv_bits(c->wslay, compressed ? WSLAY_RSV1_BIT : WSLAY_RSV_NONE);
  ++_in_use;
  return c;
}

void ws_shard_env::give_back(ws_context* c, bool reusable) noexcept {
  --_in_use;
  if (reusable && _pool.size() < _max_pooled) {
    // A context at a clean boundary is in the same state as a new one:
    // nothing buffered, no message open, no close begun.
    _pool.push_back(c);
    return;
  }
  wslay_event_context_free(c->wslay);
  delete c;
}

ws_session::~ws_session() {
  // A live context here means the owner forgot reset(env); leaking 8 KB is
  // better than freeing through an env we cannot reach.
}

bool ws_session::ensure_context(ws_shard_env& env) noexcept {
  if (_context != nullptr) return true;
  _context = env.take(_deflate != 0);
  if (_context == nullptr) {
    _state = ws_state::failed;
    _failure = ws_failure::out_of_memory;
    _failure_code = 1011;
    return false;
  }
  return true;
}

ws_state ws_session::settle(ws_shard_env& env, int wslay_result) noexcept {
  wslay_event_context_ptr ctx = _context->wslay;
  if (wslay_result == 0) wslay_result = wslay_event_send(ctx);
  env._active = nullptr;
  env._sink = nullptr;
  env._input = {};
  env._input_used = 0;
  env._active_deflate = 0;
  const ws_failure inflate_failure = env._inflate_failure;
  env._inflate_failure = ws_failure::none;
  const bool close_received = wslay_event_get_close_received(ctx);
  const bool close_sent = wslay_event_get_close_sent(ctx);
  if (wslay_result != 0) {
    _state = ws_state::failed;
    _failure = ws_failure::out_of_memory;
    _failure_code = 1011;
  } else if (inflate_failure != ws_failure::none) {
    _state = ws_state::failed;
    _failure = inflate_failure;
    _failure_code = close_code_for(inflate_failure);
  } else if (!wslay_event_get_read_enabled(ctx) && !close_received) {
    // wslay stops reading only when the peer closed or broke the protocol,
    // and in the second case it has queued (and we have sent) the reason.
    // The guard refused every bad header before wslay saw it, so what is
    // left is in a payload: UTF-8 (1007) or, in a close frame, its code.
    _state = ws_state::failed;
    _failure_code = wslay_event_get_status_code_sent(ctx);
    switch (_failure_code) {
      case 1007:
        _failure = ws_failure::invalid_utf8;
        break;
      case 1009:
        _failure = ws_failure::too_big;
        break;
      default:
        _failure = _context->guard.close_seen() && _failure_code == 1002
                       ? ws_failure::bad_close_code
                       : ws_failure::protocol;
        break;
    }
  } else if (close_received && close_sent) {
    _state = ws_state::closed;
  } else if (close_received || close_sent) {
    _state = ws_state::closing;
  }
  return _state;
}

int ws_session::recv(ws_shard_env& env, std::span<const uint8_t> bytes) noexcept {
  env._input = bytes;
  env._input_used = 0;
  return wslay_event_recv(_context->wslay);
}

// A fault the guard found: refuse the frame with the close code its cause
// calls for (wslay has seen none of it), and stop reading.
void ws_session::fail(ws_shard_env& env, ws_failure why) noexcept {
  const uint16_t code = close_code_for(why);
  wslay_event_queue_close(_context->wslay, code, nullptr, 0);  // NO_MORE_MSG if we closed already
  wslay_event_shutdown_read(_context->wslay);
  settle(env, 0);
  _state = ws_state::failed;
  _failure = why;
  _failure_code = code;
}

ws_state ws_session::feed(ws_shard_env& env, std::span<const uint8_t> bytes,
                          ws_sink& sink) noexcept {
  if (_state == ws_state::failed || _state == ws_state::closed) return _state;
  if (!ensure_context(env)) return _state;
  env._active = _context;
  env._active_deflate = _deflate;
  env._sink = &sink;
  frame_guard& guard = _context->guard;
  wslay_event_context_ptr ctx = _context->wslay;
  // Queues the latest ping's pong (wslay copies it); false if memory ran out.
  const auto answer_ping = [&]() noexcept {
    const std::span<const uint8_t> body = guard.take_pong();
    wslay_event_msg pong{WSLAY_PONG, body.data(), body.size()};
    const int r = wslay_event_queue_msg(ctx, &pong);
    if (r == 0) ++env._pongs_queued;
    return r != WSLAY_ERR_NOMEM;  // NO_MORE_MSG: a close is queued, no pong may follow
  };
  size_t from = 0;
  for (bool reading = true; reading;) {
    const frame_guard::step step = guard.scan(bytes, from);
    if (step.pass_end > from) {
      const int r = recv(env, bytes.subspan(from, step.pass_end - from));
      if (r == WSLAY_ERR_CALLBACK_FAILURE) {
        // Our recv callback never fails, so this is wslay's frame layer
        // refusing a frame the guard let through (it should not happen).
        // wslay has queued a close without a code: send it.
        settle(env, 0);
        _state = ws_state::failed;
        _failure = ws_failure::protocol;
        _failure_code = 1002;
        return _state;
      }
      if (r != 0) return settle(env, r);
      if (step.what == frame_guard::event::more) break;
      if (!wslay_event_get_read_enabled(ctx)) break;  // a close or a fault: read no further
    }
    switch (step.what) {
      case frame_guard::event::more:
        reading = false;
        break;
      case frame_guard::event::ping:
        ++env._pings_received;
        sink.on_ping(guard.latest_ping());
        break;
      case frame_guard::event::close: {
        if (guard.pong_pending()) {
          // The pong goes out ahead of our close reply: written now, as
          // wslay would otherwise send the close it queues next first.
          // Writing does not touch the read state.
          if (!answer_ping()) return settle(env, WSLAY_ERR_NOMEM);
          if (const int r = wslay_event_send(ctx); r != 0) return settle(env, r);
        }
        // In one piece, read by wslay from an empty buffer (frame_guard.hh).
        const int r = recv(env, guard.held_close());
        if (r != 0) return settle(env, r);
        break;
      }
      case frame_guard::event::fault:
        fail(env, guard.failure());
        return _state;
    }
    from = step.resume;
  }
  if (guard.pong_pending()) {
    if (!wslay_event_get_read_enabled(ctx)) {
      guard.take_pong();  // failing or closing: no pong after our close
    } else if (!answer_ping()) {
      return settle(env, WSLAY_ERR_NOMEM);
    }
  }
  return settle(env, 0);
}

ws_state ws_session::send(ws_shard_env& env, ws_opcode opcode, std::span<const uint8_t> payload,
                          ws_sink& sink) noexcept {
  if (_state != ws_state::open) return _state;
  if (!ensure_context(env)) return _state;
  env._active = _context;
  env._sink = &sink;
  uint8_t rsv = WSLAY_RSV_NONE;
  if (_deflate != 0 && (opcode == ws_opcode::text || opcode == ws_opcode::binary)) {
    // Even an empty message compresses to one byte: empty means no memory.
    payload = env._deflate.compress(_deflate, payload);
    if (payload.empty()) return settle(env, WSLAY_ERR_NOMEM);
    rsv = WSLAY_RSV1_BIT;
  }
  wslay_event_msg message{uint8_t(opcode), payload.data(), payload.size()};
  const int r = wslay_event_queue_msg_ex(_context->wslay, &message, rsv);
  if (r == WSLAY_ERR_INVALID_ARGUMENT) {
    settle(env, 0);
    return ws_state::failed;  // a control frame over 125 bytes: the caller's bug, not the peer's
  }
  return settle(env, r == WSLAY_ERR_NO_MORE_MSG ? 0 : r);
}

ws_state ws_session::ping(ws_shard_env& env, std::span<const uint8_t> payload,
                          ws_sink& sink) noexcept {
  return send(env, ws_opcode::ping, payload.size() <= 125 ? payload : payload.first(125), sink);
}

ws_state ws_session::close(ws_shard_env& env, uint16_t code, std::string_view reason,
                           ws_sink& sink) noexcept {
  if (_state != ws_state::open && _state != ws_state::closing) return _state;
  if (!ensure_context(env)) return _state;
  env._active = _context;
  env._sink = &sink;
  if (reason.size() > 123) reason = reason.substr(0, 123);
  const int r = wslay_event_queue_close(
      _context->wslay, code, reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
  return settle(env, r == WSLAY_ERR_NO_MORE_MSG ? 0 : r);
}

bool ws_session::at_boundary() const noexcept {
  if (_context == nullptr) return true;
  if (_state != ws_state::open) return false;
  wslay_event_context_ptr ctx = _context->wslay;
  return _context->bytes_fed == _context->bytes_framed && !_context->in_fragmented_message &&
         _context->guard.at_boundary() && !wslay_event_want_write(ctx) &&
         wslay_event_get_queued_msg_count(ctx) == 0 && wslay_event_get_read_enabled(ctx) &&
         wslay_event_get_write_enabled(ctx) && !wslay_event_get_close_sent(ctx) &&
         !wslay_event_get_close_received(ctx);
}

void ws_session::release_context(ws_shard_env& env) noexcept {
  if (_context == nullptr || !at_boundary()) return;
  env.give_back(_context, true);
  _context = nullptr;
}

bool ws_session::use_deflate(ws_shard_env& env, const deflate_params& params) noexcept {
  if (_deflate == 0) _deflate = env._deflate.open(params, env._role == ws_role::server);
  if (_deflate == 0) return false;
  if (_context != nullptr) {  // taken before the upgrade finished: allow RSV1 now
    _context->guard.allow_compressed(true);
    wslay_event_config_set_allowed_rsv_bits(_context->wslay, WSLAY_RSV1_BIT);
  }
  return true;
}

void ws_session::reset(ws_shard_env& env) noexcept {
  if (_deflate != 0) {
    env._deflate.close(_deflate);
    _deflate = 0;
  }
  if (_context != nullptr) {
    const bool clean = at_boundary();
    env.give_back(_context, clean);
    _context = nullptr;
  }
  _state = ws_state::open;
  _failure = ws_failure::none;
  _failure_code = 0;
}

}  // namespace horde::proto

// A WebSocket session (RFC 6455 5-7) over wslay's event API, driven from our
// buffers: feed() hands wslay bytes we already received (its recv callback
// copies from them and says WOULDBLOCK when they are spent), and everything
// wslay wants to send goes to ws_sink::write (our out-buffer). No sockets.
//
// Memory: a wslay context costs about 8.7 KB, so a session holds one only
// while traffic is in flight. At a clean message boundary — no partial frame
// or fragmented message received, nothing queued, no close begun — the
// context goes back to the shard's pool (release_context) and the session
// shrinks to 16 bytes; the next feed or send takes one again. The boundary
// is tracked by counting bytes: what wslay was handed against the sizes of
// the frames it finished (its frame start/end callbacks).
//
// Ahead of wslay, a frame_guard (proto/frame_guard.hh) checks every frame
// header as it arrives: a bad frame — over the size limit, masked by a
// server, with RSV bits or a reserved opcode, a bad control frame — fails
// the session at its header, with the cause in failure(). The guard also
// takes pings out of the stream: each feed() answers at most one, the latest
// (RFC 6455 5.5.3), so a peer flooding pings cannot grow our out-buffer.
//
// permessage-deflate (RFC 7692), once negotiated (use_deflate), lives apart
// from the wslay context, in the env's deflate_shard under a handle the
// session keeps: a context still goes back to the pool at every boundary,
// and a session without compression carries nothing for it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "proto/frame_guard.hh"
#include "proto/mask_source.hh"
#include "proto/permessage_deflate.hh"

namespace horde::proto {

enum class ws_role : uint8_t { client, server };

enum class ws_opcode : uint8_t {
  continuation = 0,
  text = 1,
  binary = 2,
  close = 8,
  ping = 9,
  pong = 10,
};

struct ws_limits {
  uint64_t max_message_bytes = 16u << 20;  // over it: close 1009 and the session fails
};

// Receives a session's events. Called only from inside feed/send/ping/close.
class ws_sink {
 public:
  virtual void on_message(ws_opcode opcode, std::span<const uint8_t> body) = 0;
  virtual void on_pong(std::span<const uint8_t> /*body*/) {}
  // Every ping the peer sends, as it is read. Only the latest in each feed()
  // is answered, at the end of that feed (or just before a close reply).
  virtual void on_ping(std::span<const uint8_t> /*body*/) {}
  // The peer's close frame: its code (1005 when it carried none) and reason.
  virtual void on_close(uint16_t /*code*/, std::string_view /*reason*/) {}
  // Bytes to put on the wire, in order.
  virtual void write(std::span<const uint8_t> bytes) = 0;

 protected:
  ~ws_sink() = default;
};

enum class ws_state : uint8_t {
  open,
  closing,  // one close frame exchanged, waiting for the other
  closed,   // both exchanged: the TCP connection may go
  failed,   // the peer broke the protocol (failure_code says how) or memory ran out
};

struct ws_context;  // a pooled wslay context with its frame accounting

// Per shard (one thread): the role, limits and the pool of contexts.
class ws_shard_env {
 public:
  ws_shard_env(ws_role role, ws_limits limits, mask_source& masks, size_t max_pooled = 4096);
  ~ws_shard_env();
  ws_shard_env(const ws_shard_env&) = delete;
  ws_shard_env& operator=(const ws_shard_env&) = delete;

  size_t contexts_in_use() const noexcept { return _in_use; }
  size_t contexts_pooled() const noexcept { return _pool.size(); }
  // Pings read from peers and pongs queued in answer, over the shard's life:
  // the difference is pings coalesced (several in one feed get one pong).
  uint64_t pings_received() const noexcept { return _pings_received; }
  uint64_t pongs_queued() const noexcept { return _pongs_queued; }
  // Every session's permessage-deflate state and the codec's totals.
  deflate_shard& deflate() noexcept { return _deflate; }
  const deflate_shard& deflate() const noexcept { return _deflate; }

 private:
  friend class ws_session;
  friend struct ws_callbacks;

  ws_context* take(bool compressed) noexcept;
  void give_back(ws_context* context, bool reusable) noexcept;

  ws_role _role;
  ws_limits _limits;
  mask_source& _masks;
  size_t _max_pooled;
  size_t _in_use = 0;
  std::vector<ws_context*> _pool;
  uint64_t _pings_received = 0;
  uint64_t _pongs_queued = 0;
  deflate_shard _deflate;

  // The call in progress (a shard drives one session at a time).
  ws_context* _active = nullptr;
  ws_sink* _sink = nullptr;
  std::span<const uint8_t> _input;
  size_t _input_used = 0;
  uint32_t _active_deflate = 0;                    // the session's deflate handle, 0: none
  ws_failure _inflate_failure = ws_failure::none;  // a compressed message refused in this call
};

class ws_session {
 public:
  ws_session() = default;
  ws_session(const ws_session&) = delete;
  ws_session& operator=(const ws_session&) = delete;
  ~ws_session();  // a session must be reset() with its env before it dies

  ws_state state() const noexcept { return _state; }
  // The close code we sent when the session failed (1002 protocol error,
  // 1007 bad UTF-8, 1009 too big, 1011 out of memory); 0 otherwise.
  uint16_t failure_code() const noexcept { return _failure_code; }
  // Why the session failed (describe() gives a text); none unless failed.
  ws_failure failure() const noexcept { return _failure; }

  // Reads the peer's bytes and returns state(); answers at most one ping per
  // call, the latest, at its end (or ahead of a close reply).
  ws_state feed(ws_shard_env& env, std::span<const uint8_t> bytes, ws_sink& sink) noexcept;
  ws_state send(ws_shard_env& env, ws_opcode opcode, std::span<const uint8_t> payload,
                ws_sink& sink) noexcept;
  ws_state ping(ws_shard_env& env, std::span<const uint8_t> payload, ws_sink& sink) noexcept;
  ws_state close(ws_shard_env& env, uint16_t code, std::string_view reason, ws_sink& sink) noexcept;

  // permessage-deflate was negotiated (`params` as agreed, whichever role the
  // env has): text and binary messages go out compressed (RSV1) and
  // compressed ones are inflated. False when memory ran out.
  bool use_deflate(ws_shard_env& env, const deflate_params& params) noexcept;
  bool deflating() const noexcept { return _deflate != 0; }

  bool has_context() const noexcept { return _context != nullptr; }
  // True when the context could go without losing anything.
  bool at_boundary() const noexcept;
  // Returns the context to the pool if at_boundary(); otherwise keeps it.
  void release_context(ws_shard_env& env) noexcept;
  // Back to a fresh open session (for slot reuse); drops any context.
  void reset(ws_shard_env& env) noexcept;

 private:
  bool ensure_context(ws_shard_env& env) noexcept;
  int recv(ws_shard_env& env, std::span<const uint8_t> bytes) noexcept;
  void fail(ws_shard_env& env, ws_failure why) noexcept;
  ws_state settle(ws_shard_env& env, int wslay_result) noexcept;

  ws_context* _context = nullptr;
  ws_state _state = ws_state::open;
  ws_failure _failure = ws_failure::none;
  uint16_t _failure_code = 0;
  uint32_t _deflate = 0;  // a handle in env.deflate(); 0: no compression
};

static_assert(sizeof(ws_session) <= 16, "a session lives in every connection slot");

}  // namespace horde::proto

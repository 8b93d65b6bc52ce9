// A WebSocket frame guard (RFC 6455 5.2-5.5): walks the frame headers in the
// bytes a session receives, ahead of wslay, and refuses a bad frame at its
// header — before any of its payload arrives, and before wslay sees a byte of
// it. Payloads are skipped by arithmetic; only header bytes (at most 14 a
// frame) and ping payloads (at most 125) are touched one by one. No I/O.
//
// Why ahead of wslay: wslay 1.1.1 looks at a frame only once a payload byte
// has arrived, so a header claiming 2^63-1 bytes with nothing after it is
// waited on forever; and it queues a pong for every ping with no way to turn
// that off, so a peer flooding pings and never reading grows our out-buffer
// without bound. The guard takes pings out of the stream itself and keeps
// only the latest one's payload, which the session answers once per feed
// (RFC 6455 5.5.3: answering only the most recent ping is allowed).
//
// The guard hands header bytes of an ordinary frame through as they are
// checked, so a frame is refused on the byte that makes it bad and wslay
// never holds a complete bad header. A ping is held back whole (its first
// byte says it is one) and never reaches wslay. A close frame is held back
// whole too and handed to wslay in one piece: wslay 1.1.1 checks a close
// reason's UTF-8 from byte 2 of *each piece* it reads, so a close split
// across reads gets a valid reason refused or an invalid one let through.
//
// Invariant: at_boundary() is true exactly when no header, ping or payload is
// part-read and no fragmented message is open: the state a fresh guard has.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace horde::proto {

// Why a session failed: the first fault seen, from the peer or from memory.
enum class ws_failure : uint8_t {
  none,
  protocol,           // any other protocol error (1002)
  masked_frame,       // a masked frame from a server (1002)
  reserved_bits,      // RSV2-3 set, or RSV1 where permessage-deflate allows none (1002)
  no_deflate_rsv1,    // RSV1 (a compressed message) without permessage-deflate (1002)
  bad_deflate,        // a compressed message zlib cannot inflate (1007)
  bad_opcode,         // a reserved opcode, 3-7 or 11-15 (1002)
  bad_control_frame,  // a control frame fragmented or over 125 bytes (1002)
  bad_close_code,     // a close frame with an invalid code or a 1-byte body (1002)
  invalid_utf8,       // text or a close reason that is not UTF-8 (1007)
  too_big,            // a frame or message over ws_limits::max_message_bytes (1009)
  out_of_memory,      // we could not allocate (1011)
};

// A short human text for a failure ("message too big"); "" for none.
std::string_view describe(ws_failure failure) noexcept;

// The close code a session sends for a failure (1002, 1007, 1009, 1011; 0 for none).
uint16_t close_code_for(ws_failure failure) noexcept;

class frame_guard {
 public:
  enum class event : uint8_t {
    more,   // the input is spent
    ping,   // a whole ping was taken out: latest_ping() is its payload
    close,  // a whole close frame, held_close(): answer any pending ping, then hand it to wslay
    fault,  // the frame starting at pass_end is refused: failure() says why
  };

  // One stretch of a scan: hand input[from, pass_end) to wslay, act on
  // `what`, then scan again from `resume` (unless the input is spent or the
  // guard has failed).
  struct step {
    size_t pass_end;
    size_t resume;
    event what;
  };

  // Back to a fresh stream. A client's guard expects unmasked frames, a
  // server's masked ones (RFC 6455 5.1).
  void reset(bool expect_masked, uint64_t max_message_bytes) noexcept;
  // permessage-deflate was negotiated: RSV1 is allowed on the first frame of
  // a text or binary message (RFC 7692 6). Off after reset().
  void allow_compressed(bool allowed) noexcept { _rsv1_ok = allowed; }

  // Walks input from `from` (<= input.size()) to the next event.
  step scan(std::span<const uint8_t> input, size_t from) noexcept;

  ws_failure failure() const noexcept { return _failure; }
  // A close frame has been read whole: what follows is wslay's to ignore.
  bool close_seen() const noexcept { return _phase == phase::after_close; }
  // The close frame just read, header and payload as received.
  std::span<const uint8_t> held_close() const noexcept { return {_held, _held_length}; }
  bool at_boundary() const noexcept {
    return _phase == phase::header && _have == 0 && !_in_message && !_pong_pending;
  }

  // The payload of the ping just completed (valid until the next scan).
  std::span<const uint8_t> latest_ping() const noexcept { return {_pong, _pong_length}; }
  // Whether a ping seen since the last take_pong() is still unanswered.
  bool pong_pending() const noexcept { return _pong_pending; }
  // The latest ping's payload, to answer now; clears pong_pending().
  std::span<const uint8_t> take_pong() noexcept {
    _pong_pending = false;
    return {_pong, _pong_length};
  }

 private:
  enum class phase : uint8_t {
    header,        // reading a frame header (into _header only when an input cuts it)
    payload,       // skipping _remaining payload bytes (handed through)
    held_payload,  // collecting _remaining payload bytes of a ping or close into _held
    after_close,   // after a close frame: everything handed through
    failed,
  };

  ws_failure check_first_byte(uint8_t b0) noexcept;
  ws_failure check_second_byte(uint8_t b0, uint8_t b1) noexcept;
  ws_failure finish_header(const uint8_t* header) noexcept;
  void fail(ws_failure why) noexcept {
    _failure = why;
    _phase = phase::failed;
  }

  // Sized state: 304 bytes (asserted below), kept in the pooled ws_context.
  uint64_t _max_message = 0;    // ws_limits::max_message_bytes
  uint64_t _remaining = 0;      // payload bytes left in the current frame
  uint64_t _message_bytes = 0;  // payload so far of the open fragmented message
  phase _phase = phase::header;
  ws_failure _failure = ws_failure::none;
  bool _expect_masked = false;
  bool _in_message = false;  // a text/binary frame without FIN opened a message
  bool _pong_pending = false;
  // RSV1 allowed: permessage-deflate is on.
  bool _rsv1_ok = false;
  uint8_t _have = 0;  // header bytes read so far
  uint8_t _need = 2;  // header bytes this frame has (2 until the second byte is read)
  uint8_t _header[14] = {};
  uint8_t _held_length = 0;
  uint8_t _pong_length = 0;
  uint8_t _held[6 + 125] = {};  // the ping or close being read, as received (masked from a client)
  uint8_t _pong[125] = {};      // the latest whole ping's payload, unmasked
};

static_assert(sizeof(frame_guard) <= 304, "the guard lives in every pooled ws_context");

}  // namespace horde::proto

// Fuzzes the frame guard (proto/frame_guard.hh) against a plain reference
// that walks the same bytes whole.
//
// Input: a control byte, then the stream in pieces (fuzz::chunks: a length
// byte, then that many bytes).
//   bit 0     the role: 0 client (frames must be unmasked), 1 server (masked)
//   bits 1-2  the message limit: 125, 1024, 70000 or 2^63 bytes
// Checked, whatever the pieces: every step stays within its input and moves
// forward; the bytes handed through are exactly the stream without its pings,
// up to the first bad frame (a close frame whole, never a part of one); the
// pings taken out and their payloads, the fault and its cause are the
// reference's; the guard never reads outside a piece; at_boundary() holds
// exactly between frames outside a fragmented message.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "proto/frame_guard.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using horde::proto::frame_guard;
using horde::proto::ws_failure;
using bytes = std::vector<uint8_t>;

constexpr uint64_t limits[4] = {125, 1024, 70000, uint64_t(1) << 63};

// What the reference makes of a whole stream.
struct reference_result {
  bytes passed;              // what wslay should see (close frames included)
  std::vector<bytes> pings;  // unmasked payloads
  ws_failure failure = ws_failure::none;
  bool boundary = true;  // the stream ends between frames, no message open
};

reference_result reference(std::span<const uint8_t> s, bool server, uint64_t limit) {
  reference_result r;
  bool in_message = false;
  uint64_t message_bytes = 0;
  size_t at = 0;
  while (at < s.size()) {
    const size_t start = at;
    const uint8_t b0 = s[at];
    const uint8_t opcode = b0 & 0x0f;
    const bool fin = (b0 & 0x80) != 0;
    const bool control = (opcode & 0x08) != 0;
    const bool held = opcode == 0x9 || opcode == 0x8;
    auto fault = [&](ws_failure f) {
      r.failure = f;
      return r;
    };
    // RSV1 alone is a compressed frame (no permessage-deflate here); RSV2-3 reserved.
    if ((b0 & 0x70) == 0x40) return fault(ws_failure::no_deflate_rsv1);
    if ((b0 & 0x70) != 0) return fault(ws_failure::reserved_bits);
    if (opcode == 0 && !in_message) return fault(ws_failure::protocol);
    if ((opcode == 1 || opcode == 2) && in_message) return fault(ws_failure::protocol);
    if ((opcode > 2 && opcode < 8) || opcode > 10) return fault(ws_failure::bad_opcode);
    if (control && !fin) return fault(ws_failure::bad_control_frame);
    auto incomplete = [&] {
      // A held frame is not handed through until whole; any other part is.
      if (!held) r.passed.insert(r.passed.end(), s.begin() + long(start), s.end());
      r.boundary = false;
      return r;
    };
    if (s.size() - at < 2) return incomplete();
    const uint8_t b1 = s[at + 1];
    const bool masked = (b1 & 0x80) != 0;
    if (masked != server) return fault(server ? ws_failure::protocol : ws_failure::masked_frame);
    const uint8_t length7 = b1 & 0x7f;
    if (control && length7 > 125) return fault(ws_failure::bad_control_frame);
    const size_t header = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (s.size() - at < header) return incomplete();
    uint64_t length = length7;
    if (length7 == 126) {
      length = uint64_t(s[at + 2]) << 8 | s[at + 3];
      if (length < 126) return fault(ws_failure::protocol);
    } else if (length7 == 127) {
      length = 0;
      for (size_t i = 0; i < 8; ++i)
        length = length << 8 | s[at + 2 + i];
      if ((length >> 63) != 0 || length < 65536) return fault(ws_failure::protocol);
    }
    if (opcode == 0) {
      if (length > limit - message_bytes) return fault(ws_failure::too_big);
      message_bytes += length;
      if (fin) in_message = false, message_bytes = 0;
    } else {
      if (length > limit) return fault(ws_failure::too_big);
      if (opcode == 0x8 && length == 1) return fault(ws_failure::bad_close_code);
      if (!fin) in_message = true, message_bytes = length;
    }
    if (s.size() - at - header < length) return incomplete();
    at += header + size_t(length);
    if (opcode == 0x9) {
      bytes payload(s.begin() + long(start + header), s.begin() + long(at));
      for (size_t i = 0; masked && i < payload.size(); ++i)
        payload[i] ^= s[start + 2 + i % 4];
      r.pings.push_back(payload);
      continue;
    }
    r.passed.insert(r.passed.end(), s.begin() + long(start), s.begin() + long(at));
    if (opcode == 0x8) {  // after a close: everything handed through
      r.passed.insert(r.passed.end(), s.begin() + long(at), s.end());
      r.boundary = false;
      return r;
    }
  }
  r.boundary = !in_message;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool server = (data[0] & 1) != 0;
  const uint64_t limit = limits[(data[0] >> 1) & 3];

  frame_guard guard;
  guard.reset(server, limit);
  bytes whole, passed;
  std::vector<bytes> pings;
  bool faulted = false;
  horde::fuzz::chunks pieces(data + 1, size - 1);
  std::string_view chunk;
  while (!faulted && pieces.next(chunk)) {
    // A copy of exactly the piece, so ASan catches a read past it.
    std::vector<uint8_t> piece(chunk.begin(), chunk.end());
    whole.insert(whole.end(), piece.begin(), piece.end());
    const std::span<const uint8_t> input(piece.data(), piece.size());
    size_t from = 0;
    for (;;) {
      const frame_guard::step s = guard.scan(input, from);
      HORDE_FUZZ_CHECK(from <= s.pass_end && s.pass_end <= s.resume && s.resume <= input.size());
      passed.insert(passed.end(), input.begin() + long(from), input.begin() + long(s.pass_end));
      if (s.what == frame_guard::event::more) {
        HORDE_FUZZ_CHECK(s.resume == input.size());
        break;
      }
      if (s.what == frame_guard::event::fault) {
        HORDE_FUZZ_CHECK(guard.failure() != ws_failure::none);
        faulted = true;
        break;
      }
      if (s.what == frame_guard::event::ping) {
        const auto p = guard.latest_ping();
        HORDE_FUZZ_CHECK(p.size() <= 125 && guard.pong_pending());
        pings.emplace_back(p.begin(), p.end());
      } else {
        const auto c = guard.held_close();
        HORDE_FUZZ_CHECK(c.size() >= 2 && c.size() <= 131 && (c[0] & 0x0f) == 0x8);
        HORDE_FUZZ_CHECK(guard.close_seen());
        if (guard.pong_pending()) guard.take_pong();
        passed.insert(passed.end(), c.begin(), c.end());
      }
      HORDE_FUZZ_CHECK(s.resume > from || s.what == frame_guard::event::close);
      from = s.resume;
    }
    if (guard.pong_pending()) guard.take_pong();  // as the session does at the end of a feed
  }

  const reference_result expected = reference(whole, server, limit);
  HORDE_FUZZ_CHECK(faulted == (expected.failure != ws_failure::none));
  HORDE_FUZZ_CHECK(guard.failure() == expected.failure);
  HORDE_FUZZ_CHECK(pings == expected.pings);
  if (!faulted) {
    HORDE_FUZZ_CHECK(passed == expected.passed);
    HORDE_FUZZ_CHECK(guard.at_boundary() == expected.boundary);
  } else {
    // A bad frame's header may have gone through in part, never whole; all
    // before it went through.
    HORDE_FUZZ_CHECK(passed.size() >= expected.passed.size());
    HORDE_FUZZ_CHECK(std::equal(expected.passed.begin(), expected.passed.end(), passed.begin()));
    HORDE_FUZZ_CHECK(passed.size() - expected.passed.size() < 14);
    // Once failed, always failed.
    const auto again = guard.scan(std::span<const uint8_t>(data, size), 0);
    HORDE_FUZZ_CHECK(again.what == frame_guard::event::fault && again.pass_end == 0);
  }
  return 0;
}

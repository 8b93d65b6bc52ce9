#include "proto/frame_guard.hh"

#include <cstring>

namespace horde::proto {

namespace {

constexpr uint8_t op_continuation = 0x0, op_text = 0x1, op_binary = 0x2;
constexpr uint8_t op_close = 0x8, op_ping = 0x9, op_pong = 0xa;

constexpr uint8_t opcode_of(uint8_t b0) noexcept {
  return b0 & 0x0f;
}
constexpr bool is_control(uint8_t b0) noexcept {
  return (b0 & 0x08) != 0;
}
// Frames held back whole rather than handed through as they arrive.
constexpr bool is_held(uint8_t b0) noexcept {
  return opcode_of(b0) == op_ping || opcode_of(b0) == op_close;
}

}  // namespace

std::string_view describe(ws_failure failure) noexcept {
  switch (failure) {
    case ws_failure::none:
      return "";
    case ws_failure::protocol:
      return "protocol error";
    case ws_failure::masked_frame:
      return "masked frame from server";
    case ws_failure::reserved_bits:
      return "reserved bits set without an extension";
    case ws_failure::no_deflate_rsv1:
      return "compressed frame without permessage-deflate";
    case ws_failure::bad_deflate:
      return "compressed message that does not inflate";
    case ws_failure::bad_opcode:
      return "reserved opcode";
    case ws_failure::bad_control_frame:
      return "control frame fragmented or over 125 bytes";
    case ws_failure::bad_close_code:
      return "invalid close code";
    case ws_failure::invalid_utf8:
      return "invalid UTF-8";
    case ws_failure::too_big:
      return "message too big";
    case ws_failure::out_of_memory:
      return "out of memory";
  }
  return "protocol error";
}

uint16_t close_code_for(ws_failure failure) noexcept {
  switch (failure) {
    case ws_failure::none:
      return 0;
    case ws_failure::invalid_utf8:
    case ws_failure::bad_deflate:
      return 1007;
    case ws_failure::too_big:
      return 1009;
    case ws_failure::out_of_memory:
      return 1011;
    default:
      return 1002;
  }
}

void frame_guard::reset(bool expect_masked, uint64_t max_message_bytes) noexcept {
  _max_message = max_message_bytes;
  _remaining = _message_bytes = 0;
  _phase = phase::header;
  _failure = ws_failure::none;
  _expect_masked = expect_masked;
  _in_message = _pong_pending = _rsv1_ok = false;
  _have = 0;
  _need = 2;
  _held_length = _pong_length = 0;
}

// RFC 6455 5.2 (RSV bits, opcodes), 5.4 (fragmentation), 5.5 (control frames).
// RFC 7692 6: RSV1 marks a compressed message, on its first frame only.
ws_failure frame_guard::check_first_byte(uint8_t b0) noexcept {
  if ((b0 & 0x70) != 0) {
    const bool opens_message = opcode_of(b0) == op_text || opcode_of(b0) == op_binary;
    if ((b0 & 0x70) != 0x40) return ws_failure::reserved_bits;
    if (!_rsv1_ok) return ws_failure::no_deflate_rsv1;
    if (!opens_message) return ws_failure::reserved_bits;
  }
  switch (opcode_of(b0)) {
    case op_continuation:
      return _in_message ? ws_failure::none : ws_failure::protocol;  // nothing to continue
    case op_text:
    case op_binary:
      return _in_message ? ws_failure::protocol : ws_failure::none;  // a message inside a message
    case op_close:
    case op_ping:
    case op_pong:
      return (b0 & 0x80) != 0 ? ws_failure::none : ws_failure::bad_control_frame;
    default:
      return ws_failure::bad_opcode;
  }
}

// RFC 6455 5.1 (masking by role), 5.5 (control payloads of 125 bytes at most).
ws_failure frame_guard::check_second_byte(uint8_t b0, uint8_t b1) noexcept {
  const bool masked = (b1 & 0x80) != 0;
  if (masked != _expect_masked) {
    return _expect_masked ? ws_failure::protocol : ws_failure::masked_frame;
  }
  const uint8_t length7 = b1 & 0x7f;
  if (is_control(b0) && length7 > 125) return ws_failure::bad_control_frame;
  _need = uint8_t(2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0));
  return ws_failure::none;
}

// The whole header (_need bytes at h, its first two bytes checked): check
// its length (minimal encoding, RFC 6455 5.2; the limit) and set up for the
// payload.
ws_failure frame_guard::finish_header(const uint8_t* h) noexcept {
  const uint8_t b0 = h[0];
  const uint8_t opcode = opcode_of(b0);
  const bool fin = (b0 & 0x80) != 0;
  uint64_t length = h[1] & 0x7f;
  if (length == 126) {
    length = uint64_t(h[2]) << 8 | h[3];
    if (length < 126) return ws_failure::protocol;
  } else if (length == 127) {
    length = 0;
    for (int i = 2; i < 10; ++i)
      length = length << 8 | h[i];
    if ((length >> 63) != 0 || length <= 0xffff) return ws_failure::protocol;
  }
  // _message_bytes <= _max_message always, so the subtraction cannot wrap.
  if (opcode == op_continuation) {
    if (length > _max_message - _message_bytes) return ws_failure::too_big;
    _message_bytes += length;
    if (fin) {
      _in_message = false;
      _message_bytes = 0;
    }
  } else {
    if (length > _max_message) return ws_failure::too_big;
    if (opcode == op_close && length == 1) return ws_failure::bad_close_code;  // RFC 6455 5.5.1
    if (!fin) {  // text or binary opening a fragmented message
      _in_message = true;
      _message_bytes = length;
    }
  }
  _remaining = length;
  if (opcode == op_ping || opcode == op_close) {
    std::memcpy(_held, h, _need);
    _held_length = _need;
    _phase = phase::held_payload;
  } else {
    _phase = length != 0 ? phase::payload : phase::header;
  }
  _have = 0;
  _need = 2;
  return ws_failure::none;
}

frame_guard::step frame_guard::scan(std::span<const uint8_t> input, size_t from) noexcept {
  const uint8_t* const data = input.data();
  const size_t size = input.size();
  size_t pos = from;
  // The usual traffic first: whole unfragmented text or binary frames with
  // a 7-bit length, skipped a frame at a time with nothing stored. Anything
  // else (and the end of the input) goes to the general walk below.
  if (_phase == phase::header && _have == 0 && !_in_message) {
    const uint8_t mask_bit = _expect_masked ? 0x80 : 0;
    const size_t key = _expect_masked ? 4 : 0;
    while (size - pos >= 2) {
      const uint8_t b0 = data[pos], b1 = data[pos + 1];
      const size_t length = b1 & 0x7f;
      const uint8_t plain_b0 = _rsv1_ok ? uint8_t(b0 & ~0x40) : b0;
      if ((plain_b0 != 0x81 && plain_b0 != 0x82) || (b1 & 0x80) != mask_bit || length > 125 ||
          length > _max_message || size - pos < 2 + key + length) {
        break;
      }
      pos += 2 + key + length;
    }
  }
  // Where the bytes held back (a ping or close) begin in this input: `from`
  // when the frame began in an earlier input, `size` while nothing is held.
  size_t held = size;
  if (_phase == phase::held_payload ||
      (_phase == phase::header && _have != 0 && is_held(_header[0]))) {
    held = from;
  }
  size_t frame_start = from;  // where the frame being read began in this input
  while (pos < size) {
    switch (_phase) {
      case phase::payload: {
        const size_t left = size - pos;
        if (_remaining > left) {
          _remaining -= left;
          pos = size;
        } else {
          pos += size_t(_remaining);
          _remaining = 0;
          _phase = phase::header;
        }
        break;
      }

      case phase::header: {
        const uint8_t* header = _header;
        if (_have == 0) {
          frame_start = pos;
          const uint8_t b0 = data[pos];
          if (const ws_failure why = check_first_byte(b0); why != ws_failure::none) {
            fail(why);
            return {pos, pos, event::fault};
          }
          if (is_held(b0)) held = pos;
          // The usual case: the whole header is here; read it in place.
          if (size - pos >= 2) {
            if (const ws_failure why = check_second_byte(b0, data[pos + 1]);
                why != ws_failure::none) {
              fail(why);
              return {pos, pos, event::fault};
            }
            if (size - pos >= _need) {
              header = data + pos;
              pos += _need;
              _have = _need;
            }
          }
        }
        while (_have < _need && pos < size) {  // a header cut by the end of an input
          const size_t want = size_t(_need - _have);
          const size_t n = want < size - pos ? want : size - pos;
          const uint8_t before = _have;
          std::memcpy(_header + _have, data + pos, n);
          _have = uint8_t(_have + n);
          pos += n;
          if (before < 2 && _have >= 2) {
            if (const ws_failure why = check_second_byte(_header[0], _header[1]);
                why != ws_failure::none) {
              fail(why);
              return {frame_start, frame_start, event::fault};
            }
          }
        }
        if (_have < _need) break;  // the input ends inside the header
        if (const ws_failure why = finish_header(header); why != ws_failure::none) {
          fail(why);
          return {frame_start, frame_start, event::fault};
        }
        if (_phase != phase::held_payload || _remaining != 0) break;
        [[fallthrough]];  // an empty ping or close is whole already
      }

      case phase::held_payload: {
        const size_t left = size - pos;
        const size_t n = _remaining < left ? size_t(_remaining) : left;
        if (n != 0) std::memcpy(_held + _held_length, data + pos, n);
        _held_length = uint8_t(_held_length + n);
        _remaining -= n;
        pos += n;
        if (_remaining != 0) break;
        if (opcode_of(_held[0]) == op_close) {
          _phase = phase::after_close;
          return {held, pos, event::close};
        }
        // A whole ping: it becomes the one to answer (a client's is
        // unmasked with the key at the end of its 6-byte header).
        const size_t header_size = _expect_masked ? 6 : 2;
        _pong_length = uint8_t(_held_length - header_size);
        if (_expect_masked) {
          for (size_t i = 0; i < _pong_length; ++i)
            _pong[i] = _held[header_size + i] ^ _held[2 + i % 4];
        } else {
          std::memcpy(_pong, _held + header_size, _pong_length);
        }
        _pong_pending = true;
        _phase = phase::header;
        return {held, pos, event::ping};
      }

      case phase::after_close:
        pos = size;
        break;

      case phase::failed:
        return {from, from, event::fault};
    }
  }
  if (_phase == phase::failed) return {from, from, event::fault};
  return {held, size, event::more};
}

}  // namespace horde::proto

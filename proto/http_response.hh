// A plain HTTP/1.1 response (RFC 9112), read incrementally from arbitrary
// splits of what the server sent: status line, headers, and a body framed by
// Content-Length, chunked transfer coding, or the connection's close. By
// default the body is counted and skipped, never stored: horde's REST setup
// calls need only the status. A scenario step that captures values from the
// answer (a session id from the JSON body, a token from a header) sets
// `keep`: the final header block and the dechunked body are then copied into
// the parser, up to a cap. Hard limits on the header, the body and every
// chunk line, so a peer cannot make it hold or wait for more than they allow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/header_block.hh"
#include "proto/parse_status.hh"

namespace horde::proto {

enum class http_failure : uint8_t {
  none,
  malformed,    // not HTTP/1.x, a bad status line, header line or chunk line
  too_large,    // header, trailer, chunk line or body over the limits
  bad_length,   // Content-Length not a number, or two that differ
  bad_framing,  // a transfer coding other than chunked (last), or with Content-Length
};

std::string_view to_string(http_failure failure) noexcept;

struct http_response_limits {
  size_t max_header_bytes =
      8192;  // status line and trailer included; capped at header_block_capacity
  size_t max_headers = 64;
  uint64_t max_body_bytes = 1 << 20;
  // Keep the final header block and the body (chunked coding removed) for
  // header() and body(). A kept body over max_kept_body_bytes (or over
  // max_body_bytes, whichever is smaller) is too_large: what is kept is
  // memory a peer chooses, so it has its own, smaller cap.
  bool keep = false;
  uint64_t max_kept_body_bytes = 64 * 1024;
};

class http_response_parser {
 public:
  void reset(http_response_limits limits = {}) noexcept;

  // done: one whole response was read; `consumed` says how many bytes of
  // `input` it took (the rest belong to the next response). need_more: every
  // byte was taken. invalid: it can never be a valid response (failure()).
  parse_status feed(std::string_view input, size_t& consumed) noexcept;
  // The peer closed the connection: done when that ends a body that runs to
  // the close, invalid otherwise (a response cut short).
  parse_status finish_at_close() noexcept;

  int status_code() const noexcept { return _status; }  // 0 until the header is read
  bool keep_alive() const noexcept { return _keep_alive; }
  uint64_t body_bytes() const noexcept { return _body_bytes; }
  http_failure failure() const noexcept { return _failure; }

  // The first field named `name` (ASCII case-insensitive) of the final
  // header, its value trimmed; nullopt before the header is read or when
  // absent. With `keep` the view is valid until reset(); without it, it views
  // the bytes the header arrived in when it arrived whole in one feed (valid
  // only while the caller keeps those bytes), the parser's own copy otherwise.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  // The body read so far, dechunked, when `keep` is set (empty otherwise,
  // and empty once the response is refused: how much of it was kept before
  // would depend on how the bytes were split); once done, body().size() ==
  // body_bytes(). Valid until the next feed or reset().
  std::string_view body() const noexcept { return _body; }

 private:
  enum class stage : uint8_t {
    header,
    body_length,
    body_until_close,
    chunk_size,
    chunk_extension,
    chunk_data,
    chunk_end,
    trailer,
    done,
    failed
  };

  parse_status read_header(std::string_view input, size_t& consumed) noexcept;
  parse_status header_complete() noexcept;
  parse_status read_body(std::string_view input, size_t& consumed) noexcept;
  bool count_body(uint64_t n) noexcept;
  bool keep_body(std::string_view bytes) noexcept;
  uint64_t body_limit() const noexcept {
    return _limits.keep && _limits.max_kept_body_bytes < _limits.max_body_bytes
               ? _limits.max_kept_body_bytes
               : _limits.max_body_bytes;
  }
  parse_status fail(http_failure why) noexcept {
    _failure = why;
    _stage = stage::failed;
    _body.clear();
    return parse_status::invalid;
  }

  header_block _block;
  http_response_limits _limits;
  std::string _kept_header;  // keep: the final header block; capacity reused across resets
  std::string _body;         // keep: the body so far, dechunked
  uint64_t _remaining = 0;   // body_length, chunk_data: bytes still to skip
  uint64_t _body_bytes = 0;  // body bytes so far (chunk payloads only, when chunked)
  uint32_t _line_bytes = 0;  // chunk size line or trailer line so far
  uint32_t _trailer_bytes = 0;
  int _status = 0;
  stage _stage = stage::header;
  http_failure _failure = http_failure::none;
  bool _keep_alive = true;
  bool _size_digits = false;  // chunk_size: a hex digit seen
  bool _chunk_cr = false;     // chunk_end: the CR seen
  bool _header_read = false;  // the final header was read and accepted
};

}  // namespace horde::proto

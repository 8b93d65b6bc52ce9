// A plain HTTP/1.1 response (RFC 9112), read incrementally from arbitrary
// splits of what the server sent: status line, headers, and a body framed by
// Content-Length, chunked transfer coding, or the connection's close. The
// body is counted and skipped, never stored: horde's REST setup calls need
// only the status. Hard limits on the header, the body and every chunk line,
// so a peer cannot make it hold or wait for more than they allow.
#pragma once

#include <cstddef>
#include <cstdint>
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
  parse_status fail(http_failure why) noexcept {
    _failure = why;
    _stage = stage::failed;
    return parse_status::invalid;
  }

  header_block _block;
  http_response_limits _limits;
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
};

}  // namespace horde::proto

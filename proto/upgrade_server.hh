// The server's side of the handshake (RFC 6455 4.2), for horde's reference
// server: an incremental parser of the client's GET, and the two answers it
// may give (101, or an HTTP error that closes the connection).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/header_block.hh"
#include "proto/parse_status.hh"

namespace horde::proto {

enum class upgrade_request_failure : uint8_t {
  none,
  malformed,  // bad request line or header line
  too_large,  // header bytes or count over the limits
  not_get,    // another method, or not HTTP/1.1
  missing_host,
  missing_upgrade,
  missing_connection,
  bad_version,  // Sec-WebSocket-Version is not 13
  bad_key,      // Sec-WebSocket-Key missing or not 16 bytes of base64
};

std::string_view to_string(upgrade_request_failure failure) noexcept;

class upgrade_request_parser {
 public:
  void reset(size_t max_header_bytes = 8192, size_t max_headers = 64) noexcept;

  // done: a complete request (check failure()); invalid: over a limit or
  // unreadable. Bytes after the blank line are not consumed.
  parse_status feed(std::string_view input, size_t& consumed) noexcept;

  upgrade_request_failure failure() const noexcept { return _failure; }
  // Views into the header: the parser's copy, or the caller's bytes when the
  // header came whole in one feed; valid until those are reused or reset().
  std::string_view key() const noexcept { return _key; }
  std::string_view path() const noexcept { return _path; }
  std::string_view subprotocols() const noexcept { return _subprotocols; }  // raw header value

 private:
  parse_status finish() noexcept;

  header_block _block;
  size_t _max_headers = 64;
  std::string_view _key, _path, _subprotocols;
  upgrade_request_failure _failure = upgrade_request_failure::none;
  parse_status _finished = parse_status::need_more;  // done or invalid once decided
};

// "HTTP/1.1 101 Switching Protocols" with the accept value for `key`.
std::string build_upgrade_response(std::string_view key, std::string_view subprotocol = {});
// An error answer with Connection: close; extra is more header lines, each
// ending in CRLF (e.g. "Retry-After: 5\r\n").
std::string build_error_response(int status, std::string_view reason, std::string_view extra = {});

}  // namespace horde::proto

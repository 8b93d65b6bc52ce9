// The server's side of the handshake (RFC 6455 4.2), for horde's reference
// server: an incremental parser of the client's request, and the answers it
// may give (101, or an HTTP error that closes the connection).
//
// The parser reads any request line and header; the upgrade checks apply to
// a GET (anything else is `not_get`, a complete request the server answers).
// With a body limit (`horde serve --sessions`) it also reads the
// Content-Length framed body of the request and says done only after it, so
// the bytes after it belong to the next request on a kept-alive connection.
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

// The body of a request when the parser reads bodies (reset's max_body_bytes
// above 0): its Content-Length must parse and be at most the limit, and no
// Transfer-Encoding may come (chunked bodies are not read): otherwise the
// request is invalid (malformed, or too_large over the limit).
inline constexpr size_t max_request_body_bytes = 64 * 1024;

std::string_view to_string(upgrade_request_failure failure) noexcept;

class upgrade_request_parser {
 public:
  // max_body_bytes 0: bodies are not read (a request ends at its blank
  // line, whatever its Content-Length says); above 0: see above.
  void reset(size_t max_header_bytes = 8192, size_t max_headers = 64,
             size_t max_body_bytes = 0) noexcept;

  // done: a complete request (check failure()); invalid: over a limit or
  // unreadable. Bytes after the blank line (after the body, when bodies are
  // read) are not consumed.
  parse_status feed(std::string_view input, size_t& consumed) noexcept;

  upgrade_request_failure failure() const noexcept { return _failure; }
  // Views into the header: the parser's copy, or the caller's bytes when the
  // header came whole in one feed and (with a body) so did the body; valid
  // until those are reused or reset(). Empty when the header had none.
  std::string_view method() const noexcept { return _method; }
  std::string_view key() const noexcept { return _key; }
  std::string_view path() const noexcept { return _path; }
  std::string_view subprotocols() const noexcept { return _subprotocols; }  // raw header value
  // Sec-WebSocket-Extensions, raw: the first such line only (a client that
  // splits its offers over several lines is answered from the first).
  std::string_view extensions() const noexcept { return _extensions; }
  std::string_view authorization() const noexcept { return _authorization; }
  // Bytes of body the request declared (read, when bodies are read).
  size_t content_length() const noexcept { return _content_length; }
  // The body read (when bodies are read and the request is done): a copy,
  // at most max_body_bytes, valid until reset().
  std::string_view body() const noexcept { return _body; }
  // False when the request said "Connection: close" (HTTP/1.1 keeps alive
  // otherwise, RFC 9112 9.3).
  bool keep_alive() const noexcept { return _keep_alive; }

 private:
  parse_status finish() noexcept;
  // The header's views move into _held: the body goes on past this feed,
  // and the caller's bytes the header was read from go with it.
  void hold_header();

  header_block _block;
  size_t _max_headers = 64;
  size_t _max_body = 0;
  size_t _content_length = 0;
  size_t _body_left = 0;  // while reading the body
  std::string _held;      // the header, when the body outlives the caller's bytes
  std::string _body;      // bounded by _max_body
  std::string_view _method, _key, _path, _subprotocols, _extensions, _authorization;
  upgrade_request_failure _failure = upgrade_request_failure::none;
  parse_status _finished = parse_status::need_more;  // done or invalid once decided
  parse_status _decided = parse_status::need_more;   // the header's verdict, while the body is read
  bool _keep_alive = true;
};

// "HTTP/1.1 101 Switching Protocols" with the accept value for `key`, and
// the subprotocol and extensions agreed (each left out when empty).
std::string build_upgrade_response(std::string_view key, std::string_view subprotocol = {},
                                   std::string_view extensions = {});
// An error answer with Connection: close; extra is more header lines, each
// ending in CRLF (e.g. "Retry-After: 5\r\n").
std::string build_error_response(int status, std::string_view reason, std::string_view extra = {});
// "HTTP/1.1 <status> <reason>" with Content-Type, Content-Length and
// Connection (keep-alive or close) and the body, appended to out.
void append_response(std::string& out, int status, std::string_view reason,
                     std::string_view content_type, std::string_view body, bool keep_alive);

}  // namespace horde::proto

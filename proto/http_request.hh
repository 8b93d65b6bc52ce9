// One HTTP/1.1 request (RFC 9112 3) written into a string, for the HTTP
// steps a scenario runs before its WebSocket (log in, fetch a token), and the
// split of an http:// or https:// URL into what the request and the connect
// need. Cold path: results carry a message naming the problem. Every field a
// caller supplies is checked before a byte is written, because captured
// values (a token from a header, a string from a JSON answer) end up in
// requests, and a CR or LF in one would inject a header.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hh"

namespace horde::proto {

struct http_url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // a name, IPv4 or IPv6 literal (without brackets)
  uint16_t port = 0;   // 80 or 443 when the URL names none
  std::string target;  // path and query ("/" when empty); the fragment is dropped

  bool tls() const noexcept { return scheme == "https"; }
  // The Host header value: the host (IPv6 in brackets) and ":port" when not
  // the scheme's default (RFC 9110 7.2).
  std::string host_header() const;
};

// "http://host:port/path?q" or "https://[::1]/x" -> parts. Refuses other
// schemes, user info, an empty host, a bad port, bytes that need
// percent-encoding; the error names which.
result<http_url> parse_http_url(std::string_view url);

struct http_request_spec {
  std::string_view method = "GET";
  std::string_view target = "/";  // origin-form: path and query
  std::string_view host;          // the Host header value (http_url::host_header())
  // Extra "Name: value" lines. Host, Content-Length and Transfer-Encoding are
  // written from the fields here and refused in these lines; a Connection
  // line replaces the one keep_alive would write.
  std::span<const std::string_view> headers = {};
  std::string_view body = {};
  bool keep_alive = true;  // "Connection: keep-alive", else "Connection: close"
};

// Checks every field: method a token, target printable ASCII starting with
// '/' (or "*"), host non-empty without spaces or controls, each header line a
// token name and a value without CR, LF, NUL or other controls (HTAB allowed).
result<void> check_http_request(const http_request_spec& spec);

// Checks (as above), then appends the request to `out` (cleared first; its
// capacity is reused). Content-Length is written for any body, and for an
// empty one except on GET, HEAD, DELETE, OPTIONS and TRACE, whose empty
// request has no content to frame (RFC 9110 8.6: servers may ask for a
// length on POST, never on GET).
result<void> build_http_request(const http_request_spec& spec, std::string& out);

}  // namespace horde::proto

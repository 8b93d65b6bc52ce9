// The client's opening handshake (RFC 6455 4.1), rendered once per target into
// a template whose only per-connection part is Sec-WebSocket-Key: a connect
// copies the template into its out-buffer and writes 24 key characters, no
// formatting and no allocation on the connect path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hh"
#include "proto/accept_key.hh"

namespace horde::proto {

struct upgrade_target {
  std::string host;  // name or address as the user wrote it (IPv6 without brackets)
  uint16_t port = 80;
  bool secure = false;         // wss: default port 443
  std::string path_and_query;  // "/chat?room=1"; empty means "/"
};

struct upgrade_options {
  std::vector<std::string> subprotocols;                     // offered in this order
  std::string origin;                                        // empty: no Origin header
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization: Bearer ...
  std::string extensions;  // Sec-WebSocket-Extensions (a permessage-deflate offer); empty: none
};

class upgrade_request_template {
 public:
  // Checks every piece (no CR, LF or NUL anywhere; header names are HTTP
  // tokens; headers horde writes itself may not be overridden) and renders.
  static result<upgrade_request_template> make(const upgrade_target& target,
                                               const upgrade_options& options);

  upgrade_request_template() = default;

  size_t size() const noexcept { return _text.size(); }
  // Writes size() bytes to out with `key` (ws_key_length characters) in place.
  void write(char* out, std::string_view key) const noexcept;
  std::string render(std::string_view key) const;
  // The request around the key: what comes before it and after it (a
  // scenario renders per-connection {variables} in each).
  std::string_view before_key() const noexcept {
    return std::string_view(_text).substr(0, _key_offset);
  }
  std::string_view after_key() const noexcept {
    return std::string_view(_text).substr(_key_offset + ws_key_length);
  }

 private:
  std::string _text;  // with a blank where the key goes
  size_t _key_offset = 0;
};

}  // namespace horde::proto

#include "proto/upgrade_request.hh"

#include <algorithm>
#include <cstring>

#include "proto/http_token.hh"

namespace horde::proto {
namespace {

bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Headers the handshake itself depends on: a user's copy would contradict ours.
bool is_reserved_header(std::string_view name) {
  static constexpr std::string_view reserved[] = {"host",
                                                  "upgrade",
                                                  "connection",
                                                  "sec-websocket-key",
                                                  "sec-websocket-version",
                                                  "sec-websocket-protocol",
                                                  "sec-websocket-extensions",
                                                  "content-length",
                                                  "transfer-encoding"};
  return std::any_of(std::begin(reserved), std::end(reserved),
                     [&](std::string_view r) { return equals_ignore_case(name, r); });
}

}  // namespace

result<upgrade_request_template> upgrade_request_template::make(const upgrade_target& target,
                                                                const upgrade_options& options) {
  if (target.host.empty()) return make_error("the target has no host");
  if (has_control_characters(target.host) || target.host.find(' ') != std::string::npos) {
    return make_error("the host name contains a space or control character");
  }
  std::string path = target.path_and_query.empty() ? "/" : target.path_and_query;
  if (path.front() != '/') path.insert(path.begin(), '/');
  if (has_control_characters(path) || path.find(' ') != std::string::npos) {
    return make_error("the path contains a space or control character; percent-encode it");
  }
  for (const auto& protocol : options.subprotocols) {
    if (protocol.empty() || !is_token(protocol)) {
      return make_error("subprotocol '" + protocol + "' is not an HTTP token");
    }
  }
  if (has_control_characters(options.origin)) return make_error("the Origin contains a line break");
  if (has_control_characters(options.extensions)) {
    return make_error("the extension offer contains a line break");
  }
  for (const auto& [name, value] : options.headers) {
    if (name.empty() || !is_token(name))
      return make_error("header name '" + name + "' is not an HTTP token");
    if (has_control_characters(value))
      return make_error("header '" + name + "' has a line break in its value");
    if (is_reserved_header(name)) {
      return make_error("header '" + name + "' is written by horde itself and cannot be set");
    }
  }

  upgrade_request_template t;
  std::string& s = t._text;
  s.reserve(256);
  s += "GET " + path + " HTTP/1.1\r\nHost: ";
  const bool ipv6_literal = target.host.find(':') != std::string::npos;
  if (ipv6_literal) s += '[';
  s += target.host;
  if (ipv6_literal) s += ']';
  const uint16_t default_port = target.secure ? 443 : 80;
  if (target.port != default_port) s += ":" + std::to_string(target.port);
  s += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  t._key_offset = s.size();
  s.append(ws_key_length, '?');
  s += "\r\nSec-WebSocket-Version: 13\r\n";
  if (!options.subprotocols.empty()) {
    s += "Sec-WebSocket-Protocol: ";
    for (size_t i = 0; i < options.subprotocols.size(); ++i) {
      if (i > 0) s += ", ";
      s += options.subprotocols[i];
    }
    s += "\r\n";
  }
  if (!options.extensions.empty()) s += "Sec-WebSocket-Extensions: " + options.extensions + "\r\n";
  if (!options.origin.empty()) s += "Origin: " + options.origin + "\r\n";
  for (const auto& [name, value] : options.headers)
    s += name + ": " + value + "\r\n";
  s += "\r\n";
  return t;
}

void upgrade_request_template::write(char* out, std::string_view key) const noexcept {
  std::memcpy(out, _text.data(), _text.size());
  std::memcpy(out + _key_offset, key.data(), std::min(key.size(), ws_key_length));
}

std::string upgrade_request_template::render(std::string_view key) const {
  std::string out(_text.size(), '\0');
  write(out.data(), key);
  return out;
}

}  // namespace horde::proto

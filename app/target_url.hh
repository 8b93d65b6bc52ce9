// ws:// and wss:// URLs, as a user types them on the command line.
#pragma once

#include <cstdint>
#include <string>

#include "core/plan.hh"

#include "base/result.hh"

namespace horde::app {

struct target_url {
  bool secure = false;
  std::string host;  // IPv6 literals without brackets
  uint16_t port = 0;
  std::string path_and_query = "/";
};

// Accepts ws://host[:port][/path][?query] and wss://...; fragments are refused
// (RFC 6455 3: a WebSocket URI has none).
result<target_url> parse_target_url(const std::string& text);

// The same for http://host[:port][/path] (plain HTTP only: REST setup calls).
result<target_url> parse_http_url(const std::string& text);

// The host's first address (getaddrinfo), with the port.
result<core::endpoint> resolve(const std::string& host, uint16_t port);

// A dotted IPv4 address and a port, without a lookup.
result<core::endpoint> ipv4_endpoint(const std::string& address, uint16_t port);
// 127.0.0.0/8.
bool is_ipv4_loopback(const core::endpoint& e) noexcept;

}  // namespace horde::app

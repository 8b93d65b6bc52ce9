#include "app/target_url.hh"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <cstring>

namespace horde::app {

result<target_url> parse_target_url(const std::string& text) {
  target_url url;
  std::string rest;
  if (text.rfind("ws://", 0) == 0) {
    rest = text.substr(5);
  } else if (text.rfind("wss://", 0) == 0) {
    url.secure = true;
    rest = text.substr(6);
  } else {
    return make_error("'" + text +
                      "' is not a WebSocket URL: expected ws://host:port/path or wss://...");
  }
  if (rest.find('#') != std::string::npos) {
    return make_error("'" + text + "': WebSocket URLs have no #fragment (RFC 6455 3)");
  }
  const size_t path_start = rest.find_first_of("/?");
  std::string authority = rest.substr(0, path_start);
  if (path_start != std::string::npos) {
    url.path_and_query = rest.substr(path_start);
    if (url.path_and_query[0] == '?') url.path_and_query = "/" + url.path_and_query;
  }
  if (authority.find('@') != std::string::npos) {
    return make_error("'" + text +
                      "': user:password@ in the URL is not supported; use -H 'Authorization: ...'");
  }
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return make_error("'" + text + "': unclosed [ in IPv6 address");
    url.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return make_error("'" + text + "': junk after ]");
      port_text = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return make_error("'" + text + "': no host");
  url.port = url.secure ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return make_error("'" + text + "': bad port '" + port_text + "'");
    }
    url.port = uint16_t(value);
  }
  return url;
}

result<target_url> parse_http_url(const std::string& text) {
  if (text.rfind("http://", 0) != 0) {
    return make_error("'" + text + "' is not a plain HTTP URL: expected http://host:port/path");
  }
  // Same authority and path syntax as ws:// (RFC 6455 3 borrows it).
  auto url = parse_target_url("ws://" + text.substr(7));
  if (!url) return make_error(url.error().message);
  return url;
}

result<core::endpoint> resolve(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) return make_error("cannot resolve '" + host + "': " + gai_strerror(rc));
  core::endpoint out;
  std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
  out.length = found->ai_addrlen;
  freeaddrinfo(found);
  return out;
}

result<core::endpoint> ipv4_endpoint(const std::string& address, uint16_t port) {
  core::endpoint out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) != 1) {
    return make_error("'" + address + "' is not an IPv4 address");
  }
  out.length = sizeof(sockaddr_in);
  return out;
}

bool is_ipv4_loopback(const core::endpoint& e) noexcept {
  if (e.family() != AF_INET) return false;
  return (ntohl(reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_addr.s_addr) >> 24) == 127;
}

}  // namespace horde::app

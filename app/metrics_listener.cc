#include "app/metrics_listener.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

namespace horde::app {
namespace {

constexpr size_t max_request_bytes = 8192;
constexpr int read_timeout_seconds = 2;

struct parsed_address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

result<parsed_address> parse_listen_address(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    return make_error("--metrics-listen '" + text + "': give ADDRESS:PORT, e.g. 127.0.0.1:9464");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return make_error("--metrics-listen '" + text + "': the port is not a number from 0 to 65535");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  parsed_address out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(uint16_t(port));
    out.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(uint16_t(port));
    out.length = sizeof(sockaddr_in6);
  } else {
    return make_error("--metrics-listen '" + text + "': '" + host +
                      "' is not an IPv4 or IPv6 address");
  }
  return out;
}

void send_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(size_t(n));
  }
}

void respond(int fd, std::string_view status, std::string_view type, std::string_view body,
             bool head) noexcept {
  const std::string header = fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", status,
      type, body.size());
  send_all(fd, header);
  if (!head) send_all(fd, body);
}

}  // namespace

result<uint16_t> metrics_listener::start(const std::string& address) {
  auto parsed = parse_listen_address(address);
  if (!parsed) return parsed.error();
  const int fd = ::socket(parsed->storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(fmt::format("--metrics-listen: socket: {}", std::strerror(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&parsed->storage), parsed->length) != 0 ||
      ::listen(fd, 16) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(fmt::format("--metrics-listen {}: {}", address, std::strerror(e)));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const uint16_t port = bound.ss_family == AF_INET6
                            ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  _listen_fd = fd;
  _thread = std::thread([this] { serve(); });
  return port;
}

void metrics_listener::publish(std::string text) {
  auto shared = std::make_shared<const std::string>(std::move(text));
  std::lock_guard lock(_mutex);
  _text = std::move(shared);
}

void metrics_listener::stop() {
  if (!_thread.joinable()) return;
  _stopping.store(true, std::memory_order_relaxed);
  _thread.join();
  ::close(_listen_fd);
  _listen_fd = -1;
}

void metrics_listener::serve() noexcept {
  // Polled with a short timeout so stop() is seen without a self-pipe.
  while (!_stopping.load(std::memory_order_relaxed)) {
    pollfd p{_listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const timeval timeout{read_timeout_seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    answer(fd);
    ::close(fd);
  }
}

void metrics_listener::answer(int fd) noexcept {
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (request.size() >= max_request_bytes) {
      respond(fd, "431 Request Header Fields Too Large", "text/plain", "request too large\n",
              false);
      return;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // closed, or 2 s passed
    request.append(buffer, size_t(n));
  }
  const std::string_view line(request.data(), request.find("\r\n"));
  const bool head = line.starts_with("HEAD ");
  if (!line.starts_with("GET ") && !head) {
    respond(fd, "405 Method Not Allowed", "text/plain", "GET /metrics\n", false);
    return;
  }
  const std::string_view rest = line.substr(head ? 5 : 4);
  const std::string_view path = rest.substr(0, rest.find(' '));
  if (path != "/metrics" && !path.starts_with("/metrics?")) {
    respond(fd, "404 Not Found", "text/plain", "horde serves /metrics\n", head);
    return;
  }
  std::shared_ptr<const std::string> text;
  {
    std::lock_guard lock(_mutex);
    text = _text;
  }
  respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", *text, head);
}

}  // namespace horde::app

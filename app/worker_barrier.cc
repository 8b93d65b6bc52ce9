#include "app/worker_barrier.hh"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/clock.hh"

namespace horde::app {
namespace {

constexpr size_t max_request = 512;

void set_timeouts(int fd) {
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Reads until the blank line, the size limit, EOF or the timeout.
std::string read_some(int fd) {
  std::string in;
  char buf[256];
  while (in.size() < max_request && in.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, max_request - in.size()), 0);
    if (n <= 0) break;
    in.append(buf, size_t(n));
  }
  return in;
}

void send_all(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += size_t(n);
  }
}

// One question to worker 0: true when it answers 200 (every worker ready).
bool ask_once(const std::string& host, const std::string& port, uint32_t index) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr)
    return false;
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool open = false;
  if (fd >= 0) {
    set_timeouts(fd);
    if (::connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
      send_all(fd, "GET /ready/" + std::to_string(index) + " HTTP/1.0\r\n\r\n");
      open = read_some(fd).rfind("HTTP/1.0 200", 0) == 0;
    }
    ::close(fd);
  }
  freeaddrinfo(found);
  return open;
}

}  // namespace

int64_t barrier_request_index(const std::string& request, uint32_t count) {
  const std::string prefix = "GET /ready/";
  if (request.rfind(prefix, 0) != 0) return -1;
  size_t i = prefix.size();
  uint64_t value = 0;
  size_t digits = 0;
  while (i < request.size() && request[i] >= '0' && request[i] <= '9' && digits < 9) {
    value = value * 10 + uint64_t(request[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0 || i >= request.size() || request[i] != ' ' || value >= count) return -1;
  return int64_t(value);
}

result<void> worker_barrier::start(const std::string& address, uint32_t index, uint32_t count,
                                   uint32_t shards, core::pubsub_shared& shared) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return make_error("--barrier '" + address + "': expected HOST:PORT, e.g. horde-0.horde:7000");
  _host = address.substr(0, colon);
  if (_host.size() > 2 && _host.front() == '[' && _host.back() == ']')
    _host = _host.substr(1, _host.size() - 2);
  _port = address.substr(colon + 1);
  const int port = std::atoi(_port.c_str());
  if (port <= 0 || port > 65535) return make_error("--barrier: bad port '" + _port + "'");
  _index = index;
  _count = count;
  _shards = shards;
  _shared = &shared;
  shared.workers_ready.store(false, std::memory_order_release);
  if (index == 0) {
    _listen_fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int off = 0, on = 1;
    setsockopt(_listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);  // IPv4 too
    setsockopt(_listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    any.sin6_port = htons(uint16_t(port));
    if (_listen_fd < 0 || ::bind(_listen_fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 ||
        ::listen(_listen_fd, 1024) != 0) {
      return make_error("--barrier: worker 0 cannot listen on port " + _port + ": " +
                        std::strerror(errno));
    }
    _ready.assign(count, 0);
    _server = std::thread([this] { serve(); });
  }
  _asker = std::thread([this] { ask(); });
  return {};
}

void worker_barrier::serve() noexcept {
  while (!_stopping.load(std::memory_order_relaxed)) {
    pollfd p{_listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    set_timeouts(fd);
    const int64_t asked = barrier_request_index(read_some(fd), _count);
    if (asked >= 0) _ready[size_t(asked)] = 1;
    bool all = asked >= 0;
    for (uint8_t r : _ready)
      all = all && r != 0;
    send_all(fd, asked < 0 ? "HTTP/1.0 400 Bad Request\r\n\r\nGET /ready/INDEX\n"
                 : all     ? "HTTP/1.0 200 OK\r\n\r\ngo\n"
                           : "HTTP/1.0 503 Service Unavailable\r\n\r\nwait\n");
    ::close(fd);
  }
}

void worker_barrier::ask() noexcept {
  // First this worker's own subscriptions, then the others'.
  while (!_stopping.load(std::memory_order_relaxed) &&
         _shared->shards_subscribed.load(std::memory_order_acquire) < _shards)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  while (!_stopping.load(std::memory_order_relaxed)) {
    if (ask_once(_host, _port, _index)) {
      _opened_ns.store(core::now_ns(), std::memory_order_release);
      _shared->workers_ready.store(true, std::memory_order_release);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void worker_barrier::stop() {
  _stopping.store(true, std::memory_order_relaxed);
  if (_asker.joinable()) _asker.join();
  if (_server.joinable()) _server.join();
  if (_listen_fd >= 0) ::close(_listen_fd);
  _listen_fd = -1;
}

}  // namespace horde::app

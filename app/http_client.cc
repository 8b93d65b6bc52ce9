#include "app/http_client.hh"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/clock.hh"

namespace horde::app {

std::string_view to_string(http_error error) noexcept {
  switch (error) {
    case http_error::none:
      return "none";
    case http_error::connect:
      return "connect";
    case http_error::timeout:
      return "timeout";
    case http_error::closed:
      return "closed";
    case http_error::malformed:
      return "malformed";
    case http_error::io:
      return "io";
  }
  return "unknown";
}

void http_connection::close() noexcept {
  if (_fd >= 0) ::close(_fd);
  _fd = -1;
}

http_error http_connection::wait(short events, uint64_t deadline_ns) {
  for (;;) {
    const uint64_t now = core::now_ns();
    if (now >= deadline_ns) return http_error::timeout;
    pollfd p{_fd, events, 0};
    const int ms = int((deadline_ns - now + 999'999) / 1'000'000);
    const int rc = ::poll(&p, 1, ms);
    if (rc > 0) return http_error::none;
    if (rc < 0 && errno != EINTR) return http_error::io;
  }
}

http_error http_connection::connect(uint64_t deadline_ns) {
  _fd = ::socket(_server.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (_fd < 0) return http_error::io;
  const int one = 1;
  ::setsockopt(_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(_fd, _server.address(), _server.length) == 0) return http_error::none;
  if (errno != EINPROGRESS) return http_error::connect;
  if (http_error e = wait(POLLOUT, deadline_ns); e != http_error::none) return e;
  int error = 0;
  socklen_t size = sizeof error;
  ::getsockopt(_fd, SOL_SOCKET, SO_ERROR, &error, &size);
  return error == 0 ? http_error::none : http_error::connect;
}

http_error http_connection::send_all(std::string_view bytes, uint64_t deadline_ns) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(size_t(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (http_error e = wait(POLLOUT, deadline_ns); e != http_error::none) return e;
    } else {
      return errno == EPIPE || errno == ECONNRESET ? http_error::closed : http_error::io;
    }
  }
  return http_error::none;
}

http_connection::answer http_connection::post(std::string_view path, std::string_view body) {
  _request.clear();
  _request.append("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(_host);
  _request.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  _request.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return send(_request, false);
}

http_connection::answer http_connection::send(std::string_view request, bool keep) {
  _limits.keep = keep;
  const bool reused = _fd >= 0;
  answer a = exchange(request);
  // A kept-alive connection may have been closed by the server while idle:
  // that is no answer to this request, so it gets one fresh try.
  if (reused && a.error == http_error::closed && !_answer_started) a = exchange(request);
  return a;
}

http_connection::answer http_connection::exchange(std::string_view request) {
  const uint64_t deadline = core::now_ns() + _timeout_ns;
  answer a;
  auto failed = [&](http_error e) {
    close();
    a.error = e;
    return a;
  };
  if (_fd < 0) {
    if (http_error e = connect(deadline); e != http_error::none) return failed(e);
  }
  if (http_error e = send_all(request, deadline); e != http_error::none) return failed(e);
  _parser.reset(_limits);
  _answer_started = false;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(_fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (http_error e = wait(POLLIN, deadline); e != http_error::none) return failed(e);
      continue;
    }
    if (n < 0) return failed(errno == ECONNRESET ? http_error::closed : http_error::io);
    proto::parse_status status;
    _answer_started = _answer_started || n > 0;
    if (n == 0) {
      status = _parser.finish_at_close();
      if (status != proto::parse_status::done) return failed(http_error::closed);
      close();
    } else {
      size_t used = 0;
      status = _parser.feed(std::string_view(buffer, size_t(n)), used);
      if (status == proto::parse_status::invalid) return failed(http_error::malformed);
      if (status == proto::parse_status::need_more) continue;
      // Bytes after a complete answer were never asked for: the connection
      // is out of step, so it is not reused.
      if (used != size_t(n) || !_parser.keep_alive()) close();
    }
    a.status = _parser.status_code();
    return a;
  }
}

}  // namespace horde::app

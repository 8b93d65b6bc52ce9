// One blocking HTTP/1.1 keep-alive connection for horde's REST setup calls
// (cold path: before any WebSocket opens). Every call has a deadline; the
// answer is read with proto::http_response_parser's limits, so a slow or
// hostile server costs at most the timeout and the limits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/plan.hh"
#include "proto/http_response.hh"

namespace horde::app {

enum class http_error : uint8_t {
  none,
  connect,    // refused, unreachable, ...
  timeout,    // connect, send or answer past the deadline
  closed,     // the server closed before a complete answer
  malformed,  // an answer proto::http_response_parser refused
  io,         // any other socket error
};

std::string_view to_string(http_error error) noexcept;

class http_connection {
 public:
  http_connection(const core::endpoint& server, std::string host_header, uint64_t timeout_ns)
      : _server(server), _host(std::move(host_header)), _timeout_ns(timeout_ns) {}
  ~http_connection() { close(); }
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  struct answer {
    http_error error = http_error::none;
    int status = 0;  // when error is none
  };
  // POSTs `body` (Content-Type: application/json) to `path`, connecting
  // first when needed. A kept-alive connection the server closed meanwhile
  // (closed before any answer byte) is retried once on a fresh one.
  answer post(std::string_view path, std::string_view body);
  // Sends a whole request (proto::build_http_request's) and reads its
  // answer, retried once as post is. keep: the answer's header and body are
  // kept (up to the parser's limits) for answer_parser().
  answer send(std::string_view request, bool keep);
  // The last answer read, with keep: its header() and body().
  const proto::http_response_parser& answer_parser() const noexcept { return _parser; }

 private:
  answer exchange(std::string_view request);
  http_error connect(uint64_t deadline_ns);
  http_error send_all(std::string_view bytes, uint64_t deadline_ns);
  http_error wait(short events, uint64_t deadline_ns);
  void close() noexcept;

  core::endpoint _server;
  std::string _host;
  uint64_t _timeout_ns;
  int _fd = -1;
  bool _answer_started = false;  // some answer bytes arrived for the request in flight
  std::string _request;
  proto::http_response_parser _parser;
  proto::http_response_limits _limits;
};

}  // namespace horde::app

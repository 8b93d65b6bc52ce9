// `--metrics-listen ADDRESS:PORT`: a small HTTP/1.1 server on its own
// thread that answers GET /metrics with the latest exposition the
// controller published (app/prometheus_text.hh), once a second. It is not on
// the shards: blocking reads with timeouts are fine here. Bounded: one
// connection at a time, a request of at most 8 KiB, 2 s to send it, and
// every answer closes the connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.hh"

namespace horde::app {

class metrics_listener {
 public:
  metrics_listener() = default;
  ~metrics_listener() { stop(); }
  metrics_listener(const metrics_listener&) = delete;
  metrics_listener& operator=(const metrics_listener&) = delete;

  // Listens on "127.0.0.1:9464", "0.0.0.0:0" or "[::1]:9464" (port 0: the
  // kernel picks) and starts serving; returns the port bound.
  result<uint16_t> start(const std::string& address);
  // The body the next scrape gets.
  void publish(std::string text);
  void stop();

 private:
  void serve() noexcept;
  void answer(int fd) noexcept;

  int _listen_fd = -1;
  std::atomic<bool> _stopping{false};
  std::thread _thread;
  std::mutex _mutex;
  std::shared_ptr<const std::string> _text = std::make_shared<const std::string>();
};

}  // namespace horde::app

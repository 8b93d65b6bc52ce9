// --barrier HOST:PORT: pub/sub across workers publishes only once every
// worker's subscriptions are in force. Worker 0 listens on PORT (any
// address); every worker (0 too), once its own shards have subscribed, asks
// `GET /ready/i` until the answer is 200 (all N have asked) instead of 503.
// Then it lets its shards publish (pubsub_shared::workers_ready). Blocking
// sockets on two threads of their own, every read and connect bounded (1 s),
// requests of at most 512 bytes; it ends with the run (stop()).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hh"
#include "core/plan.hh"

namespace horde::app {

// "GET /ready/7 HTTP/1.0...": the worker index asked for, or -1.
int64_t barrier_request_index(const std::string& request, uint32_t count);

class worker_barrier {
 public:
  worker_barrier() = default;
  ~worker_barrier() { stop(); }
  worker_barrier(const worker_barrier&) = delete;
  worker_barrier& operator=(const worker_barrier&) = delete;

  // Worker 0 binds the port now (so the others find it); every worker
  // starts asking once shared.shards_subscribed reaches `shards`.
  result<void> start(const std::string& address, uint32_t index, uint32_t count, uint32_t shards,
                     core::pubsub_shared& shared);
  void stop();
  // When the barrier opened here (monotonic ns), 0 if it has not.
  uint64_t opened_ns() const noexcept { return _opened_ns.load(std::memory_order_acquire); }

 private:
  void serve() noexcept;
  void ask() noexcept;

  std::string _host;
  std::string _port;
  uint32_t _index = 0, _count = 1, _shards = 1;
  core::pubsub_shared* _shared = nullptr;
  int _listen_fd = -1;
  std::vector<uint8_t> _ready;  // worker 0: who has asked (serve thread only)
  std::atomic<bool> _stopping{false};
  std::atomic<uint64_t> _opened_ns{0};
  std::thread _server, _asker;
};

}  // namespace horde::app

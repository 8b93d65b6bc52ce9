// One shard of the reference server (`horde serve`): a SO_REUSEPORT listener
// of its own, multishot accept straight into its direct-descriptor table (the
// table slot is the connection slot), the server side of the upgrade, and
// wslay in server mode. Echo mode sends every text or binary message back
// as it came. Runs until the stop flag is set.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "base/result.hh"
#include "core/plan.hh"

namespace horde::core {

// Counters the server keeps per shard (single writer, read by the controller).
struct alignas(64) server_counters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> upgraded{0};
  std::atomic<uint64_t> open_now{0};
  std::atomic<uint64_t> rejected{0};       // bad upgrade requests
  std::atomic<uint64_t> accept_errors{0};  // e.g. the direct-descriptor table is full
  std::atomic<uint64_t> messages_in{0};
  std::atomic<uint64_t> messages_out{0};
  std::atomic<uint64_t> protocol_errors{0};
  // The broker.
  std::atomic<uint64_t> subscribes{0};
  std::atomic<uint64_t> unsubscribes{0};
  std::atomic<uint64_t> publishes{0};
  std::atomic<uint64_t> deliveries{0};             // frames queued to subscribers
  std::atomic<uint64_t> deliveries_dropped{0};     // drop_every (testing)
  std::atomic<uint64_t> deliveries_duplicated{0};  // duplicate_every (testing)
  std::atomic<uint64_t> slow_consumers{0};         // disconnected over max_out_bytes
  std::atomic<uint64_t> command_errors{0};         // malformed or unknown commands
  std::atomic<uint64_t> groups{0};                 // groups this shard knows now
  std::atomic<uint64_t> subscriptions{0};          // subscriptions this shard holds now
};

// Opens a listening socket bound with SO_REUSEADDR|SO_REUSEPORT; the port of
// `where` may be 0 (kernel picks). Returns the fd.
result<int> open_listener(const endpoint& where, int backlog);

// The port a listener got.
uint16_t listener_port(int fd) noexcept;

class server_shard {
 public:
  server_shard(const server_plan& plan, uint32_t index, int listen_fd, server_counters& counters,
               const std::atomic<bool>& stop);
  ~server_shard();
  server_shard(const server_shard&) = delete;
  server_shard& operator=(const server_shard&) = delete;

  result<void> run();

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

}  // namespace horde::core

// One client shard: a thread's worth of connections (ids i with
// i % shards == index), its own io_uring, direct-descriptor table, buffer
// ring, timer wheel, port allocator, wslay contexts and metrics. Nothing in it
// is touched by another thread except the metrics, which the controller reads.
//
// A connection's life: socket -> setsockopt(SO_REUSEADDR) -> bind(src, port)
// -> connect -> send(upgrade request), linked in one submission; then a
// multishot recv; the 101 is verified; messages are sent on an open-loop
// schedule and their echoes timed from the *scheduled* time; at the end of
// the run a close handshake, then close of the descriptor.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "base/result.hh"
#include "core/metrics.hh"
#include "core/plan.hh"

namespace horde::core {

// What the controller tells running shards, and how shards start together.
// Shards set themselves up (ring, buffers, TLS), say they are ready, and wait
// for the start time: the controller samples memory in between, so memory per
// connection excludes the fixed cost of setup, as an outside observer sees it.
struct shard_control {
  std::atomic<bool> stop{false};      // end the run: drain, close cleanly
  std::atomic<bool> abort{false};     // end it now: no drain, no close handshakes
  std::atomic<uint32_t> ready{0};     // shards set up (or failed to)
  std::atomic<uint64_t> start_ns{0};  // 0 until the controller says go
};

class client_shard {
 public:
  // metrics: one per target (plan.targets), each connection's own counted in
  // its target's; what belongs to no connection goes in metrics[0].
  client_shard(const client_plan& plan, uint32_t index, std::span<shard_metrics* const> metrics,
               shard_control& control);
  ~client_shard();
  client_shard(const client_shard&) = delete;
  client_shard& operator=(const client_shard&) = delete;

  // Runs the shard to completion in the calling thread (which must be the
  // shard's own: the ring is created here).
  result<void> run();

  // How many connections this shard owns.
  static uint64_t share(uint64_t connections, uint32_t shards, uint32_t index) noexcept {
    return connections / shards + (index < connections % shards ? 1 : 0);
  }

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

}  // namespace horde::core

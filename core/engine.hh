// Starting and stopping shards. Each shard is a thread pinned to its CPU
// that makes its own heap, then its own ring; the controller (the caller's
// thread) only reads shard metrics and sets the stop flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hh"
#include "core/client_shard.hh"
#include "core/metrics.hh"
#include "core/plan.hh"
#include "core/server_shard.hh"

namespace horde::core {

class client_engine {
 public:
  explicit client_engine(const client_plan& plan);
  ~client_engine();
  client_engine(const client_engine&) = delete;
  client_engine& operator=(const client_engine&) = delete;

  // Starts every shard's setup (rings, buffers); each waits for go().
  void start();
  // Waits until every shard is set up (or failed), at most timeout_ns;
  // false if some were not.
  bool wait_ready(uint64_t timeout_ns) const;
  // The run's clock starts at start_ns for every shard.
  void go(uint64_t start_ns) noexcept {
    _control.start_ns.store(start_ns == 0 ? 1 : start_ns, std::memory_order_release);
  }
  // Shards end their runs early: stop sending, close, and return.
  void request_stop() noexcept { _control.stop.store(true, std::memory_order_relaxed); }
  // Shards end now: every connection is torn down without a close handshake.
  void request_abort() noexcept {
    _control.abort.store(true, std::memory_order_relaxed);
    request_stop();
  }
  // Each shard's loop turns so far: a shard whose count stops moving is stuck.
  std::vector<uint64_t> loop_turns() const;
  bool running() const noexcept { return _running.load(std::memory_order_acquire) > 0; }
  // A consistent-enough copy of every shard's metrics, merged.
  void snapshot(metrics_snapshot& out) const;
  // The same, of the connections to one target (plan.targets[target]).
  void snapshot_target(size_t target, metrics_snapshot& out) const;
  // Waits for all shards; returns the errors any of them hit.
  std::vector<std::string> join();

 private:
  const client_plan& _plan;
  std::vector<std::unique_ptr<shard_metrics>> _metrics;  // per shard: its first target's
  // Per shard, one per target (the first is _metrics[shard]).
  std::vector<std::vector<shard_metrics*>> _by_target;
  std::vector<std::unique_ptr<shard_metrics>> _more_targets;
  std::vector<std::thread> _threads;
  shard_control _control;
  std::atomic<int> _running{0};
  std::mutex _errors_lock;  // cold: taken only when a shard fails
  std::vector<std::string> _errors;
};

struct server_totals {
  uint64_t accepted = 0, upgraded = 0, open_now = 0, rejected = 0, accept_errors = 0,
           messages_in = 0, messages_out = 0, protocol_errors = 0, subscribes = 0, unsubscribes = 0,
           publishes = 0, deliveries = 0, deliveries_dropped = 0, deliveries_duplicated = 0,
           slow_consumers = 0, command_errors = 0, groups = 0, subscriptions = 0, tls_full = 0,
           tls_resumed = 0, tls_failed = 0;
  // --sessions and --drop-at (core/server_shard.hh).
  uint64_t sessions_issued = 0, sessions_refused = 0, upgrades_unauthorized = 0,
           requests_not_found = 0, mass_dropped = 0;
  uint64_t http_publishes = 0, http_publishes_refused = 0;  // POST /publish/G
  uint64_t compressed_upgrades = 0, bytes_before_compression = 0, bytes_compressed = 0,
           bytes_before_inflation = 0, bytes_inflated = 0;  // --compression accept
  tls_values tls_failures;  // every distinct (reason, text) a handshake failed with
};

class server_engine {
 public:
  server_engine() = default;
  ~server_engine();
  server_engine(const server_engine&) = delete;
  server_engine& operator=(const server_engine&) = delete;

  // Opens one SO_REUSEPORT listener per shard and starts the shards; returns
  // the port listened on (the kernel's pick when the plan's port is 0).
  result<uint16_t> start(const server_plan& plan);
  void stop();
  server_totals totals() const;
  std::vector<std::string> errors();

 private:
  server_plan _plan;
  std::vector<int> _listeners;
  std::vector<std::unique_ptr<server_counters>> _counters;
  std::vector<std::thread> _threads;
  std::atomic<bool> _stop{false};
  std::mutex _errors_lock;
  std::vector<std::string> _errors;
};

}  // namespace horde::core

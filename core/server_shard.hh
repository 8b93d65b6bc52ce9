// One shard of the reference server (`horde serve`): a SO_REUSEPORT listener
// of its own, multishot accept straight into its direct-descriptor table (the
// table slot is the connection slot), the server side of the upgrade, and
// wslay in server mode. Echo mode sends every text or binary message back
// as it came, except the pub/sub commands of docs/pubsub.md, which the
// shard's broker answers. Runs until the stop flag is set.
//
// Pub/sub across shards: SO_REUSEPORT spreads a group's subscribers over
// every shard, and each shard knows only its own (core/broker.hh). A publish
// is delivered to the local subscribers at once and forwarded to every other
// shard that may have subscribers of the group (its interest map says so),
// through the publish ring of that (from, to) pair, which keeps the order the
// publishing shard read them in. Forwards are made visible once per loop
// turn, and each destination that got some is woken once per turn by an
// IORING_OP_MSG_RING completion posted into its ring.
//
// Sessions (`--sessions`, proto/session_issuer.hh): a connection reads one
// request at a time, header and Content-Length body both bounded; POST
// /sessions is answered 201 and the parser reset for the next request on the
// same connection (bytes already read after it are that request's); an
// upgrade must carry a Bearer JWT this server issued (401 and close
// otherwise).
//
// Mass drop (`--drop-at`): the first accept on any shard starts the clock
// (server_mesh::note_accept); at the deadline every shard, on its next loop
// turn (its wait is cut short to reach it), closes its share of open
// WebSocket connections, spread evenly over its slots.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.hh"
#include "core/metrics.hh"
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
  // --tls-cert: handshakes finished (full or resumed) and failed.
  std::atomic<uint64_t> tls_full{0};
  std::atomic<uint64_t> tls_resumed{0};
  std::atomic<uint64_t> tls_failed{0};
  tls_counters tls_failures;  // each distinct (reason, OpenSSL's text), as on the client
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
  // --sessions.
  std::atomic<uint64_t> sessions_issued{0};        // POST /sessions answered 201
  std::atomic<uint64_t> sessions_refused{0};       // POST /sessions refused (body, framing)
  std::atomic<uint64_t> upgrades_unauthorized{0};  // upgrades answered 401
  std::atomic<uint64_t> requests_not_found{0};     // other requests, answered 404
  // POST /publish/G (proto/broker_protocol.hh): publishes taken (202), and
  // refused (a bad group 404, a body over the limit 413, unreadable 400).
  std::atomic<uint64_t> http_publishes{0};
  std::atomic<uint64_t> http_publishes_refused{0};
  // --drop-at.
  std::atomic<uint64_t> mass_dropped{0};
  // --compression accept: upgrades that agreed permessage-deflate, and the
  // codec's bytes each way (mirrored from the shard's deflate state once a
  // loop turn).
  std::atomic<uint64_t> compressed_upgrades{0};
  std::atomic<uint64_t> bytes_before_compression{0};
  std::atomic<uint64_t> bytes_compressed{0};
  std::atomic<uint64_t> bytes_before_inflation{0};
  std::atomic<uint64_t> bytes_inflated{0};  // connections closed (or reset) by the mass drop
};

// Opens a listening socket bound with SO_REUSEADDR|SO_REUSEPORT; the port of
// `where` may be 0 (kernel picks). Returns the fd.
result<int> open_listener(const endpoint& where, int backlog);

// The port a listener got.
uint16_t listener_port(int fd) noexcept;

class publish_ring;
class interest_map;

// What the shards of one server share: a publish ring per ordered pair of
// shards, made by the producing shard the first time it forwards there (most
// pairs of a many-shard server never carry anything); each shard's interest
// map; and where to post each shard's wake-up. A shard hands in a dup of its
// ring's fd once the ring exists; the mesh closes them when it goes, after
// every shard has, so a wake-up sent while a shard is exiting reaches a ring
// that is still there (never a reused fd number).
class server_mesh {
 public:
  // pubsub false (raw TCP mode): no rings, no interest maps.
  server_mesh(uint32_t shards, bool pubsub, uint32_t ring_bytes = 256 * 1024);
  ~server_mesh();
  server_mesh(const server_mesh&) = delete;
  server_mesh& operator=(const server_mesh&) = delete;

  uint32_t shards() const noexcept { return _shards; }
  bool pubsub() const noexcept { return _pubsub; }
  // The consumer's view: nullptr until the producer has made the ring.
  publish_ring* ring(uint32_t from, uint32_t to) const noexcept {
    return _rings[size_t(from) * _shards + to].load(std::memory_order_acquire);
  }
  // The producer's (shard `from` only): the ring, made on first use.
  publish_ring& make_ring(uint32_t from, uint32_t to);
  // nullptr without pub/sub.
  interest_map* interest(uint32_t shard) const noexcept {
    return _interest.empty() ? nullptr : _interest[shard].get();
  }
  // Takes ownership of fd.
  void set_wake_fd(uint32_t shard, int fd) noexcept;
  // -1 until the shard's ring is up (its first loop turn reads the rings anyway).
  int wake_fd(uint32_t shard) const noexcept {
    return _wake_fds[shard].load(std::memory_order_acquire);
  }
  // The first accept of any shard sets the time (later ones change nothing);
  // 0 until then. The clock of --drop-at.
  void note_accept(uint64_t now) noexcept {
    uint64_t none = 0;
    _first_accept_ns.compare_exchange_strong(none, now, std::memory_order_relaxed);
  }
  uint64_t first_accept_ns() const noexcept {
    return _first_accept_ns.load(std::memory_order_relaxed);
  }

 private:
  uint32_t _shards;
  bool _pubsub;
  uint32_t _ring_bytes;
  std::unique_ptr<std::atomic<publish_ring*>[]> _rings;  // [from * shards + to]
  std::vector<std::unique_ptr<interest_map>> _interest;
  std::unique_ptr<std::atomic<int>[]> _wake_fds;
  std::atomic<uint64_t> _first_accept_ns{0};
};

class server_shard {
 public:
  server_shard(const server_plan& plan, uint32_t index, int listen_fd, server_counters& counters,
               server_mesh& mesh, const std::atomic<bool>& stop);
  ~server_shard();
  server_shard(const server_shard&) = delete;
  server_shard& operator=(const server_shard&) = delete;

  result<void> run();

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

}  // namespace horde::core

// What a shard measures. One writer (the shard thread) updates counters with
// relaxed load+store (no read-modify-write: nobody else writes), and the
// controller thread reads them once a second without stopping the shard.
// Counters sit on their own cache lines so the reader's loads do not bounce
// the writer's lines more than once per snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.hh"

namespace horde::core {

// Why a connection failed. Every failure is counted under exactly one reason.
enum class failure_reason : uint8_t {
  ports_exhausted,   // no free (source, port) pair in this shard's share
  bind_failed,       // explicit bind kept failing (ports held by others)
  connect_refused,   // RST to our SYN: nothing listening, or a full backlog
  connect_timeout,   // no answer within --connect-timeout
  connect_error,     // any other connect errno (unreachable, ...)
  upgrade_timeout,   // no complete 101 within --upgrade-timeout
  upgrade_rejected,  // the server answered with a status other than 101
  upgrade_invalid,   // malformed answer, wrong Sec-WebSocket-Accept, ...
  protocol_error,    // the server broke RFC 6455 (bad frame, bad UTF-8, too big)
  closed_by_server,  // a close frame from the server before the run ended
  reset_by_server,   // ECONNRESET / EPIPE
  eof_from_server,   // TCP FIN without a WebSocket close
  pong_timeout,      // a ping got no pong within --pong-timeout
  close_timeout,     // our close frame got no answer during shutdown
  io_error,          // any other send/recv errno
  // wss:// (core/tls_transport.hh); the report also lists OpenSSL's words for each.
  tls_handshake_timeout,  // no finished TLS handshake within --tls-timeout
  tls_verify_failed,      // the server's chain or name did not verify
  tls_peer_alert,         // the server sent a fatal alert (or close_notify mid-handshake)
  tls_protocol_error,     // the server's bytes broke TLS
  tls_error,              // our side: memory, a host name OpenSSL refused, internal
  count
};

std::string_view to_string(failure_reason reason) noexcept;

inline constexpr size_t failure_reason_count = size_t(failure_reason::count);

// A counter with one writer: relaxed load+store, never a locked instruction.
struct counter {
  std::atomic<uint64_t> value{0};
  void add(uint64_t n = 1) noexcept {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) noexcept {
    value.store(value.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void set(uint64_t n) noexcept { value.store(n, std::memory_order_relaxed); }
  uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

// Pub/sub accounting (docs/pubsub.md), plain numbers.
struct pubsub_values {
  uint64_t subscribes_sent = 0;
  uint64_t subscribes_in_force = 0;      // acknowledged (or settled, without an ack template)
  uint64_t subscribe_timeouts = 0;       // never acknowledged within --subscribe-timeout
  uint64_t subscriptions_abandoned = 0;  // still unacknowledged when their connection ended
  uint64_t subscriptions_refused = 0;    // never sent: the group's creation by REST failed
  uint64_t publishes = 0;
  uint64_t expected = 0;   // each publish: its group's subscriptions in force
  uint64_t delivered = 0;  // every stamped delivery to a subscription in force
  uint64_t in_order = 0;
  uint64_t late = 0;  // reordered: arrived after a later one
  uint64_t duplicates = 0;
  uint64_t gaps = 0;         // numbers skipped when a later one arrived first
  uint64_t unaccounted = 0;  // stamped, but for no subscription in force here
  uint64_t other = 0;        // neither an acknowledgement nor a stamped delivery
  // Churn (docs/pubsub.md): deliveries outside a subscription's time in force
  // are neither expected nor lost; what a leave takes back is `withdrawn`.
  uint64_t unsubscribes_sent = 0;
  uint64_t unsubscribes_acked = 0;
  uint64_t resubscribes_sent = 0;
  uint64_t resubscribes_in_force = 0;
  uint64_t before_join = 0;  // published before the subscription counted
  uint64_t after_leave = 0;  // published after the subscription stopped counting
  uint64_t withdrawn = 0;    // expected, but owed only until the leave took effect
  uint64_t last_timed = 0;   // publishes timed to their last subscriber
  uint64_t last_stale = 0;   // ... of which never completed (a delivery lost)

  uint64_t unique() const noexcept { return in_order + late; }
  uint64_t owed() const noexcept { return expected > withdrawn ? expected - withdrawn : 0; }
  uint64_t lost() const noexcept { return owed() > unique() ? owed() - unique() : 0; }
  void add(const pubsub_values& o) noexcept;
};

// TLS (wss://), plain numbers: handshakes, and every distinct (reason, OpenSSL
// text) a connection failed with, e.g. (tls_verify_failed, "certificate has expired").
struct tls_failure_text {
  failure_reason reason;
  std::string text;
  uint64_t count = 0;
};

struct tls_values {
  uint64_t full_handshakes = 0;
  uint64_t resumed_handshakes = 0;
  uint64_t unlisted_failures = 0;  // failures whose text did not fit a shard's table
  std::vector<tls_failure_text> failure_texts;

  void add(const tls_values& other);
};

// The plain-number image of a shard's counters, also the merged result's.
struct counter_values {
  uint64_t attempts = 0;  // connect attempts (including reconnects)
  uint64_t tcp_connected = 0;
  uint64_t upgraded = 0;  // 101 received and verified: a WebSocket is open
  uint64_t open_now = 0;  // gauge: open WebSockets right now
  uint64_t open_peak = 0;
  uint64_t closed_clean = 0;  // close handshake completed at the end of the run
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t messages_unstamped = 0;  // received messages without a valid horde stamp
  uint64_t bytes_sent = 0;          // WebSocket payload bytes
  uint64_t bytes_received = 0;
  uint64_t pings_sent = 0;
  uint64_t pongs_received = 0;
  uint64_t bind_retries = 0;  // a port was busy; another was tried
  uint64_t recv_rearms = 0;   // multishot recv re-armed (buffers ran out)
  uint64_t busy_ns = 0;       // time the shard spent not waiting in the kernel
  uint64_t loop_turns = 0;
  std::array<uint64_t, failure_reason_count> failures{};
  std::array<uint64_t, 600> http_status{};  // non-101 upgrade answers by status
  std::array<uint64_t, 16> close_codes{};   // server close codes 1000..1015
  uint64_t close_codes_other = 0;
  pubsub_values pubsub;
  tls_values tls;

  uint64_t failures_total() const noexcept;
  void add(const counter_values& other);
};

struct alignas(64) pubsub_counters {
  counter subscribes_sent, subscribes_in_force, subscribe_timeouts, subscriptions_abandoned,
      subscriptions_refused, publishes, expected, delivered, in_order, late, duplicates, gaps,
      unaccounted, other;
  counter unsubscribes_sent, unsubscribes_acked, resubscribes_sent, resubscribes_in_force,
      before_join, after_leave, withdrawn, last_timed, last_stale;

  void read_into(pubsub_values& out) const noexcept;
};

// A shard's TLS counters. Failure texts are static strings (OpenSSL's tables,
// proto::tls_session's own), so a slot keeps the pointer: the shard
// publishes a new slot's reason, then its text (release); the reader stops at
// the first slot without text.
struct alignas(64) tls_counters {
  static constexpr size_t max_texts = 16;
  struct text_slot {
    std::atomic<const char*> text{nullptr};
    std::atomic<uint8_t> reason{0};
    counter count;
  };
  counter full_handshakes, resumed_handshakes, unlisted_failures;
  std::array<text_slot, max_texts> texts;

  void fail_with(failure_reason reason, const char* text) noexcept;
  void read_into(tls_values& out) const;
};

struct alignas(64) shard_counters {
  counter attempts, tcp_connected, upgraded, open_now, open_peak, closed_clean;
  alignas(64) counter messages_sent, messages_received, messages_unstamped, bytes_sent,
      bytes_received, pings_sent, pongs_received;
  alignas(64) counter bind_retries, recv_rearms, busy_ns, loop_turns;
  alignas(64) std::array<counter, failure_reason_count> failures;
  std::array<counter, 600> http_status;
  std::array<counter, 16> close_codes;
  counter close_codes_other;
  pubsub_counters pubsub;
  tls_counters tls;

  void fail(failure_reason reason) noexcept { failures[size_t(reason)].add(); }
  void read_into(counter_values& out) const;
};

// Histograms a shard keeps, in nanoseconds.
struct latency_set {
  histogram connect;        // socket chain submitted -> TCP connected
  histogram tls_handshake;  // TCP connected -> TLS handshake finished (wss://)
  histogram upgrade;        // TCP connected (wss: TLS finished) -> verified 101
  histogram round_trip;     // message's *scheduled* send time -> its echo received
  histogram send_lag;       // scheduled send time -> frame handed to the kernel
  histogram subscribe;      // subscribe sent -> acknowledged
  histogram fanout;         // publish's *scheduled* time -> each delivery
  histogram fanout_last;    // publish's *scheduled* time -> its delivery to the last subscriber
  histogram unsubscribe;    // churn: unsubscribe sent -> acknowledged
  histogram resubscribe;    // churn: subscribe again sent -> acknowledged

  void add(const latency_set& other) noexcept;
  void snapshot_from(const latency_set& live) noexcept;
};

struct shard_metrics {
  shard_counters counters;
  latency_set latency;
};

// A merged, plain copy: what the controller and reports use.
struct metrics_snapshot {
  counter_values counters;
  latency_set latency;

  void add_shard(const shard_metrics& live);  // snapshot one live shard and add it
};

}  // namespace horde::core

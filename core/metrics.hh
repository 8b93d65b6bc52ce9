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

// Why a connection failed (or, for unfinished_*, what it was still doing when
// the run ended). Every connection that does not end cleanly is counted under
// exactly one reason. One line per reason: its name (the JSON key and the
// report's word) and what it means to a user; the enum, to_string and
// describe follow from this table.
#define HORDE_FAILURE_REASONS(X)                                                               \
  X(ports_exhausted, "no free (source address, port) pair left in this shard's share")         \
  X(bind_failed, "explicit bind kept failing: the ports are held by other sockets")            \
  X(connect_refused, "RST to our SYN: nothing listening, or a full accept queue")              \
  X(connect_timeout, "no answer to the SYN within --connect-timeout")                          \
  X(connect_error, "another connect error (its errno is listed)")                              \
  X(unfinished_connect, "still connecting when the run ended")                                 \
  X(unfinished_tls, "still in the TLS handshake when the run ended")                           \
  X(unfinished_upgrade, "still waiting for the 101 when the run ended")                        \
  X(unfinished_http, "still in an HTTP step when the run ended")                               \
  X(http_step_status, "an HTTP step was answered with a status it does not expect")            \
  X(http_step_invalid, "an HTTP step's answer was malformed or over its limits")               \
  X(http_step_timeout, "an HTTP step got no complete answer within its timeout")               \
  X(http_capture_missing, "a capture found no such JSON field or header in the answer")        \
  X(http_not_kept_alive, "the server closed after the HTTP steps: no socket for the upgrade")  \
  X(publish_http_timeout, "an HTTP publish got no complete answer within its timeout")         \
  X(publish_http_invalid, "an HTTP publish's answer was malformed or over its limits")         \
  X(upgrade_timeout, "no complete 101 within --upgrade-timeout")                               \
  X(upgrade_rejected, "the server answered the upgrade with another status")                   \
  X(upgrade_bad_accept, "wrong or missing Sec-WebSocket-Accept")                               \
  X(upgrade_header_too_large, "the answer's header passed 8 KiB or 64 lines")                  \
  X(upgrade_invalid, "a malformed answer, or a 101 without the upgrade headers")               \
  X(upgrade_bad_extension, "an extension not offered, or bad permessage-deflate values")       \
  X(upgrade_compression_declined, "--compression require: the 101 declined it")                \
  X(tls_answer_to_plain, "the server answered with TLS: use wss://")                           \
  X(plain_answer_to_tls, "the server answered in plain HTTP, not TLS: use ws://")              \
  X(protocol_error, "the server broke RFC 6455 (close 1002)")                                  \
  X(protocol_masked_frame, "masked frame from the server (close 1002)")                        \
  X(protocol_reserved_bits, "reserved bits set without an extension (close 1002)")             \
  X(protocol_unnegotiated_compression, "RSV1 without permessage-deflate (close 1002)")         \
  X(protocol_bad_deflate, "a compressed message that does not inflate (close 1007)")           \
  X(protocol_bad_opcode, "reserved opcode (close 1002)")                                       \
  X(protocol_bad_control_frame, "control frame fragmented or over 125 bytes (close 1002)")     \
  X(protocol_bad_close_code, "invalid close code from the server (close 1002)")                \
  X(protocol_invalid_utf8, "invalid UTF-8 in a text message or close reason (close 1007)")     \
  X(protocol_message_too_big, "a message over horde's 16 MiB receive limit (close 1009)")      \
  X(closed_by_server, "a close frame from the server before the run ended (codes listed)")     \
  X(reset_by_server, "the server reset the connection (ECONNRESET, EPIPE)")                    \
  X(eof_from_server, "TCP FIN from the server without a WebSocket close")                      \
  X(pong_timeout, "a ping got no pong within --pong-timeout")                                  \
  X(send_backlog, "the server stopped reading: queued bytes passed --send-backlog")            \
  X(io_error, "another send or receive error, or memory ran out")                              \
  X(tls_handshake_timeout, "no finished TLS handshake within --tls-timeout")                   \
  X(tls_verify_failed, "the server's certificate chain or name did not verify")                \
  X(tls_peer_alert, "the server sent a fatal TLS alert")                                       \
  X(tls_protocol_error, "the server's bytes broke TLS")                                        \
  X(tls_error, "TLS failed on our side (memory, a name OpenSSL refused)")                      \
  X(bad_variable_value, "a variable's value had CR, LF or NUL where the request needs a line") \
  X(app_protocol_handshake, "the --protocol handshake failed or timed out (no CONNACK, ...)")  \
  X(app_protocol_error, "the server broke the --protocol (a message it cannot send)")

enum class failure_reason : uint8_t {
#define HORDE_REASON_ENUM(name, text) name,
  HORDE_FAILURE_REASONS(HORDE_REASON_ENUM)
#undef HORDE_REASON_ENUM
      count
};

std::string_view to_string(failure_reason reason) noexcept;
// One line for a user: what the reason means.
std::string_view describe(failure_reason reason) noexcept;
// Reasons that count connections the run's end cut short, not failures.
constexpr bool is_unfinished(failure_reason reason) noexcept {
  return reason == failure_reason::unfinished_connect || reason == failure_reason::unfinished_tls ||
         reason == failure_reason::unfinished_upgrade || reason == failure_reason::unfinished_http;
}

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
  // With workers: of `expected`, what other workers' subscribers are owed
  // (counted by the publisher's worker, delivered in theirs: `lost` is
  // exact once the workers' results are merged).
  uint64_t expected_elsewhere = 0;
  // --publish-http: publishes the server refused (an unexpected status, no
  // answer, the socket closed under it), and what they would have owed.
  uint64_t publishes_refused = 0;
  uint64_t refused_owed = 0;

  uint64_t unique() const noexcept { return in_order + late; }
  uint64_t owed() const noexcept {
    return expected > withdrawn + refused_owed ? expected - withdrawn - refused_owed : 0;
  }
  uint64_t lost() const noexcept { return owed() > unique() ? owed() - unique() : 0; }
  void add(const pubsub_values& o) noexcept;
};

// A one-line text a connection failed with, beside its reason, and how many
// did: OpenSSL's (tls_verify_failed, "certificate has expired"), a codec's
// (app_protocol_handshake, "MQTT: CONNACK refused: not authorized").
struct failure_text {
  failure_reason reason;
  std::string text;
  uint64_t count = 0;
};

// Adds into `into`: one entry per distinct (reason, text), counts added.
void add_failure_text(std::vector<failure_text>& into, const failure_text& one);
void add_failure_texts(std::vector<failure_text>& into, const std::vector<failure_text>& from);

// TLS (wss://), plain numbers: handshakes, and every distinct (reason, OpenSSL
// text) a connection failed with.
struct tls_values {
  uint64_t full_handshakes = 0;
  uint64_t resumed_handshakes = 0;
  uint64_t unlisted_failures = 0;  // failures whose text did not fit a shard's table
  std::vector<failure_text> failure_texts;

  void add(const tls_values& other);
};

// --protocol (core/codec_scenario.hh): every distinct (reason, codec's text)
// a connection failed with (app_protocol_handshake or app_protocol_error).
struct protocol_failure_values {
  uint64_t unlisted = 0;  // failures whose text did not fit a shard's table
  std::vector<failure_text> texts;

  void add(const protocol_failure_values& other);
};

// A shard's scalar counters, declared once: the live counters, their plain
// image, merging and reading all follow from this list (a new counter is one
// line here). Grouped by who writes them together, each group on its own
// cache lines.
#define HORDE_CONNECTION_COUNTERS(X)                                                 \
  X(attempts) /* connect attempts (including bind retries' relaunches) */            \
  X(tcp_connected)                                                                   \
  X(upgraded) /* 101 received and verified: a WebSocket is open */                   \
  X(open_now) /* gauge: open WebSockets right now */                                 \
  X(open_peak)                                                                       \
  X(closed_clean) /* close handshake completed at the end of the run */              \
  /* Closes horde began that did not complete cleanly: facts about the     */        \
  /* close, never connection failures (the connection was held as asked).  */        \
  X(close_timed_out)      /* our close frame got no answer within --close-timeout */ \
  X(close_reset)          /* the server reset the connection during our close */     \
  X(close_without_frame)  /* the server closed TCP without its close frame */        \
  X(reconnects)           /* launches again after an end (--reconnect) */            \
  X(reconnects_opened)    /* ... that opened */                                      \
  X(reconnects_abandoned) /* --max-attempts failed in a row: given up */             \
  X(lifetimes_ended)      /* closed by horde at the end of --lifetime */             \
  X(chaos_drops)          /* dropped on purpose by --chaos-rate */                   \
  X(protocol_ready)       /* --protocol: its handshake done, the scenario began */
#define HORDE_MESSAGE_COUNTERS(X)                                               \
  X(messages_sent)                                                              \
  X(messages_received)                                                          \
  X(messages_unstamped) /* received messages without a valid horde stamp */     \
  X(bytes_sent)         /* WebSocket payload bytes */                           \
  X(bytes_received)                                                             \
  X(pings_sent)                                                                 \
  X(pongs_received)                                                             \
  X(pings_received)      /* from the server; answered with one pong per read */ \
  X(backlog_peak_bytes)  /* gauge: the most bytes one connection had waiting */ \
  X(messages_answered)   /* echoes of a message sent, each counted once */      \
  X(messages_duplicated) /* a second echo of a message already answered */      \
  X(messages_corrupted)  /* answered, but the payload is not what was sent */   \
  X(messages_truncated)  /* answered, but shorter than what was sent */         \
  X(deflate_negotiated)  /* opened with permessage-deflate */                   \
  X(deflate_declined)    /* offered, and the 101 answered without it */         \
  X(deflate_client_no_context_takeover)                                         \
  X(deflate_server_no_context_takeover)                                         \
  X(deflate_client_window_bits_sum) /* / deflate_negotiated: the mean */        \
  X(deflate_server_window_bits_sum)                                             \
  X(deflate_messages_sent)                                                      \
  X(deflate_bytes_before) /* sent payloads before compression */                \
  X(deflate_bytes_sent)   /* ... and compressed, as sent */                     \
  X(inflate_messages_received)                                                  \
  X(inflate_bytes_received) /* compressed payloads as received */               \
  X(inflate_bytes_after)    /* ... and inflated */
#define HORDE_ENGINE_COUNTERS(X)                                                         \
  X(bind_retries) /* a port was busy; another was tried */                               \
  X(recv_rearms)  /* multishot recv re-armed (buffers ran out) */                        \
  X(busy_ns)      /* time the shard spent not waiting in the kernel */                   \
  X(loop_turns)                                                                          \
  X(hard_stops)        /* connections abandoned in flight when a deadline ran out */     \
  X(cpu_run_ns)        /* the shard thread's time on a CPU during the run (schedstat) */ \
  X(cpu_wait_ns)       /* ... and runnable but waiting for a CPU */                      \
  X(slots_live_at_end) /* slots not idle nor done when sending ended */                  \
  X(open_at_end)       /* open connections then: equal, or a slot leaked */              \
  X(contexts_left)     /* framing contexts still taken when the shard returned */        \
  X(ports_left)        /* source ports not given back when the shard returned */

inline constexpr uint16_t first_close_code = 1000;  // RFC 6455 7.4: 1000-4999 may be sent
inline constexpr size_t close_code_count = 4000;
inline constexpr size_t max_errno = 134;

// The plain-number image of a shard's counters, also the merged result's.
struct counter_values {
#define HORDE_VALUE_FIELD(name) uint64_t name = 0;
  HORDE_CONNECTION_COUNTERS(HORDE_VALUE_FIELD)
  HORDE_MESSAGE_COUNTERS(HORDE_VALUE_FIELD)
  HORDE_ENGINE_COUNTERS(HORDE_VALUE_FIELD)
#undef HORDE_VALUE_FIELD
  std::array<uint64_t, failure_reason_count> failures{};
  std::array<uint64_t, 600> http_status{};               // non-101 upgrade answers by status
  std::array<uint64_t, close_code_count> close_codes{};  // server close codes 1000..4999
  uint64_t close_codes_other = 0;                        // outside 1000..4999
  std::array<uint64_t, max_errno> connect_errnos{};      // connect_error by errno
  pubsub_values pubsub;
  tls_values tls;
  protocol_failure_values protocol_failures;
  // A scenario's own counters (per request name, per HTTP step...), named in
  // the plan (client_plan::named), in that order.
  std::vector<uint64_t> named;

  // Connections that failed; those the run's end cut short are apart.
  uint64_t failures_total() const noexcept;
  uint64_t unfinished_total() const noexcept;
  void add(const counter_values& other);
};

struct alignas(64) pubsub_counters {
  counter subscribes_sent, subscribes_in_force, subscribe_timeouts, subscriptions_abandoned,
      subscriptions_refused, publishes, expected, delivered, in_order, late, duplicates, gaps,
      unaccounted, other;
  counter unsubscribes_sent, unsubscribes_acked, resubscribes_sent, resubscribes_in_force,
      before_join, after_leave, withdrawn, last_timed, last_stale, expected_elsewhere,
      publishes_refused, refused_owed;

  void read_into(pubsub_values& out) const noexcept;
};

// A shard's distinct (reason, text) failures, bounded: the first max_texts
// pairs get a slot, later new ones count as unlisted. Texts are static
// strings (OpenSSL's tables, proto::tls_session's own, a codec's
// codec_event::why), so a slot keeps the pointer and length: the shard
// publishes a new slot's reason and length, then its text (release); the
// reader stops at the first slot without text. Written once per failure,
// never per message.
struct failure_text_table {
  static constexpr size_t max_texts = 16;
  struct text_slot {
    std::atomic<const char*> text{nullptr};
    std::atomic<uint32_t> length{0};
    std::atomic<uint8_t> reason{0};
    counter count;
  };
  counter unlisted;
  std::array<text_slot, max_texts> texts;

  void fail_with(failure_reason reason, std::string_view text) noexcept;
  // Replaces `out` with the slots' pairs (the same text at two addresses is one).
  void read_into(std::vector<failure_text>& out) const;
};

// A shard's TLS counters.
struct alignas(64) tls_counters {
  counter full_handshakes, resumed_handshakes;
  failure_text_table failures;

  void fail_with(failure_reason reason, const char* text) noexcept {
    failures.fail_with(reason, text == nullptr ? std::string_view() : std::string_view(text));
  }
  void read_into(tls_values& out) const;
};

struct alignas(64) shard_counters {
#define HORDE_LIVE_FIELD(name) counter name;
  HORDE_CONNECTION_COUNTERS(HORDE_LIVE_FIELD)
  alignas(64) HORDE_MESSAGE_COUNTERS(HORDE_LIVE_FIELD) alignas(64)
      HORDE_ENGINE_COUNTERS(HORDE_LIVE_FIELD)
#undef HORDE_LIVE_FIELD
          alignas(64) std::array<counter, failure_reason_count> failures;
  std::array<counter, 600> http_status;
  std::array<counter, close_code_count> close_codes;
  counter close_codes_other;
  std::array<counter, max_errno> connect_errnos;
  pubsub_counters pubsub;
  tls_counters tls;
  alignas(64) failure_text_table protocol_failures;  // --protocol: the codec's own words
  std::vector<counter> named;                        // sized once, before the shard starts

  void fail(failure_reason reason) noexcept {
    failures[size_t(reason)].add();
  }
  void close_code(uint16_t code) noexcept {
    if (code >= first_close_code && code < first_close_code + close_code_count) {
      close_codes[code - first_close_code].add();
    } else {
      close_codes_other.add();
    }
  }
  void connect_errno(int error) noexcept {
    if (error > 0 && size_t(error) < max_errno) connect_errnos[size_t(error)].add();
  }
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
  // A scenario's own histograms (per request name, per HTTP step, stream
  // gaps...), named in the plan (client_plan::named), in that order; none
  // unless the scenario declares them (each is ~240 KB).
  std::vector<histogram> named;

  void add(const latency_set& other) noexcept;
  void snapshot_from(const latency_set& live) noexcept;
  void reset() noexcept;
};

struct shard_metrics {
  shard_counters counters;
  latency_set latency;

  // Room for the plan's named counters and histograms; before the shard runs.
  void declare(size_t named_counters, size_t named_histograms) {
    counters.named = std::vector<counter>(named_counters);
    latency.named.resize(named_histograms);
  }
};

// A merged, plain copy: what the controller and reports use.
struct metrics_snapshot {
  counter_values counters;
  latency_set latency;

  void add_shard(const shard_metrics& live);  // snapshot one live shard and add it
  // Back to empty, keeping its memory: the controller reuses two snapshots
  // for the whole run instead of allocating ~2.4 MB of histograms a second.
  void reset() noexcept;

 private:
  latency_set _shard;  // one shard's copy, reused by add_shard
};

}  // namespace horde::core

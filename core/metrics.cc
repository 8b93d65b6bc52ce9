#include "core/metrics.hh"

namespace horde::core {

std::string_view to_string(failure_reason reason) noexcept {
  switch (reason) {
    case failure_reason::ports_exhausted:
      return "ports_exhausted";
    case failure_reason::bind_failed:
      return "bind_failed";
    case failure_reason::connect_refused:
      return "connect_refused";
    case failure_reason::connect_timeout:
      return "connect_timeout";
    case failure_reason::connect_error:
      return "connect_error";
    case failure_reason::upgrade_timeout:
      return "upgrade_timeout";
    case failure_reason::upgrade_rejected:
      return "upgrade_rejected";
    case failure_reason::upgrade_invalid:
      return "upgrade_invalid";
    case failure_reason::protocol_error:
      return "protocol_error";
    case failure_reason::closed_by_server:
      return "closed_by_server";
    case failure_reason::reset_by_server:
      return "reset_by_server";
    case failure_reason::eof_from_server:
      return "eof_from_server";
    case failure_reason::pong_timeout:
      return "pong_timeout";
    case failure_reason::close_timeout:
      return "close_timeout";
    case failure_reason::io_error:
      return "io_error";
    case failure_reason::tls_handshake_timeout:
      return "tls_handshake_timeout";
    case failure_reason::tls_verify_failed:
      return "tls_verify_failed";
    case failure_reason::tls_peer_alert:
      return "tls_peer_alert";
    case failure_reason::tls_protocol_error:
      return "tls_protocol_error";
    case failure_reason::tls_error:
      return "tls_error";
    case failure_reason::count:
      break;
  }
  return "unknown";
}

uint64_t counter_values::failures_total() const noexcept {
  uint64_t total = 0;
  for (uint64_t n : failures)
    total += n;
  return total;
}

void tls_values::add(const tls_values& o) {
  full_handshakes += o.full_handshakes;
  resumed_handshakes += o.resumed_handshakes;
  unlisted_failures += o.unlisted_failures;
  for (const tls_failure_text& theirs : o.failure_texts) {
    bool merged = false;
    for (tls_failure_text& ours : failure_texts) {
      if (ours.reason == theirs.reason && ours.text == theirs.text) {
        ours.count += theirs.count;
        merged = true;
        break;
      }
    }
    if (!merged) failure_texts.push_back(theirs);
  }
}

void tls_counters::fail_with(failure_reason reason, const char* text) noexcept {
  if (text == nullptr) text = "";
  for (text_slot& slot : texts) {
    const char* known = slot.text.load(std::memory_order_relaxed);  // only this thread stores
    if (known == nullptr) {
      slot.reason.store(uint8_t(reason), std::memory_order_relaxed);
      slot.count.add();
      slot.text.store(text, std::memory_order_release);
      return;
    }
    if (known == text && slot.reason.load(std::memory_order_relaxed) == uint8_t(reason)) {
      slot.count.add();
      return;
    }
  }
  unlisted_failures.add();
}

void tls_counters::read_into(tls_values& out) const {
  out.full_handshakes = full_handshakes.get();
  out.resumed_handshakes = resumed_handshakes.get();
  out.unlisted_failures = unlisted_failures.get();
  out.failure_texts.clear();
  for (const text_slot& slot : texts) {
    const char* text = slot.text.load(std::memory_order_acquire);
    if (text == nullptr) break;
    out.failure_texts.push_back(tls_failure_text{
        failure_reason(slot.reason.load(std::memory_order_relaxed)), text, slot.count.get()});
  }
}

void pubsub_values::add(const pubsub_values& o) noexcept {
  subscribes_sent += o.subscribes_sent;
  subscribes_in_force += o.subscribes_in_force;
  subscribe_timeouts += o.subscribe_timeouts;
  publishes += o.publishes;
  expected += o.expected;
  delivered += o.delivered;
  in_order += o.in_order;
  late += o.late;
  duplicates += o.duplicates;
  gaps += o.gaps;
  unaccounted += o.unaccounted;
  other += o.other;
  subscriptions_abandoned += o.subscriptions_abandoned;
  subscriptions_refused += o.subscriptions_refused;
  unsubscribes_sent += o.unsubscribes_sent;
  unsubscribes_acked += o.unsubscribes_acked;
  resubscribes_sent += o.resubscribes_sent;
  resubscribes_in_force += o.resubscribes_in_force;
  before_join += o.before_join;
  after_leave += o.after_leave;
  withdrawn += o.withdrawn;
  last_timed += o.last_timed;
  last_stale += o.last_stale;
}

void pubsub_counters::read_into(pubsub_values& out) const noexcept {
  out.subscribes_sent = subscribes_sent.get();
  out.subscribes_in_force = subscribes_in_force.get();
  out.subscribe_timeouts = subscribe_timeouts.get();
  out.publishes = publishes.get();
  out.expected = expected.get();
  out.delivered = delivered.get();
  out.in_order = in_order.get();
  out.late = late.get();
  out.duplicates = duplicates.get();
  out.gaps = gaps.get();
  out.unaccounted = unaccounted.get();
  out.other = other.get();
  out.subscriptions_abandoned = subscriptions_abandoned.get();
  out.subscriptions_refused = subscriptions_refused.get();
  out.unsubscribes_sent = unsubscribes_sent.get();
  out.unsubscribes_acked = unsubscribes_acked.get();
  out.resubscribes_sent = resubscribes_sent.get();
  out.resubscribes_in_force = resubscribes_in_force.get();
  out.before_join = before_join.get();
  out.after_leave = after_leave.get();
  out.withdrawn = withdrawn.get();
  out.last_timed = last_timed.get();
  out.last_stale = last_stale.get();
}

void counter_values::add(const counter_values& o) {
  attempts += o.attempts;
  tcp_connected += o.tcp_connected;
  upgraded += o.upgraded;
  open_now += o.open_now;
  open_peak += o.open_peak;
  closed_clean += o.closed_clean;
  messages_sent += o.messages_sent;
  messages_received += o.messages_received;
  messages_unstamped += o.messages_unstamped;
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  pings_sent += o.pings_sent;
  pongs_received += o.pongs_received;
  bind_retries += o.bind_retries;
  recv_rearms += o.recv_rearms;
  busy_ns += o.busy_ns;
  loop_turns += o.loop_turns;
  for (size_t i = 0; i < failures.size(); ++i)
    failures[i] += o.failures[i];
  for (size_t i = 0; i < http_status.size(); ++i)
    http_status[i] += o.http_status[i];
  for (size_t i = 0; i < close_codes.size(); ++i)
    close_codes[i] += o.close_codes[i];
  close_codes_other += o.close_codes_other;
  pubsub.add(o.pubsub);
  tls.add(o.tls);
}

void shard_counters::read_into(counter_values& out) const {
  out.attempts = attempts.get();
  out.tcp_connected = tcp_connected.get();
  out.upgraded = upgraded.get();
  out.open_now = open_now.get();
  out.open_peak = open_peak.get();
  out.closed_clean = closed_clean.get();
  out.messages_sent = messages_sent.get();
  out.messages_received = messages_received.get();
  out.messages_unstamped = messages_unstamped.get();
  out.bytes_sent = bytes_sent.get();
  out.bytes_received = bytes_received.get();
  out.pings_sent = pings_sent.get();
  out.pongs_received = pongs_received.get();
  out.bind_retries = bind_retries.get();
  out.recv_rearms = recv_rearms.get();
  out.busy_ns = busy_ns.get();
  out.loop_turns = loop_turns.get();
  for (size_t i = 0; i < failures.size(); ++i)
    out.failures[i] = failures[i].get();
  for (size_t i = 0; i < http_status.size(); ++i)
    out.http_status[i] = http_status[i].get();
  for (size_t i = 0; i < close_codes.size(); ++i)
    out.close_codes[i] = close_codes[i].get();
  out.close_codes_other = close_codes_other.get();
  pubsub.read_into(out.pubsub);
  tls.read_into(out.tls);
}

void latency_set::add(const latency_set& o) noexcept {
  connect.add(o.connect);
  tls_handshake.add(o.tls_handshake);
  upgrade.add(o.upgrade);
  round_trip.add(o.round_trip);
  send_lag.add(o.send_lag);
  subscribe.add(o.subscribe);
  fanout.add(o.fanout);
  fanout_last.add(o.fanout_last);
  unsubscribe.add(o.unsubscribe);
  resubscribe.add(o.resubscribe);
}

void latency_set::snapshot_from(const latency_set& live) noexcept {
  connect.snapshot_from(live.connect);
  tls_handshake.snapshot_from(live.tls_handshake);
  upgrade.snapshot_from(live.upgrade);
  round_trip.snapshot_from(live.round_trip);
  send_lag.snapshot_from(live.send_lag);
  subscribe.snapshot_from(live.subscribe);
  fanout.snapshot_from(live.fanout);
  fanout_last.snapshot_from(live.fanout_last);
  unsubscribe.snapshot_from(live.unsubscribe);
  resubscribe.snapshot_from(live.resubscribe);
}

void metrics_snapshot::add_shard(const shard_metrics& live) {
  counter_values values;
  live.counters.read_into(values);
  counters.add(values);
  latency_set copy;
  copy.snapshot_from(live.latency);
  latency.add(copy);
}

}  // namespace horde::core

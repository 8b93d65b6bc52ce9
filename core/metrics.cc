#include "core/metrics.hh"

#include <algorithm>

namespace horde::core {

std::string_view to_string(failure_reason reason) noexcept {
  switch (reason) {
#define HORDE_REASON_NAME(name, text) \
  case failure_reason::name:          \
    return #name;
    HORDE_FAILURE_REASONS(HORDE_REASON_NAME)
#undef HORDE_REASON_NAME
    case failure_reason::count:
      break;
  }
  return "unknown";
}

std::string_view describe(failure_reason reason) noexcept {
  switch (reason) {
#define HORDE_REASON_TEXT(name, text) \
  case failure_reason::name:          \
    return text;
    HORDE_FAILURE_REASONS(HORDE_REASON_TEXT)
#undef HORDE_REASON_TEXT
    case failure_reason::count:
      break;
  }
  return "";
}

uint64_t counter_values::failures_total() const noexcept {
  uint64_t total = 0;
  for (size_t i = 0; i < failures.size(); ++i)
    if (!is_unfinished(failure_reason(i))) total += failures[i];
  return total;
}

uint64_t counter_values::unfinished_total() const noexcept {
  uint64_t total = 0;
  for (size_t i = 0; i < failures.size(); ++i)
    if (is_unfinished(failure_reason(i))) total += failures[i];
  return total;
}

void add_failure_text(std::vector<failure_text>& into, const failure_text& one) {
  const auto ours = std::find_if(into.begin(), into.end(), [&](const failure_text& f) {
    return f.reason == one.reason && f.text == one.text;
  });
  if (ours == into.end())
    into.push_back(one);
  else
    ours->count += one.count;
}

void add_failure_texts(std::vector<failure_text>& into, const std::vector<failure_text>& from) {
  for (const failure_text& one : from)
    add_failure_text(into, one);
}

void tls_values::add(const tls_values& o) {
  full_handshakes += o.full_handshakes;
  resumed_handshakes += o.resumed_handshakes;
  unlisted_failures += o.unlisted_failures;
  add_failure_texts(failure_texts, o.failure_texts);
}

void protocol_failure_values::add(const protocol_failure_values& o) {
  unlisted += o.unlisted;
  add_failure_texts(texts, o.texts);
}

void failure_text_table::fail_with(failure_reason reason, std::string_view text) noexcept {
  if (text.data() == nullptr) text = "";
  for (text_slot& slot : texts) {
    const char* known = slot.text.load(std::memory_order_relaxed);  // only this thread stores
    if (known == nullptr) {
      slot.reason.store(uint8_t(reason), std::memory_order_relaxed);
      slot.length.store(uint32_t(text.size()), std::memory_order_relaxed);
      slot.count.add();
      slot.text.store(text.data(), std::memory_order_release);
      return;
    }
    if (known == text.data() && slot.length.load(std::memory_order_relaxed) == text.size() &&
        slot.reason.load(std::memory_order_relaxed) == uint8_t(reason)) {
      slot.count.add();
      return;
    }
  }
  unlisted.add();
}

void failure_text_table::read_into(std::vector<failure_text>& out) const {
  out.clear();
  for (const text_slot& slot : texts) {
    const char* text = slot.text.load(std::memory_order_acquire);
    if (text == nullptr) break;
    add_failure_text(
        out, {failure_reason(slot.reason.load(std::memory_order_relaxed)),
              std::string(text, slot.length.load(std::memory_order_relaxed)), slot.count.get()});
  }
}

void tls_counters::read_into(tls_values& out) const {
  out.full_handshakes = full_handshakes.get();
  out.resumed_handshakes = resumed_handshakes.get();
  out.unlisted_failures = failures.unlisted.get();
  failures.read_into(out.failure_texts);
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
  expected_elsewhere += o.expected_elsewhere;
  publishes_refused += o.publishes_refused;
  refused_owed += o.refused_owed;
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
  out.expected_elsewhere = expected_elsewhere.get();
  out.publishes_refused = publishes_refused.get();
  out.refused_owed = refused_owed.get();
}

namespace {

template <class T, size_t N>
void add_each(std::array<T, N>& into, const std::array<T, N>& from) noexcept {
  for (size_t i = 0; i < N; ++i)
    into[i] += from[i];
}

template <size_t N>
void read_each(std::array<uint64_t, N>& into, const std::array<counter, N>& from) noexcept {
  for (size_t i = 0; i < N; ++i)
    into[i] = from[i].get();
}

}  // namespace

void counter_values::add(const counter_values& o) {
  // A maximum merges as a maximum, not a sum.
  const uint64_t backlog_peak = std::max(backlog_peak_bytes, o.backlog_peak_bytes);
#define HORDE_ADD_FIELD(name) name += o.name;
  HORDE_CONNECTION_COUNTERS(HORDE_ADD_FIELD)
  HORDE_MESSAGE_COUNTERS(HORDE_ADD_FIELD)
  HORDE_ENGINE_COUNTERS(HORDE_ADD_FIELD)
#undef HORDE_ADD_FIELD
  backlog_peak_bytes = backlog_peak;
  add_each(failures, o.failures);
  add_each(http_status, o.http_status);
  add_each(close_codes, o.close_codes);
  close_codes_other += o.close_codes_other;
  add_each(connect_errnos, o.connect_errnos);
  pubsub.add(o.pubsub);
  tls.add(o.tls);
  protocol_failures.add(o.protocol_failures);
  if (named.size() < o.named.size()) named.resize(o.named.size());
  for (size_t i = 0; i < o.named.size(); ++i)
    named[i] += o.named[i];
}

void shard_counters::read_into(counter_values& out) const {
#define HORDE_READ_FIELD(name) out.name = name.get();
  HORDE_CONNECTION_COUNTERS(HORDE_READ_FIELD)
  HORDE_MESSAGE_COUNTERS(HORDE_READ_FIELD)
  HORDE_ENGINE_COUNTERS(HORDE_READ_FIELD)
#undef HORDE_READ_FIELD
  read_each(out.failures, failures);
  read_each(out.http_status, http_status);
  read_each(out.close_codes, close_codes);
  out.close_codes_other = close_codes_other.get();
  read_each(out.connect_errnos, connect_errnos);
  pubsub.read_into(out.pubsub);
  tls.read_into(out.tls);
  out.protocol_failures.unlisted = protocol_failures.unlisted.get();
  protocol_failures.read_into(out.protocol_failures.texts);
  out.named.resize(named.size());
  for (size_t i = 0; i < named.size(); ++i)
    out.named[i] = named[i].get();
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
  if (named.size() < o.named.size()) named.resize(o.named.size());
  for (size_t i = 0; i < o.named.size(); ++i)
    named[i].add(o.named[i]);
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
  if (named.size() != live.named.size()) named.resize(live.named.size());
  for (size_t i = 0; i < live.named.size(); ++i)
    named[i].snapshot_from(live.named[i]);
}

void metrics_snapshot::add_shard(const shard_metrics& live) {
  counter_values values;
  live.counters.read_into(values);
  counters.add(values);
  _shard.snapshot_from(live.latency);
  latency.add(_shard);
}

void metrics_snapshot::reset() noexcept {
  counters = counter_values{};
  latency.reset();
}

void latency_set::reset() noexcept {
  connect.reset();
  tls_handshake.reset();
  upgrade.reset();
  round_trip.reset();
  send_lag.reset();
  subscribe.reset();
  fanout.reset();
  fanout_last.reset();
  unsubscribe.reset();
  resubscribe.reset();
  for (auto& h : named)
    h.reset();
}

}  // namespace horde::core

#include "core/pubsub_scenario.hh"

#include <algorithm>

#include "core/clock.hh"
#include "core/open_loop.hh"

namespace horde::core {

pubsub_scenario::pubsub_scenario(const client_plan& plan, shard_metrics& metrics,
                                 proto::mask_source& random, std::span<const uint32_t> conn_ids,
                                 uint64_t end_ns)
    : _plan(plan),
      _metrics(metrics),
      _random(random),
      _ids(conn_ids),
      _end_ns(end_ns),
      _client(plan.pubsub, metrics, conn_ids, plan.shards),
      _next_publish_ns(conn_ids.size()),
      _subscribed(conn_ids.size()) {
  if (!plan.pubsub.http.enabled()) return;
  // HTTP publishers never subscribe: they count as subscribed from the start.
  _http.resize(conn_ids.size());
  for (uint32_t slot = 0; slot < conn_ids.size(); ++slot)
    if (http_publisher(slot)) mark_subscribed(slot);
}

bool pubsub_scenario::send_text(scenario_port& port, std::string_view text) noexcept {
  if (!port.send(proto::ws_opcode::text,
                 {reinterpret_cast<const uint8_t*>(text.data()), text.size()}))
    return false;
  _metrics.counters.messages_sent.add();
  return true;
}

void pubsub_scenario::on_open(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  uint32_t sent = 0;
  for (uint32_t j = 0; j < _client.per_connection(); ++j) {
    const std::string_view text = _client.subscribe_message(slot, j);
    if (text.empty()) continue;  // its group could not be created
    if (!send_text(port, text)) return;
    ++sent;
  }
  _client.subscribes_sent(slot, sent, now);
  if (sent == 0) mark_subscribed(slot);
}

void pubsub_scenario::on_message(uint32_t slot, scenario_port&, proto::ws_opcode opcode,
                                 std::span<const uint8_t> body, uint64_t received_ns) noexcept {
  _metrics.counters.messages_received.add();
  _metrics.counters.bytes_received.add(body.size());
  const auto outcome =
      _client.on_message(slot, body, opcode == proto::ws_opcode::binary, received_ns);
  if (outcome == pubsub_client::outcome::all_in_force) mark_subscribed(slot);
  // The rejoin goes out at the end of the turn, not from inside a receive.
  if (outcome == pubsub_client::outcome::left) _rejoins.push_back(slot);
}

uint64_t pubsub_scenario::next_due_ns(uint32_t slot) const noexcept {
  uint64_t when = _subscribed[slot] ? 0 : _client.waiting_until(slot);
  const uint64_t publish = _sending ? _next_publish_ns[slot] : 0;
  if (publish != 0 && (when == 0 || publish < when)) when = publish;
  return when;
}

void pubsub_scenario::on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  if (!_subscribed[slot]) {
    const uint64_t until = _client.waiting_until(slot);
    if (until != 0 && now >= until) {
      if (_plan.pubsub.subscribe_ack.empty()) {
        _client.settle(slot, now);
      } else {
        _client.give_up(slot);
      }
      mark_subscribed(slot);
    }
  }
  if (_sending) publish_due(slot, port, now);
}

void pubsub_scenario::publish_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  if (_plan.pubsub.publish_rate <= 0) return;
  const uint64_t interval = uint64_t(1e9 / _plan.pubsub.publish_rate);
  const auto opcode =
      _plan.pubsub.publish_binary ? proto::ws_opcode::binary : proto::ws_opcode::text;
  send_due(
      _next_publish_ns[slot], now, _end_ns, _metrics, [&] { return interval; },
      [&](uint64_t scheduled) -> std::optional<size_t> {
        const std::string_view text =
            _client.publish_message(_ids[slot], scheduled, _random.next());
        if (!port.send(opcode, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}))
          return std::nullopt;
        return text.size();
      });
}

void pubsub_scenario::on_gone(uint32_t slot) noexcept {
  if (http_publisher(slot)) {
    // Its socket ended: a request in flight is unanswered; the schedule
    // goes on (the slot reconnects while the run does).
    if (_http[slot].scheduled_ns != 0) publish_answered(slot, 0, now_ns());
    return;
  }
  _client.connection_gone(slot);
  mark_subscribed(slot);
  _next_publish_ns[slot] = 0;
}

void pubsub_scenario::mark_subscribed(uint32_t slot) noexcept {
  if (_subscribed[slot]) return;
  _subscribed[slot] = 1;
  ++_subscribed_count;
}

uint64_t pubsub_scenario::shard_due_ns() const noexcept {
  return _publishing && _sending ? _client.next_churn_ns() : 0;
}

// Every loop turn: timing batches go to the shared table, acknowledged leaves
// rejoin, and publishing starts on every shard once every shard's
// connections are subscribed, so a publish's expected count is final when it
// is sent.
void pubsub_scenario::on_shard_due(shard_access& shard, uint64_t now) noexcept {
  _client.end_of_turn();
  for (uint32_t slot : _rejoins) {
    const std::string_view text = _client.rejoin_message(slot, now);
    scenario_port* port = shard.port_of(slot);
    if (!text.empty() && port != nullptr) send_text(*port, text);
  }
  _rejoins.clear();
  if (!_sending) return;
  if (_publishing) {
    churn(shard, now);
    return;
  }
  pubsub_shared& shared = *_plan.pubsub.shared;
  if (!_shard_subscribed && _subscribed_count == _subscribed.size()) {
    _shard_subscribed = true;
    shared.shards_subscribed.fetch_add(1, std::memory_order_acq_rel);
  }
  if (!_shard_subscribed ||
      shared.shards_subscribed.load(std::memory_order_acquire) < _plan.shards ||
      !shared.workers_ready.load(std::memory_order_acquire)) {
    return;
  }
  start_publishing(shard, now);
}

void pubsub_scenario::start_publishing(shard_access& shard, uint64_t now) noexcept {
  _publishing = true;
  pubsub_shared& shared = *_plan.pubsub.shared;
  uint64_t unset = 0;
  shared.publish_start_ns.compare_exchange_strong(unset, now, std::memory_order_relaxed);
  if (_plan.pubsub.publish_rate <= 0) return;
  const uint64_t interval = uint64_t(1e9 / _plan.pubsub.publish_rate);
  for (uint32_t slot = 0; slot < _ids.size(); ++slot) {
    if (!_client.publishes(_ids[slot])) continue;
    // A WebSocket publisher must be open; an HTTP one publishes once
    // connected (its publishes wait, timed from their schedule).
    if (!http_publisher(slot) && shard.port_of(slot) == nullptr) continue;
    _next_publish_ns[slot] = now + (interval ? _random.next() % interval : 0);
    shard.rescheduled(slot);
  }
}

// Subscription churn (docs/pubsub.md): at the plan's rate, a random
// subscribed connection leaves one of its groups; it rejoins when the leave
// is acknowledged.
void pubsub_scenario::churn(shard_access& shard, uint64_t now) noexcept {
  for (unsigned n = 0; n < max_sends_per_wakeup && _client.churn_due(now); ++n) {
    const uint32_t slot = uint32_t(_random.next() % _ids.size());
    scenario_port* port = shard.port_of(slot);
    if (port == nullptr || !_subscribed[slot]) continue;
    const std::string_view text = _client.leave_message(slot, _random.next(), now);
    if (!text.empty()) send_text(*port, text);
  }
}

}  // namespace horde::core

namespace horde::core {

// The publish due first: one at a time, so a backlog waits here on its
// schedule (each still stamped with its scheduled time), never pipelined.
bool pubsub_scenario::take_publish(uint32_t slot, uint64_t now, std::string& out) noexcept {
  uint64_t& next = _next_publish_ns[slot];
  if (!_sending || next == 0 || next > now || _http[slot].scheduled_ns != 0) return false;
  if (next >= _end_ns) {
    next = 0;
    return false;
  }
  const uint64_t scheduled = next;
  next += uint64_t(1e9 / _plan.pubsub.publish_rate);
  if (next >= _end_ns) next = 0;
  const http_publish_plan& http = _plan.pubsub.http;
  const http_publish_origin& origin = http.origin_of(_ids[slot]);
  http_in_flight& f = _http[slot];
  f.publish = _client.next_publish(_ids[slot], scheduled, _random.next());
  f.scheduled_ns = scheduled;
  ++_http_in_flight;
  if (!render_http_publish(http, origin, _client.group_name(), _client.payload(), out,
                           _plan.vars.run_values)) {
    out.clear();
    publish_answered(slot, 0, now);  // cannot be sent: not published
    return false;
  }
  count_named(http.sent);
  count_named(origin.sent);
  _metrics.counters.messages_sent.add();
  _metrics.counters.bytes_sent.add(_client.payload().size());
  // horde's own lag only: the wait for the previous answer is the server's
  // (it shows in the publish_http latency, from the scheduled time).
  _metrics.latency.send_lag.record(now - std::min(now, std::max(scheduled, f.answered_ns)));
  return true;
}

void pubsub_scenario::publish_answered(uint32_t slot, int status, uint64_t now) noexcept {
  http_in_flight& f = _http[slot];
  if (f.scheduled_ns == 0) return;
  const http_publish_plan& http = _plan.pubsub.http;
  const http_publish_origin& origin = http.origin_of(_ids[slot]);
  f.answered_ns = now;
  if (status != 0) {
    for (const uint32_t latency : {http.latency, origin.latency})
      if (latency != no_metric && now >= f.scheduled_ns)
        _metrics.latency.named[latency].record(now - f.scheduled_ns);
    if (status >= 100 && status < 600 && http.status_class != no_metric)
      _metrics.counters.named[http.status_class + uint32_t(status / 100 - 1)].add();
  }
  f.scheduled_ns = 0;
  --_http_in_flight;
  if (status != 0 && http_publish_accepted(http, status)) {
    count_named(http.ok);
    count_named(origin.ok);
    return;
  }
  count_named(status != 0 ? http.refused : http.broken);
  count_named(status != 0 ? origin.refused : origin.broken);
  _client.publish_refused(f.publish);
}

}  // namespace horde::core

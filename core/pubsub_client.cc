#include "core/pubsub_client.hh"

#include <algorithm>
#include <cstring>

namespace horde::core {
pubsub_client::pubsub_client(const pubsub_plan& plan, shard_metrics& metrics,
                             std::span<const uint32_t> conn_ids, uint32_t shards)
    : _plan(plan),
      _shared(*plan.shared),
      _metrics(metrics),
      _k(uint32_t(std::min<uint64_t>(plan.layout.per_connection, plan.layout.groups))),
      _subs(conn_ids.size() * _k),
      _waiting(conn_ids.size()),
      _sent_ns(conn_ids.size()) {
  std::vector<uint32_t> groups(_k);
  for (size_t slot = 0; slot < conn_ids.size(); ++slot) {
    groups_of_connection(conn_ids[slot], plan.layout, groups);
    for (uint32_t j = 0; j < _k; ++j)
      _subs[slot * _k + j].group = groups[j];
  }
  if (plan.churn_rate > 0 && !conn_ids.empty()) {
    // Each shard does its share of the run's churn rate.
    _churn_interval_ns =
        std::max<uint64_t>(1, uint64_t(1e9 * std::max<uint32_t>(shards, 1) / plan.churn_rate));
    _change_of.resize(conn_ids.size());
  }
}

std::string_view pubsub_client::subscribe_message(uint32_t slot, uint32_t j) {
  const uint32_t group = _subs[size_t(slot) * _k + j].group;
  if (!_shared.not_created.empty() && _shared.not_created[group] != 0) {
    _metrics.counters.pubsub.subscriptions_refused.add();
    return {};
  }
  _name.clear();
  _plan.names.append_name(_name, _subs[size_t(slot) * _k + j].group);
  _message.clear();
  _plan.subscribe.expand(_message, {_name});
  return _message;
}

void pubsub_client::subscribes_sent(uint32_t slot, uint32_t sent, uint64_t now) noexcept {
  _waiting[slot] = uint16_t(sent);
  _sent_ns[slot] = now;
  _metrics.counters.pubsub.subscribes_sent.add(sent);
}

void pubsub_client::put_in_force(subscription_state& s) noexcept {
  s.start(_shared.ledger.join(s.group));
}

void pubsub_client::settle(uint32_t slot, uint64_t now) noexcept {
  if (_waiting[slot] == 0) return;
  for (uint32_t j = 0; j < _k; ++j) {
    subscription_state& s = _subs[size_t(slot) * _k + j];
    if (!s.in_force()) {
      put_in_force(s);
      _metrics.counters.pubsub.subscribes_in_force.add();
    }
  }
  _metrics.latency.subscribe.record(now - _sent_ns[slot]);
  _waiting[slot] = 0;
}

void pubsub_client::give_up(uint32_t slot) noexcept {
  _metrics.counters.pubsub.subscribe_timeouts.add(_waiting[slot]);
  _waiting[slot] = 0;
}

void pubsub_client::connection_gone(uint32_t slot) noexcept {
  _metrics.counters.pubsub.subscriptions_abandoned.add(_waiting[slot]);
  _waiting[slot] = 0;
  const bool leaving =
      !_change_of.empty() && _change_of[slot] != 0 && !_changes[_change_of[slot] - 1].rejoining;
  const uint32_t left_one = leaving ? _changes[_change_of[slot] - 1].sub : ~0u;
  if (!_change_of.empty() && _change_of[slot] != 0) end_change(slot);
  // Its subscriptions stop counting now: later publishes expect nothing of
  // a connection that is gone; what was owed and had not arrived is lost.
  for (uint32_t j = 0; j < _k; ++j) {
    const uint32_t sub = slot * _k + j;
    subscription_state& s = _subs[sub];
    if (!s.in_force()) continue;
    if (sub != left_one) _shared.ledger.leave(s.group);  // a leave in progress already did
    s.stop();
  }
}

subscription_state* pubsub_client::find(uint32_t slot, uint64_t group) noexcept {
  // k is small (tens): a scan of 16-byte entries beats any index here.
  subscription_state* first = _subs.data() + size_t(slot) * _k;
  for (uint32_t j = 0; j < _k; ++j)
    if (first[j].group == group) return &first[j];
  return nullptr;
}

pubsub_client::outcome pubsub_client::on_message(uint32_t slot, std::span<const uint8_t> body,
                                                 bool binary, uint64_t now) {
  const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  if (_waiting[slot] > 0 && !_plan.subscribe_ack.empty()) {
    if (auto name = _plan.subscribe_ack.match_one(text)) {
      auto group = _plan.names.number_of(*name);
      subscription_state* s = group ? find(slot, *group) : nullptr;
      if (s != nullptr && !s->in_force()) {
        put_in_force(*s);
        _metrics.counters.pubsub.subscribes_in_force.add();
        _metrics.latency.subscribe.record(now - _sent_ns[slot]);
        return --_waiting[slot] == 0 ? outcome::all_in_force : outcome::acknowledged;
      }
    }
  }
  if (!_change_of.empty() && _change_of[slot] != 0) {
    change& ch = _changes[_change_of[slot] - 1];
    const bool rejoining = ch.rejoining;
    if (on_change_ack(ch, text, now)) return rejoining ? outcome::acknowledged : outcome::left;
  }
  std::optional<proto::stamp> st = binary ? proto::read_stamp(body) : std::nullopt;
  if (!st) st = proto::find_stamp_text(text);
  if (!st || st->seq == 0) {
    _metrics.counters.pubsub.other.add();
    return outcome::other;
  }
  account(slot, *st, now);
  return outcome::delivery;
}

// A leave's acknowledgement takes back what was owed after the last delivery
// (the shard then sends rejoin_message); a rejoin's puts the subscription back in
// force. Returns whether `text` was the acknowledgement awaited.
bool pubsub_client::on_change_ack(change& ch, std::string_view text, uint64_t now) {
  subscription_state& s = _subs[ch.sub];
  const proto::message_template& ack = ch.rejoining ? _plan.subscribe_ack : _plan.unsubscribe_ack;
  auto name = ack.match_one(text);
  if (!name) return false;
  auto group = _plan.names.number_of(*name);
  if (!group || *group != s.group) return false;
  auto& c = _metrics.counters.pubsub;
  if (ch.rejoining) {
    put_in_force(s);
    c.resubscribes_in_force.add();
    _metrics.latency.resubscribe.record(now - ch.sent_ns);
    end_change(ch.slot);
    return true;
  }
  // The server delivers a group in order and nothing after this answer: the
  // numbers owed beyond the last one delivered were published after the
  // server applied the leave, so they were never owed (docs/pubsub.md).
  const uint32_t owed = s.owed_after_last_delivery(ch.left_after);
  c.withdrawn.add(owed);
  // Timed publishes among them owe one delivery less (a bounded look: this
  // only sharpens timing, never the counts).
  for (uint32_t seq = s.next, n = 0; owed != 0 && seq <= ch.left_after && n < 1024; ++seq, ++n)
    _shared.timer.count_down(s.group, seq, 1);
  s.stop();
  c.unsubscribes_acked.add();
  _metrics.latency.unsubscribe.record(now - ch.sent_ns);
  ch.rejoining = true;
  return true;
}

std::string_view pubsub_client::rejoin_message(uint32_t slot, uint64_t now) {
  if (_change_of.empty() || _change_of[slot] == 0) return {};  // the connection ended
  change& ch = _changes[_change_of[slot] - 1];
  ch.sent_ns = now;
  _name.clear();
  _plan.names.append_name(_name, _subs[ch.sub].group);
  _message.clear();
  _plan.subscribe.expand(_message, {_name});
  _metrics.counters.pubsub.resubscribes_sent.add();
  return _message;
}

void pubsub_client::end_change(uint32_t slot) noexcept {
  const uint32_t at = _change_of[slot] - 1;
  _change_of[slot] = 0;
  if (at + 1 != _changes.size()) {
    _changes[at] = _changes.back();
    _change_of[_changes[at].slot] = at + 1;
  }
  _changes.pop_back();
}

void pubsub_client::account(uint32_t slot, const proto::stamp& st, uint64_t now) noexcept {
  auto& c = _metrics.counters.pubsub;
  subscription_state* s = find(slot, st.group);
  if (s != nullptr && !_change_of.empty() && _change_of[slot] != 0) {
    const change& ch = _changes[_change_of[slot] - 1];
    if (&_subs[ch.sub] == s) {
      if (ch.rejoining) {  // arrived before the rejoin's acknowledgement
        c.before_join.add();
        return;
      }
      if (st.seq > ch.left_after) {  // published once it no longer counted
        c.after_leave.add();
        return;
      }
    }
  }
  if (s == nullptr || !s->in_force()) {
    c.unaccounted.add();
    return;
  }
  uint64_t skipped = 0;
  const delivery_kind kind = s->record(st.seq, skipped);
  if (kind == delivery_kind::before_join) {
    c.before_join.add();
    return;
  }
  c.delivered.add();
  if (st.send_ns <= now) _metrics.latency.fanout.record(now - st.send_ns);
  switch (kind) {
    case delivery_kind::in_order:
      c.in_order.add();
      break;
    case delivery_kind::after_gap:
      c.in_order.add();  // itself is new; what it skipped may still come late
      c.gaps.add(skipped);
      break;
    case delivery_kind::late:
      c.late.add();
      break;
    case delivery_kind::duplicate:
    case delivery_kind::before_join:
      c.duplicates.add();
      return;
  }
  _last_batch.add(_shared.timer, _metrics, st.group, uint32_t(st.seq), st.send_ns, now);
}

bool pubsub_client::all_delivered() const noexcept {
  // With workers, other workers' publishers may still owe this one's
  // subscribers deliveries it cannot count: the drain lasts its whole time.
  if (!_shared.remote_subscribers.empty()) return false;
  uint64_t owed = 0, unique = 0;
  for (const shard_metrics* m : _shared.metrics) {
    const auto& c = m->counters.pubsub;
    // What other workers' subscribers are owed arrives there, not here; what
    // the server refused to publish (--publish-http) is owed by no one.
    owed +=
        c.expected.get() - c.withdrawn.get() - c.expected_elsewhere.get() - c.refused_owed.get();
    unique += c.in_order.get() + c.late.get();
  }
  return unique >= owed;
}

bool pubsub_client::publishes(uint32_t conn_id) const noexcept {
  return conn_id < _plan.layout.publishers && groups_owned(conn_id, _plan.layout) > 0;
}

pubsub_client::published pubsub_client::next_publish(uint32_t conn_id, uint64_t scheduled_ns,
                                                     uint64_t random) {
  const uint64_t owned = groups_owned(conn_id, _plan.layout);
  const uint64_t group = owned_group(conn_id, random % owned, _plan.layout);
  const group_ledger::publish_ticket ticket = _shared.ledger.publish(group);
  auto& c = _metrics.counters.pubsub;
  c.publishes.add();
  c.expected.add(ticket.subscribers);
  if (!_shared.remote_subscribers.empty()) {
    // Other workers' subscribers: all in force since the barrier, and
    // (churn being refused with workers) they stay until the end.
    const uint32_t remote = _shared.remote_subscribers[group];
    c.expected.add(remote);
    c.expected_elsewhere.add(remote);
  }
  if (ticket.subscribers != 0) {
    const auto claim = _shared.timer.start(group, ticket.seq, ticket.subscribers, scheduled_ns);
    if (claim != publish_timer::claim::busy) c.last_timed.add();
    if (claim == publish_timer::claim::replaced_stale) c.last_stale.add();
  }

  proto::stamp st{conn_id, ticket.seq, group, scheduled_ns};
  // The payload: the text stamp, then filler up to the payload size.
  _payload.assign(std::max<size_t>(_plan.payload_size, proto::stamp_text_size), 'x');
  proto::write_stamp_text(_payload.data(), st);
  _name.clear();
  _plan.names.append_name(_name, group);
  return {group, ticket.seq, ticket.subscribers};
}

std::string_view pubsub_client::publish_message(uint32_t conn_id, uint64_t scheduled_ns,
                                                uint64_t random) {
  next_publish(conn_id, scheduled_ns, random);
  _message.clear();
  _plan.publish.expand(_message, {_name, _payload});
  return _message;
}

void pubsub_client::publish_refused(const published& p) noexcept {
  auto& c = _metrics.counters.pubsub;
  c.publishes_refused.add();
  c.refused_owed.add(p.subscribers);
  // Its timing slot, if it holds one, is freed: it will never complete.
  if (p.subscribers != 0) _shared.timer.count_down(p.group, p.seq, p.subscribers);
}

bool pubsub_client::churn_due(uint64_t now) noexcept {
  if (_churn_interval_ns == 0) return false;
  if (_next_churn_ns == 0) _next_churn_ns = now;  // churn starts with publishing
  if (_next_churn_ns > now) return false;
  _next_churn_ns += _churn_interval_ns;
  return true;
}

std::string_view pubsub_client::leave_message(uint32_t slot, uint64_t random, uint64_t now) {
  if (_change_of[slot] != 0 || _waiting[slot] != 0) return {};
  const uint32_t j = uint32_t(random % _k);
  const uint32_t sub = slot * _k + j;
  subscription_state& s = _subs[sub];
  if (!s.in_force()) return {};
  // From here publishes stop expecting it: the ledger says which was the
  // last one that still did.
  const uint32_t left_after = _shared.ledger.leave(s.group);
  _changes.push_back({slot, sub, left_after, false, now});
  _change_of[slot] = uint32_t(_changes.size());
  _metrics.counters.pubsub.unsubscribes_sent.add();
  _name.clear();
  _plan.names.append_name(_name, s.group);
  _message.clear();
  _plan.unsubscribe.expand(_message, {_name});
  return _message;
}

}  // namespace horde::core

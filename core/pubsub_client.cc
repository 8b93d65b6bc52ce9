#include "core/pubsub_client.hh"

#include <algorithm>
#include <cstring>

namespace horde::core {
pubsub_client::pubsub_client(const pubsub_plan& plan, shard_metrics& metrics,
                             std::span<const uint32_t> conn_ids)
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
}

std::string_view pubsub_client::subscribe_message(uint32_t slot, uint32_t j) {
  _name.clear();
  _plan.names.append_name(_name, _subs[size_t(slot) * _k + j].group);
  _message.clear();
  _plan.subscribe.expand(_message, {_name});
  return _message;
}

void pubsub_client::subscribes_sent(uint32_t slot, uint64_t now) noexcept {
  _waiting[slot] = uint16_t(_k);
  _sent_ns[slot] = now;
  _metrics.counters.pubsub.subscribes_sent.add(_k);
}

void pubsub_client::put_in_force(subscription_state& s) noexcept {
  s.start();
  // The only cross-shard write of a run, and only before publishing starts.
  _shared.in_force[s.group].fetch_add(1, std::memory_order_relaxed);
  _metrics.counters.pubsub.subscribes_in_force.add();
}

void pubsub_client::settle(uint32_t slot, uint64_t now) noexcept {
  if (_waiting[slot] == 0) return;
  for (uint32_t j = 0; j < _k; ++j) {
    subscription_state& s = _subs[size_t(slot) * _k + j];
    if (!s.in_force()) put_in_force(s);
  }
  _metrics.latency.subscribe.record(now - _sent_ns[slot]);
  _waiting[slot] = 0;
}

void pubsub_client::give_up(uint32_t slot) noexcept {
  _metrics.counters.pubsub.subscribe_timeouts.add(_waiting[slot]);
  _waiting[slot] = 0;
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
        _metrics.latency.subscribe.record(now - _sent_ns[slot]);
        return --_waiting[slot] == 0 ? outcome::all_in_force : outcome::acknowledged;
      }
    }
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

void pubsub_client::account(uint32_t slot, const proto::stamp& st, uint64_t now) noexcept {
  auto& c = _metrics.counters.pubsub;
  subscription_state* s = find(slot, st.group);
  if (s == nullptr || !s->in_force()) {
    c.unaccounted.add();
    return;
  }
  c.delivered.add();
  if (st.send_ns <= now) _metrics.latency.fanout.record(now - st.send_ns);
  uint64_t skipped = 0;
  switch (s->record(st.seq, skipped)) {
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
      c.duplicates.add();
      break;
  }
}

bool pubsub_client::all_delivered() const noexcept {
  uint64_t expected = 0, unique = 0;
  for (const shard_metrics* m : _shared.metrics) {
    const auto& c = m->counters.pubsub;
    expected += c.expected.get();
    unique += c.in_order.get() + c.late.get();
  }
  return unique >= expected;
}

bool pubsub_client::publishes(uint32_t conn_id) const noexcept {
  return conn_id < _plan.layout.publishers && groups_owned(conn_id, _plan.layout) > 0;
}

std::string_view pubsub_client::publish_message(uint32_t conn_id, uint64_t scheduled_ns,
                                                uint64_t random) {
  const uint64_t owned = groups_owned(conn_id, _plan.layout);
  const uint64_t group = owned_group(conn_id, random % owned, _plan.layout);
  const uint32_t seq = ++_shared.sequence[group];  // this connection is the group's only writer
  const uint32_t subscribers = _shared.in_force[group].load(std::memory_order_relaxed);
  auto& c = _metrics.counters.pubsub;
  c.publishes.add();
  c.expected.add(subscribers);

  proto::stamp st{conn_id, seq, group, scheduled_ns};
  // The payload: the text stamp, then filler up to the payload size.
  _payload.assign(std::max<size_t>(_plan.payload_size, proto::stamp_text_size), 'x');
  proto::write_stamp_text(_payload.data(), st);
  _name.clear();
  _plan.names.append_name(_name, group);
  _message.clear();
  _plan.publish.expand(_message, {_name, _payload});
  return _message;
}

}  // namespace horde::core

#include "core/request_scenario.hh"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/clock.hh"
#include "core/open_loop.hh"

namespace horde::core {
namespace {

// FNV-1a: correlation keys are compared by a 64-bit hash of their text, so
// a request in flight keeps 8 bytes of key, not a string.
uint64_t key_hash(std::string_view text) noexcept {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return h;
}

// The index of `pointer` in `pointers`, added when new.
uint8_t field_index(std::vector<proto::json_pointer>& pointers, const proto::json_pointer& p) {
  for (size_t i = 0; i < pointers.size(); ++i)
    if (pointers[i].text() == p.text()) return uint8_t(i);
  pointers.push_back(p);
  return uint8_t(pointers.size() - 1);
}

bool is_value(const proto::json_scalar& v) noexcept {
  return v.kind == proto::json_value_kind::string || v.kind == proto::json_value_kind::number ||
         v.kind == proto::json_value_kind::boolean || v.kind == proto::json_value_kind::null;
}

}  // namespace

request_scenario::request_scenario(const client_plan& plan, shard_metrics& metrics,
                                   proto::mask_source& random, std::span<const uint32_t> conn_ids,
                                   const connection_vars& vars, uint64_t end_ns)
    : _plan(plan),
      _steps(plan.steps),
      _metrics(metrics),
      _random(random),
      _ids(conn_ids),
      _vars(vars),
      _end_ns(end_ns),
      _kind_count(plan.steps.requests.size()),
      _kinds(conn_ids.size() * plan.steps.requests.size()),
      _slots(conn_ids.size()),
      _random_state(random.next()) {
  for (const request_kind& k : _steps.requests) {
    _match_field.push_back(field_index(_pointers, k.match));
    _error_field.push_back(k.has_error ? field_index(_pointers, k.error) : 0);
    _end_field.push_back(k.has_end ? field_index(_pointers, k.end.pointer()) : 0);
  }
  if (_steps.heartbeat.has_expect)
    _expect_field = field_index(_pointers, _steps.heartbeat.expect.pointer());
  // The wall clock is read per message only when a template prints it.
  for (const request_kind& k : _steps.requests)
    _needs_clock = _needs_clock || k.send.needs_clock() || k.match_value.needs_clock();
  _needs_clock = _needs_clock || _steps.heartbeat.send.needs_clock();
  _fields.resize(_pointers.size());
}

void request_scenario::count(uint32_t metric, uint64_t n) noexcept {
  if (metric != no_metric) _metrics.counters.named[metric].add(n);
}

void request_scenario::time(uint32_t metric, uint64_t ns) noexcept {
  if (metric != no_metric) _metrics.latency.named[metric].record(ns);
}

uint64_t request_scenario::gap_ns(const request_kind& k) const noexcept {
  const double mean_ns = 1e9 / k.rate;
  if (_plan.arrivals == arrival::constant) return uint64_t(mean_ns);
  const double u = double((_random.next() >> 11) + 1) * (1.0 / 9007199254740992.0);
  return uint64_t(-std::log(u) * mean_ns) + 1;
}

proto::var_values request_scenario::values_for(uint32_t slot, uint64_t seq) noexcept {
  proto::var_values v;
  v.conn = _ids[slot];
  v.seq = seq;
  if (_needs_clock) v.realtime_ns = int64_t(realtime_ns());
  v.random_state = &_random_state;
  if (!_vars.empty()) v.user = _vars.values(slot);
  return v;
}

void request_scenario::on_open(uint32_t slot, scenario_port&, uint64_t now) noexcept {
  if (!_sending) return;
  // A random phase per schedule spreads connections over the first
  // interval instead of a thundering herd at upgrade time.
  for (size_t k = 0; k < _kind_count; ++k) {
    const request_kind& kind = _steps.requests[k];
    if (kind.rate <= 0) continue;
    const uint64_t interval = uint64_t(1e9 / kind.rate);
    kind_of(slot, k).next_send_ns = now + (interval ? _random.next() % interval : 0);
  }
  if (const uint64_t every = _steps.heartbeat.every_ns; every != 0)
    _slots[slot].heartbeat.next_ns = now + _random.next() % every + 1;
}

uint64_t request_scenario::next_due_ns(uint32_t slot) const noexcept {
  uint64_t when = 0;
  auto consider = [&](uint64_t t) {
    if (t != 0 && (when == 0 || t < when)) when = t;
  };
  for (size_t k = 0; k < _kind_count; ++k)
    consider(kind_of(slot, k).next_send_ns);
  const slot_state& s = _slots[slot];
  consider(s.heartbeat.next_ns);
  consider(s.heartbeat.deadline_ns);
  for (const in_flight& w : s.waiting)
    consider(w.deadline_ns);
  return when;
}

bool request_scenario::send_request(uint32_t slot, scenario_port& port, size_t k,
                                    uint64_t scheduled) noexcept {
  const request_kind& kind = _steps.requests[k];
  kind_state& ks = kind_of(slot, k);
  slot_state& s = _slots[slot];
  // {seq} counts from 1: JSON-RPC servers (rpc-websockets among them) take
  // an id of 0 for a notification and never answer it.
  const proto::var_values values = values_for(slot, ks.seq + 1);
  _scratch.clear();
  kind.match_value.render(_scratch, values);
  const uint64_t key = key_hash(_scratch);
  _scratch.clear();
  kind.send.render(_scratch, values);
  if (s.waiting.size() >= max_in_flight) {
    // The server is not answering: the oldest request is given up now, so
    // a connection's memory stays bounded whatever the server does.
    count(_steps.requests[s.waiting.front().kind].timeouts);
    finish_request(s, 0);
  }
  const auto body =
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(_scratch.data()), _scratch.size());
  if (!port.send(kind.binary ? proto::ws_opcode::binary : proto::ws_opcode::text, body))
    return false;
  ++ks.seq;
  count(kind.sent);
  s.waiting.push_back(in_flight{key, scheduled, scheduled + kind.timeout_ns, 0, 0, uint8_t(k)});
  ++_outstanding;
  return true;
}

void request_scenario::send_heartbeat(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  const heartbeat_plan& hb = _steps.heartbeat;
  heartbeat_state& h = _slots[slot].heartbeat;
  if (h.next_ns == 0 || now < h.next_ns) return;
  const uint64_t scheduled = h.next_ns;
  h.next_ns = _sending && scheduled + hb.every_ns < _end_ns ? scheduled + hb.every_ns : 0;
  if (h.sent_ns != 0) return;  // the last one still waits: its miss is counted at its deadline
  _scratch.clear();
  hb.send.render(_scratch, values_for(slot, 0));
  const auto body =
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(_scratch.data()), _scratch.size());
  if (!port.send(proto::ws_opcode::text, body)) return;
  count(hb.sent);
  h.sent_ns = scheduled;
  h.deadline_ns = scheduled + hb.timeout_ns;
}

void request_scenario::finish_request(slot_state& s, size_t index) noexcept {
  s.waiting.erase(s.waiting.begin() + ptrdiff_t(index));
  if (_outstanding > 0) --_outstanding;
  // Memory only while something is in flight (100k idle connections).
  if (s.waiting.empty() && s.waiting.capacity() > 8) s.waiting = {};
}

void request_scenario::expire(uint32_t slot, uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  for (size_t i = 0; i < s.waiting.size();) {
    if (s.waiting[i].deadline_ns > now) {
      ++i;
      continue;
    }
    count(_steps.requests[s.waiting[i].kind].timeouts);
    finish_request(s, i);
  }
  heartbeat_state& h = s.heartbeat;
  if (h.deadline_ns != 0 && h.deadline_ns <= now) {
    count(_steps.heartbeat.missed);
    h.sent_ns = 0;
    h.deadline_ns = 0;
  }
}

void request_scenario::on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  expire(slot, now);
  for (size_t k = 0; k < _kind_count; ++k) {
    kind_state& ks = kind_of(slot, k);
    if (!_sending) ks.next_send_ns = 0;
    const request_kind& kind = _steps.requests[k];
    bool gone = false;
    send_due(
        ks.next_send_ns, now, _end_ns, _metrics, [&] { return gap_ns(kind); },
        [&](uint64_t scheduled) -> std::optional<size_t> {
          if (!send_request(slot, port, k, scheduled)) {
            gone = true;
            return std::nullopt;
          }
          return _scratch.size();
        });
    if (gone) return;  // on_gone has run
  }
  if (!_sending) _slots[slot].heartbeat.next_ns = 0;
  send_heartbeat(slot, port, now);
}

// The reply's request, found by its correlation key; false when it answers
// none in flight.
bool request_scenario::take_reply(uint32_t slot, std::span<const uint8_t> body,
                                  uint64_t received_ns) noexcept {
  slot_state& s = _slots[slot];
  if (s.waiting.empty()) return false;
  _reader.get_many(body, _pointers, _fields);
  for (size_t i = 0; i < s.waiting.size(); ++i) {
    in_flight& w = s.waiting[i];
    const request_kind& kind = _steps.requests[w.kind];
    const proto::json_scalar& key = _fields[_match_field[w.kind]];
    if (!is_value(key) || key_hash(key.text) != w.key_hash) continue;
    const bool error = kind.has_error && is_value(_fields[_error_field[w.kind]]) &&
                       _fields[_error_field[w.kind]].kind != proto::json_value_kind::null;
    const uint64_t since_scheduled =
        received_ns > w.scheduled_ns ? received_ns - w.scheduled_ns : 0;
    if (!kind.stream) {
      count(error ? kind.errors : kind.answered);
      time(kind.latency, since_scheduled);
      finish_request(s, i);
      return true;
    }
    // A stream frame: time to the first, gaps between the next ones.
    count(kind.frames);
    if (w.frames == 0) {
      time(kind.first_frame, since_scheduled);
    } else {
      time(kind.frame_gap, received_ns > w.last_frame_ns ? received_ns - w.last_frame_ns : 0);
    }
    ++w.frames;
    w.last_frame_ns = received_ns;
    const bool ended = error || (kind.has_end && kind.end.test(_fields[_end_field[w.kind]])) ||
                       (kind.count != 0 && w.frames >= kind.count);
    if (ended) {
      count(error ? kind.errors : kind.answered);
      time(kind.latency, since_scheduled);
      finish_request(s, i);
    } else {
      // A stream is cut short by silence: each frame moves its deadline.
      w.deadline_ns = received_ns + kind.timeout_ns;
    }
    return true;
  }
  return false;
}

void request_scenario::on_message(uint32_t slot, scenario_port&, proto::ws_opcode,
                                  std::span<const uint8_t> body, uint64_t received_ns) noexcept {
  _metrics.counters.messages_received.add();
  _metrics.counters.bytes_received.add(body.size());
  slot_state& s = _slots[slot];
  if (_steps.listen_only) {
    count(_steps.pushes);
    if (s.last_push_ns != 0 && received_ns > s.last_push_ns)
      time(_steps.push_gap, received_ns - s.last_push_ns);
    s.last_push_ns = received_ns;
  }
  if (take_reply(slot, body, received_ns)) {
    _metrics.counters.messages_answered.add();
    return;
  }
  heartbeat_state& h = s.heartbeat;
  if (h.sent_ns != 0) {
    const heartbeat_plan& hb = _steps.heartbeat;
    const bool answer = !hb.has_expect || _reader.matches(body, hb.expect);
    if (answer) {
      count(hb.answered);
      time(hb.latency, received_ns > h.sent_ns ? received_ns - h.sent_ns : 0);
      h.sent_ns = 0;
      h.deadline_ns = 0;
      return;
    }
  }
  if (!_steps.listen_only) count(_steps.unmatched);
}

void request_scenario::on_gone(uint32_t slot) noexcept {
  slot_state& s = _slots[slot];
  // What was in flight will never be answered: lost with its connection.
  for (const in_flight& w : s.waiting)
    count(_steps.requests[w.kind].lost);
  _outstanding = _outstanding > s.waiting.size() ? _outstanding - s.waiting.size() : 0;
  s.waiting = {};
  s.heartbeat = {};
  s.last_push_ns = 0;
  for (size_t k = 0; k < _kind_count; ++k)
    kind_of(slot, k).next_send_ns = 0;
}

}  // namespace horde::core

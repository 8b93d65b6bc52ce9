#include "core/echo_scenario.hh"

#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>

#include "core/open_loop.hh"

namespace horde::core {

echo_scenario::echo_scenario(const client_plan& plan, std::span<shard_metrics* const> by_target,
                             proto::mask_source& random, std::span<const uint32_t> conn_ids,
                             uint64_t end_ns)
    : _plan(plan),
      _by_target(by_target),
      _random(random),
      _ids(conn_ids),
      _end_ns(end_ns),
      _slots(conn_ids.size()),
      _payload(std::max<size_t>(plan.message_size, proto::stamp_text_size)) {
  // --payload: the template's bytes stay in the buffer; only the stamp's
  // 32 bytes at its offset change per message.
  if (!plan.payload.empty()) _payload.assign(plan.payload.begin(), plan.payload.end());
}

void echo_scenario::on_open(uint32_t slot, scenario_port&, uint64_t now) noexcept {
  if (_plan.message_rate <= 0 || !_sending) return;
  // A random phase spreads connections over the first interval instead of
  // a thundering herd of sends at upgrade time.
  const uint64_t interval = next_interval_ns(now);
  _slots[slot].next_send_ns = now + (interval ? _random.next() % interval : 0);
}

uint64_t echo_scenario::next_interval_ns(uint64_t at) noexcept {
  // --rate-stages: the rate at the send being scheduled from.
  const double rate = _plan.rate_stages.empty()
                          ? _plan.message_rate
                          : _plan.rate_stages.at(at - std::min(at, _end_ns - _plan.duration_ns));
  const double mean_ns = 1e9 / rate;
  if (_plan.arrivals == arrival::constant) return uint64_t(mean_ns);
  // Exponential gaps make a Poisson process; 53 random bits give (0, 1].
  const double u = double((_random.next() >> 11) + 1) * (1.0 / 9007199254740992.0);
  return uint64_t(-std::log(u) * mean_ns) + 1;
}

void echo_scenario::on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  if (!_sending) s.next_send_ns = 0;
  const auto opcode = _plan.binary ? proto::ws_opcode::binary : proto::ws_opcode::text;
  const std::span<uint8_t> body(_payload.data(), _plan.message_size);
  send_due(
      s.next_send_ns, now, _end_ns, of(slot), [&] { return next_interval_ns(s.next_send_ns); },
      [&](uint64_t scheduled) -> std::optional<size_t> {
        const proto::stamp st{_ids[slot], s.seq, 0, scheduled};
        if (!_plan.payload.empty()) {
          proto::write_stamp(body.data() + _plan.stamp_offset, st);
        } else if (_plan.binary) {
          proto::fill_payload(body, st);
        } else {
          proto::fill_text_payload(body, st);
        }
        if (!port.send(opcode, body)) return std::nullopt;  // gone (on_gone has run)
        ++s.seq;
        ++_outstanding;
        return body.size();
      });
}

bool echo_scenario::first_answer(slot_state& s, uint32_t seq) noexcept {
  if (seq >= s.highest) {
    const uint32_t shift = seq + 1 - s.highest;
    s.window = shift >= 64 ? 0 : s.window << shift;
    s.window |= 1;
    s.highest = seq + 1;
    return true;
  }
  const uint32_t back = s.highest - 1 - seq;
  if (back >= 64) return true;  // too old to tell: see the header
  const uint64_t bit = uint64_t(1) << back;
  if (s.window & bit) return false;
  s.window |= bit;
  return true;
}

void echo_scenario::on_message(uint32_t slot, scenario_port&, proto::ws_opcode opcode,
                               std::span<const uint8_t> body, uint64_t received_ns) noexcept {
  of(slot).counters.messages_received.add();
  // Raw TCP hands over each message's stamp alone; the message was whole.
  of(slot).counters.bytes_received.add(_plan.raw ? _plan.message_size : body.size());
  record(slot, body, opcode == proto::ws_opcode::binary, received_ns);
}

void echo_scenario::record(uint32_t slot, std::span<const uint8_t> body, bool binary,
                           uint64_t received_ns) noexcept {
  slot_state& s = _slots[slot];
  const std::optional<proto::stamp> st =
      !_plan.payload.empty()
          ? (body.size() >= _plan.stamp_offset ? proto::read_stamp(body.subspan(_plan.stamp_offset))
                                               : std::nullopt)
      : binary ? proto::read_stamp(body)
               : proto::find_stamp_text(
                     std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
  if (!st || st->conn_id != _ids[slot] || st->send_ns > received_ns || st->seq >= s.seq) {
    of(slot).counters.messages_unstamped.add();
    return;
  }
  if (!first_answer(s, uint32_t(st->seq))) {
    of(slot).counters.messages_duplicated.add();
    return;
  }
  of(slot).counters.messages_answered.add();
  if (_outstanding > 0) --_outstanding;
  of(slot).latency.round_trip.record(received_ns - st->send_ns);
  // Raw TCP hands over only each message's stamp: there is nothing more to check.
  if (_plan.raw) return;
  if (body.size() < _plan.message_size) {
    of(slot).counters.messages_truncated.add();
  } else if (!_plan.payload.empty()) {
    if (!payload_intact(body)) of(slot).counters.messages_corrupted.add();
  } else if (binary ? !proto::filler_intact(body) : !proto::text_filler_intact(body)) {
    of(slot).counters.messages_corrupted.add();
  }
}

// The echo of a --payload message: every byte but the stamp's as sent.
bool echo_scenario::payload_intact(std::span<const uint8_t> body) const noexcept {
  const std::string& p = _plan.payload;
  if (body.size() != p.size()) return false;
  const size_t stamp_end = _plan.stamp_offset + proto::stamp_size;
  return std::memcmp(body.data(), p.data(), _plan.stamp_offset) == 0 &&
         std::memcmp(body.data() + stamp_end, p.data() + stamp_end, p.size() - stamp_end) == 0;
}

void echo_scenario::on_gone(uint32_t slot) noexcept {
  slot_state& s = _slots[slot];
  // What this connection still owed will never come: the drain stops waiting.
  const uint64_t owed = [&] {
    uint64_t answered = 0;
    const uint32_t span = std::min<uint32_t>(s.highest, 64);
    for (uint32_t k = 0; k < span; ++k)
      answered += (s.window >> k) & 1;
    // Sequences below the window are taken as answered (see the header).
    return uint64_t(s.seq) - (s.highest - span) - answered;
  }();
  _outstanding = _outstanding > owed ? _outstanding - owed : 0;
  s.next_send_ns = 0;
  // A reconnect opens the slot again: its sequence goes on, and what this
  // connection owed is written off (counted unanswered once, above).
  s.highest = s.seq;
  s.window = ~uint64_t(0);
}

}  // namespace horde::core

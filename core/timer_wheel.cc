#include "core/timer_wheel.hh"

#include <bit>

namespace horde::core {

timer_wheel::timer_wheel(uint64_t now_ns, uint64_t tick_ns, uint32_t slots)
    : _slots(std::bit_ceil(slots < 2 ? 2u : slots)),
      _tick_ns(tick_ns == 0 ? 1 : tick_ns),
      _mask(_slots.size() - 1),
      _current_tick(now_ns / _tick_ns) {
  for (auto& head : _slots)
    head.next = head.prev = &head;
}

void timer_wheel::schedule(timer_node& node, uint64_t deadline_ns) noexcept {
  if (node.scheduled()) {
    unlink(node);
    --_size;
  }
  node.deadline_ns = deadline_ns;
  uint64_t tick = deadline_ns / _tick_ns;
  if (tick < _current_tick) tick = _current_tick;
  link_after(slot_for_tick(tick), node);
  ++_size;
}

void timer_wheel::cancel(timer_node& node) noexcept {
  if (!node.scheduled()) return;
  unlink(node);
  --_size;
}

uint64_t timer_wheel::next_expiry_hint(uint64_t now_ns, uint64_t cap_ns) const noexcept {
  if (_size == 0) return cap_ns;
  const uint64_t horizon = now_ns + cap_ns;
  uint64_t earliest = horizon;
  const uint64_t first = _current_tick;
  const uint64_t last_tick = horizon / _tick_ns;
  const uint64_t span =
      last_tick - first + 1 < _slots.size() ? last_tick - first + 1 : _slots.size();
  for (uint64_t i = 0; i < span; ++i) {
    const timer_node& head = _slots[(first + i) & _mask];
    for (const timer_node* n = head.next; n != &head; n = n->next) {
      if (n->deadline_ns < earliest) earliest = n->deadline_ns;
    }
    // Deadlines in later slots are later than any found up to here, except
    // for timers of a later rotation, which are skipped by the horizon.
    if (earliest < horizon && (first + i + 1) * _tick_ns > earliest) break;
  }
  return earliest <= now_ns ? 0 : earliest - now_ns;
}

}  // namespace horde::core

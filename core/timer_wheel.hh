// A hashed timing wheel (Varghese & Lauck): one slot per tick, intrusive
// doubly-linked lists, O(1) schedule and cancel, and advance() costs one
// visit per elapsed tick plus one per due (or re-hashed) timer. Deadlines
// beyond one rotation stay in their slot and are skipped until due.
//
// The node lives inside its owner (a connection slot): no allocation, and the
// owner is recovered from the node's address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace horde::core {

struct timer_node {
  timer_node* next = nullptr;  // nullptr: not scheduled
  timer_node* prev = nullptr;
  uint64_t deadline_ns = 0;

  bool scheduled() const noexcept { return next != nullptr; }
};

static_assert(sizeof(timer_node) == 24);

class timer_wheel {
 public:
  explicit timer_wheel(uint64_t now_ns, uint64_t tick_ns = 1'000'000, uint32_t slots = 4096);
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;

  // (Re)schedules node; a deadline in the past fires on the next advance.
  void schedule(timer_node& node, uint64_t deadline_ns) noexcept;
  void cancel(timer_node& node) noexcept;

  // Calls fire(node) for every node whose deadline is <= now_ns, after
  // unlinking it; fire may schedule or cancel any node, itself included.
  template <class Fire>
  void advance(uint64_t now_ns, Fire fire);

  // How long until the earliest deadline, looking no further than cap_ns
  // ahead (returns cap_ns when nothing is due sooner); 0 when one is due.
  uint64_t next_expiry_hint(uint64_t now_ns, uint64_t cap_ns) const noexcept;

  size_t size() const noexcept { return _size; }

 private:
  static void link_after(timer_node& head, timer_node& node) noexcept {
    node.next = head.next;
    node.prev = &head;
    head.next->prev = &node;
    head.next = &node;
  }
  static void unlink(timer_node& node) noexcept {
    node.prev->next = node.next;
    node.next->prev = node.prev;
    node.next = node.prev = nullptr;
  }
  timer_node& slot_for_tick(uint64_t tick) noexcept { return _slots[tick & _mask]; }

  std::vector<timer_node> _slots;  // sentinels of circular lists
  uint64_t _tick_ns;
  uint64_t _mask;
  uint64_t _current_tick;  // slots before it are done; its own is re-scanned
  size_t _size = 0;
};

template <class Fire>
void timer_wheel::advance(uint64_t now_ns, Fire fire) {
  const uint64_t now_tick = now_ns / _tick_ns;
  if (now_tick < _current_tick) return;
  const uint64_t first = _current_tick;
  // Moved first: a past deadline that fire() schedules must land in now's
  // slot (visited last, and again next time), not in one already passed.
  _current_tick = now_tick;
  // After a gap of a whole rotation every slot is visited once, now's last.
  const uint64_t start = now_tick - first >= _slots.size() ? now_tick - _slots.size() + 1 : first;
  for (uint64_t tick = start; tick <= now_tick; ++tick) {
    timer_node& head = slot_for_tick(tick);
    if (head.next == &head) continue;
    // Move the slot's list aside so fire() may add to this slot safely.
    timer_node pending;
    pending.next = head.next;
    pending.prev = head.prev;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    head.next = head.prev = &head;
    while (pending.next != &pending) {
      timer_node& node = *pending.next;
      unlink(node);
      if (node.deadline_ns <= now_ns) {
        --_size;
        fire(node);
      } else {
        link_after(head, node);  // a later rotation, or later in this tick
      }
    }
  }
}

}  // namespace horde::core

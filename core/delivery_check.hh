// One subscription's view of its group's numbered messages. The group's one
// publisher numbers them 1, 2, 3, ...; the subscription remembers the first
// number owed to it (the first published after it came into force), the next
// number it expects and which of the 32 before it arrived, so a delivery is
// classified exactly (in order, after a gap, late, a duplicate, or from
// before the subscription counted) in 16 bytes and O(1).
#pragma once

#include <cstdint>

namespace horde::core {

enum class delivery_kind : uint8_t {
  in_order,     // the next number expected
  after_gap,    // later than expected: the ones between are missing (for now)
  late,         // one of the missing ones, arriving after later ones (reordered)
  duplicate,    // seen already (or so old the window cannot tell: counted here)
  before_join,  // published before this subscription counted: not owed to it
};

struct subscription_state {
  static constexpr uint32_t window = 32;

  uint32_t group = 0;
  uint32_t next = 0;   // the next sequence number expected; 0 = not in force
  uint32_t seen = 0;   // bit i: number next-1-i arrived
  uint32_t first = 0;  // the first number owed: 1 + the last published before the join

  bool in_force() const noexcept { return next != 0; }
  // In force from now; `published_before` is the group's last number then.
  void start(uint32_t published_before = 0) noexcept {
    first = next = published_before + 1;
    seen = 0;
  }
  void stop() noexcept { next = 0; }
  // Numbers up to `last` that were owed and have not arrived beyond the last
  // one that did: what a leave acknowledged now takes back (docs/pubsub.md).
  uint32_t owed_after_last_delivery(uint32_t last) const noexcept {
    return last >= next ? last - next + 1 : 0;
  }

  // seq >= 1. Returns how the delivery counts; `skipped` is how many numbers
  // an after_gap delivery jumped over.
  delivery_kind record(uint64_t seq, uint64_t& skipped) noexcept {
    skipped = 0;
    if (seq == next) {
      seen = (seen << 1) | 1;
      ++next;
      return delivery_kind::in_order;
    }
    if (seq < first) return delivery_kind::before_join;
    if (seq > next) {
      const uint64_t jump = seq - next + 1;  // positions the window moves
      skipped = seq - next;
      seen = jump >= window ? 1 : ((seen << jump) | 1);
      next = uint32_t(seq + 1);
      return delivery_kind::after_gap;
    }
    const uint64_t age = next - 1 - seq;  // bit index
    if (age >= window) return delivery_kind::duplicate;
    const uint32_t bit = uint32_t(1) << age;
    if (seen & bit) return delivery_kind::duplicate;
    seen |= bit;
    return delivery_kind::late;
  }
};

static_assert(sizeof(subscription_state) == 16);

}  // namespace horde::core

// Publish-to-last-subscriber timing for the client shards of a pub/sub run
// (docs/pubsub.md): a fixed table of count-downs, shared by all shards, whose
// size does not depend on the number of groups (1 MiB for 65,536 slots).
//
// A publish hashes (group, number) to one slot. Its owner claims the slot
// when it sends the publish, with the number of deliveries it owes; shards
// count deliveries down; the one that reaches zero records the latency. A
// publish whose slot is taken is not timed (a sample); a slot held more than
// `stale_after_ms` by one publish (a delivery lost, or a backlog that deep)
// is given up to the next claimant. Many publishes of one group can be timed
// at once, so a backlog does not bias the sample toward quiet moments.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace horde::core {

class publish_timer {
 public:
  static constexpr uint32_t slot_count = 1u << 16;
  static constexpr uint32_t stale_after_ms = 10'000;

  publish_timer() : _slots(new slot[slot_count]) {}

  enum class claim : uint8_t { started, replaced_stale, busy };
  // The owner of `group` sent publish `seq`, owing `deliveries`.
  claim start(uint64_t group, uint32_t seq, uint32_t deliveries, uint64_t scheduled_ns) noexcept {
    const uint64_t h = mix(group, seq);
    slot& s = _slots[h & (slot_count - 1)];
    uint64_t current = s.owed.load(std::memory_order_relaxed);
    const uint32_t now_ms = uint32_t(scheduled_ns / 1'000'000);  // wraps; differences do not
    const bool held = uint32_t(current) != 0;
    const bool stale =
        held && now_ms - s.scheduled_ms.load(std::memory_order_relaxed) >= stale_after_ms;
    if (held && !stale) return claim::busy;
    // Another owner may claim the same slot at once: the CAS picks one.
    if (!s.owed.compare_exchange_strong(current, tag_of(h) << 32 | deliveries,
                                        std::memory_order_relaxed)) {
      return claim::busy;
    }
    s.scheduled_ms.store(now_ms, std::memory_order_relaxed);
    return stale ? claim::replaced_stale : claim::started;
  }

  // `count` deliveries of publish `seq` of `group` arrived (or are no longer
  // owed); true when they were the last ones its timing waited for.
  bool count_down(uint64_t group, uint32_t seq, uint32_t count) noexcept {
    const uint64_t h = mix(group, seq);
    slot& s = _slots[h & (slot_count - 1)];
    uint64_t current = s.owed.load(std::memory_order_relaxed);
    for (;;) {
      const uint32_t remaining = uint32_t(current);
      if ((current >> 32) != tag_of(h) || remaining == 0) return false;
      const uint32_t left = remaining > count ? remaining - count : 0;
      const uint64_t next = (current & ~uint64_t(0xffffffff)) | left;
      if (s.owed.compare_exchange_weak(current, next, std::memory_order_relaxed)) return left == 0;
    }
  }

  static constexpr uint64_t bytes = uint64_t(slot_count) * 16;

 private:
  struct alignas(16) slot {
    std::atomic<uint64_t> owed{0};  // (tag << 32) | deliveries still owed; 0 owed = free
    std::atomic<uint32_t> scheduled_ms{0};
  };
  static_assert(sizeof(slot) == 16);

  // splitmix64 of (group, number): the low bits pick the slot, the high 32
  // tell the publishes sharing a slot apart.
  static uint64_t mix(uint64_t group, uint32_t seq) noexcept {
    uint64_t x = (group << 32 | seq) + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  static uint64_t tag_of(uint64_t h) noexcept { return h >> 32; }

  std::unique_ptr<slot[]> _slots;
};

}  // namespace horde::core

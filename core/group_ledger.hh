// What the client shards of a pub/sub run share per group (docs/pubsub.md):
// the group's publish count and its subscriptions in force, packed in one
// atomic word, and the count-down of the one publish whose delivery to the
// *last* subscriber is being timed.
//
// Why one word for (sequence, in force): with subscription churn a
// subscription leaves and joins while its group is published. Packing both
// numbers makes a publish and a join or leave linearizable: the publish's
// fetch_add returns exactly the subscriptions in force before it, and a
// join's (or leave's) RMW returns exactly the last number published before
// it. So "publishes numbered above J expect this subscription" holds exactly,
// with no window where the two numbers disagree (two separate atomics would
// need a lock, or let a publish and a leave each miss the other).
//
// Cost: 20 bytes per group (3M groups: 60 MB), cross-shard writes only per
// publish, join, leave and per batch of deliveries of one publish.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace horde::core {

class group_ledger {
 public:
  explicit group_ledger(uint64_t groups)
      : _state(new std::atomic<uint64_t>[groups]()),
        _last(new std::atomic<uint64_t>[groups]()),
        _timed_ms(new uint32_t[groups]()) {}

  struct publish_ticket {
    uint32_t seq;          // this publish's number in its group, from 1
    uint32_t subscribers;  // subscriptions in force when it was numbered
  };
  // Numbers a publish of `group`; only the group's one owner calls this.
  publish_ticket publish(uint64_t group) noexcept {
    const uint64_t before = _state[group].fetch_add(uint64_t(1) << 32, std::memory_order_acq_rel);
    return {uint32_t(before >> 32) + 1, uint32_t(before)};
  }
  // A subscription comes into force; returns the last number published
  // before it (publishes numbered above expect it).
  uint32_t join(uint64_t group) noexcept {
    return uint32_t(_state[group].fetch_add(1, std::memory_order_acq_rel) >> 32);
  }
  // A subscription stops counting; returns the last number published while
  // it still counted.
  uint32_t leave(uint64_t group) noexcept {
    return uint32_t(_state[group].fetch_sub(1, std::memory_order_acq_rel) >> 32);
  }
  uint32_t in_force(uint64_t group) const noexcept {
    return uint32_t(_state[group].load(std::memory_order_relaxed));
  }

  // Publish-to-last-subscriber timing. At most one publish per group is
  // timed at once: the owner starts timing a publish when the group's
  // previous timed one is complete, or when that one was scheduled more than
  // `stale_after_ms` before this one (a delivery was lost, or the backlog is
  // that deep: it is given up). By time, not by count: slow is not lost.
  static constexpr uint32_t stale_after_ms = 10'000;
  enum class timing : uint8_t { started, replaced_stale, busy };
  timing start_timing(uint64_t group, publish_ticket t, uint64_t scheduled_ns) noexcept {
    const uint64_t current = _last[group].load(std::memory_order_relaxed);
    const uint32_t remaining = uint32_t(current);
    const uint32_t now_ms = uint32_t(scheduled_ns / 1'000'000);  // wraps; differences do not
    const bool stale = remaining != 0 && now_ms - _timed_ms[group] >= stale_after_ms;
    if (remaining != 0 && !stale) return timing::busy;
    _timed_ms[group] = now_ms;  // only the owner reads or writes it
    // A deliverer's CAS against the old value fails after this store and
    // sees the new number: it then leaves this one alone.
    _last[group].store(uint64_t(t.seq) << 32 | t.subscribers, std::memory_order_relaxed);
    return stale ? timing::replaced_stale : timing::started;
  }
  // `count` deliveries of publish `seq` arrived (or will never be owed);
  // true when they were the last ones owed to the timed publish.
  bool count_down(uint64_t group, uint32_t seq, uint32_t count) noexcept {
    uint64_t current = _last[group].load(std::memory_order_relaxed);
    for (;;) {
      const uint32_t remaining = uint32_t(current);
      if (uint32_t(current >> 32) != seq || remaining == 0) return false;
      const uint32_t left = remaining > count ? remaining - count : 0;
      const uint64_t next = (current & ~uint64_t(0xffffffff)) | left;
      if (_last[group].compare_exchange_weak(current, next, std::memory_order_relaxed)) {
        return left == 0;
      }
    }
  }

  // A subscription that left will never get publish `from`..`to`: if the
  // group's timed publish is among them, it owes one delivery less.
  void withdraw(uint64_t group, uint32_t from, uint32_t to) noexcept {
    const uint32_t timed = uint32_t(_last[group].load(std::memory_order_relaxed) >> 32);
    if (timed >= from && timed <= to) count_down(group, timed, 1);
  }

  static constexpr uint64_t bytes_per_group = 2 * sizeof(std::atomic<uint64_t>) + sizeof(uint32_t);

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> _state;  // (last number << 32) | subscriptions in force
  std::unique_ptr<std::atomic<uint64_t>[]> _last;   // (timed number << 32) | deliveries still owed
  std::unique_ptr<uint32_t[]> _timed_ms;            // when the timed one was scheduled (owner only)
};

}  // namespace horde::core

// What the client shards of a pub/sub run share per group (docs/pubsub.md):
// the group's publish count and its subscriptions in force, packed in one
// atomic word.
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
// Cost: 8 bytes per group (3M groups: 24 MB), cross-shard writes only per
// publish, join and leave.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace horde::core {

class group_ledger {
 public:
  explicit group_ledger(uint64_t groups) : _state(new std::atomic<uint64_t>[groups]()) {}

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

  static constexpr uint64_t bytes_per_group = sizeof(std::atomic<uint64_t>);

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> _state;  // (last number << 32) | subscriptions in force
};

}  // namespace horde::core

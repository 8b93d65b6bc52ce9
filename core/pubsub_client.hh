// The pub/sub side of a client shard, without any I/O: which groups each of
// the shard's connections subscribes to, the subscribe, unsubscribe and
// publish messages (from the plan's templates), and the accounting of every
// acknowledgement and delivery (docs/pubsub.md). The shard moves the bytes;
// this decides what they mean. One per shard, touched only by its thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery_check.hh"
#include "core/last_delivery_batch.hh"
#include "core/metrics.hh"
#include "core/plan.hh"
#include "proto/stamp.hh"

namespace horde::core {

class pubsub_client {
 public:
  // conn_ids[slot]: the run-wide id of the shard's connection in that slot;
  // shards: how many share the run (each churns its share of the rate).
  pubsub_client(const pubsub_plan& plan, shard_metrics& metrics, std::span<const uint32_t> conn_ids,
                uint32_t shards);

  uint32_t per_connection() const noexcept { return _k; }

  // The subscribe message for the slot's j-th group; empty (counted) when
  // the group's creation by REST failed: it is never subscribed to.
  std::string_view subscribe_message(uint32_t slot, uint32_t j);
  // The slot's subscribe messages (`sent` of them) were sent at `now`.
  void subscribes_sent(uint32_t slot, uint32_t sent, uint64_t now) noexcept;
  // When the slot's wait ends (timeout, or settle time without an
  // acknowledgement template); 0 when nothing waits.
  uint64_t waiting_until(uint32_t slot) const noexcept {
    if (_waiting[slot] == 0) return 0;
    return _sent_ns[slot] +
           (_plan.subscribe_ack.empty() ? _plan.settle_ns : _plan.subscribe_timeout_ns);
  }
  // Every publish this run expected has arrived, on every shard.
  bool all_delivered() const noexcept;
  // Without an acknowledgement template: everything sent is in force now.
  void settle(uint32_t slot, uint64_t now) noexcept;
  // The subscribe timeout passed: what still waits is given up (counted).
  void give_up(uint32_t slot) noexcept;
  // The slot's connection ended: what still waits is abandoned (counted), a
  // leave or rejoin in progress is dropped, and its subscriptions stop
  // counting for later publishes.
  void connection_gone(uint32_t slot) noexcept;

  enum class outcome : uint8_t {
    acknowledged,  // one subscription is in force now
    all_in_force,  // ... and it was the slot's last one waiting
    delivery,      // a stamped delivery, accounted
    left,          // churn: a leave was acknowledged; send rejoin_message() soon
    other,         // neither (counted)
  };
  outcome on_message(uint32_t slot, std::span<const uint8_t> body, bool binary, uint64_t now);
  // The subscribe message of the slot's acknowledged leave (empty if none):
  // sent after the message that acknowledged it is handled, not from inside
  // the session's receive.
  std::string_view rejoin_message(uint32_t slot, uint64_t now);

  // Publishing: whether the connection owns any group, and the next publish
  // of a connection that does (`random` picks which of its groups).
  bool publishes(uint32_t conn_id) const noexcept;
  std::string_view publish_message(uint32_t conn_id, uint64_t scheduled_ns, uint64_t random);
  // The same publish in parts (an HTTP publish renders its own request):
  // numbered and counted now; its group's name and payload are in
  // group_name() and payload() until the next call.
  struct published {
    uint64_t group = 0;
    uint32_t seq = 0;
    uint32_t subscribers = 0;  // deliveries it owes
  };
  published next_publish(uint32_t conn_id, uint64_t scheduled_ns, uint64_t random);
  std::string_view group_name() const noexcept { return _name; }
  std::string_view payload() const noexcept { return _payload; }
  // The server refused a publish (or never answered it): it owes nothing,
  // so its deliveries are not reported lost (docs/pubsub.md).
  void publish_refused(const published& p) noexcept;

  // Churn: whether another leave is due by `now` (advances the schedule),
  // and the unsubscribe message leaving one of the slot's subscriptions in
  // force (`random` picks which), or empty when it has none to leave.
  bool churn_due(uint64_t now) noexcept;
  // When the next leave is due (0: no churn, or it has not started).
  uint64_t next_churn_ns() const noexcept { return _churn_interval_ns ? _next_churn_ns : 0; }
  std::string_view leave_message(uint32_t slot, uint64_t random, uint64_t now);

  // Once per loop turn: hands the deliveries counted for last-subscriber
  // timing to the shared timer.
  void end_of_turn() noexcept { _last_batch.flush(_shared.timer, _metrics); }

 private:
  // A leave, then its rejoin, in progress on one slot (at most one per slot).
  struct change {
    uint32_t slot;
    uint32_t sub;         // index into _subs
    uint32_t left_after;  // leaving: the last number that still counted it
    bool rejoining;       // the leave was acknowledged; the subscribe again is out
    uint64_t sent_ns;     // when the unsubscribe (then the subscribe) went out
  };

  subscription_state* find(uint32_t slot, uint64_t group) noexcept;
  void put_in_force(subscription_state& s) noexcept;
  bool on_change_ack(change& ch, std::string_view text, uint64_t now);
  void end_change(uint32_t slot) noexcept;
  void account(uint32_t slot, const proto::stamp& st, uint64_t now) noexcept;

  const pubsub_plan& _plan;
  pubsub_shared& _shared;
  shard_metrics& _metrics;
  uint32_t _k;
  std::vector<subscription_state> _subs;  // slot * k + j
  std::vector<uint16_t> _waiting;         // per slot
  std::vector<uint64_t> _sent_ns;         // per slot: when its subscribes went out
  std::vector<uint32_t> _change_of;       // per slot: index + 1 into _changes, 0 = none
  std::vector<change> _changes;
  uint64_t _churn_interval_ns = 0;
  uint64_t _next_churn_ns = 0;
  last_delivery_batch _last_batch;
  std::string _message;  // scratch for the message being built
  std::string _name;
  std::string _payload;
};

}  // namespace horde::core

// The stamped echo: every open connection sends --rate messages a second on
// an open-loop schedule (constant or Poisson), each stamped with its
// *scheduled* time, and times each echo from that time to the kernel's
// receive stamp. Every echo is accounted exactly: answered once (the first
// echo of a stamp), duplicated (a later echo of the same stamp: counted, not
// answered again, not timed), corrupted (the filler after the stamp is not
// what was sent) or truncated (shorter than sent; both still answered), or
// unstamped (no stamp of ours); unanswered = sent - answered.
//
// Per connection 24 bytes: the next send time, the sequence, and a 64-bit
// window of the sequences answered below the highest one (as IPsec's replay
// window), so a duplicate is found without per-message state. A duplicate
// arriving more than 64 messages after the highest answered one is taken for
// an answer (echo servers answer in order; none seen did otherwise).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/plan.hh"
#include "core/scenario.hh"
#include "proto/mask_source.hh"
#include "proto/stamp.hh"

namespace horde::core {

class echo_scenario final : public scenario {
 public:
  // conn_ids[slot]: the run-wide id the stamps carry. Sends stop at end_ns.
  // by_target: each connection's counts go to its target's metrics.
  echo_scenario(const client_plan& plan, std::span<shard_metrics* const> by_target,
                proto::mask_source& random, std::span<const uint32_t> conn_ids, uint64_t end_ns);

  void on_open(uint32_t slot, scenario_port& port, uint64_t now) noexcept override;
  void on_message(uint32_t slot, scenario_port& port, proto::ws_opcode opcode,
                  std::span<const uint8_t> body, uint64_t received_ns) noexcept override;
  uint64_t next_due_ns(uint32_t slot) const noexcept override { return _slots[slot].next_send_ns; }
  void on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept override;
  void on_gone(uint32_t slot) noexcept override;
  void stop_sending() noexcept override { _sending = false; }
  bool all_answered() const noexcept override { return _outstanding == 0; }

 private:
  struct slot_state {
    uint64_t next_send_ns = 0;  // 0: nothing scheduled
    uint32_t seq = 0;           // messages sent so far
    uint32_t highest = 0;       // highest sequence answered + 1; 0 = none yet
    uint64_t window = 0;        // bit k: sequence highest-1-k answered
  };
  static_assert(sizeof(slot_state) == 24);

  uint64_t next_interval_ns(uint64_t at) noexcept;  // the gap after a send scheduled `at`
  // Marks seq answered; false if it already was (a duplicate).
  static bool first_answer(slot_state& s, uint32_t seq) noexcept;
  bool payload_intact(std::span<const uint8_t> body) const noexcept;
  void record(uint32_t slot, std::span<const uint8_t> body, bool binary,
              uint64_t received_ns) noexcept;

  const client_plan& _plan;
  std::span<shard_metrics* const> _by_target;
  shard_metrics& of(uint32_t slot) const noexcept {
    return *_by_target[_plan.target_of(_ids[slot])];
  }
  proto::mask_source& _random;
  std::span<const uint32_t> _ids;
  const uint64_t _end_ns;
  std::vector<slot_state> _slots;
  std::vector<uint8_t> _payload;
  uint64_t _outstanding = 0;  // sent on connections still open, not yet answered
  bool _sending = true;
};

}  // namespace horde::core

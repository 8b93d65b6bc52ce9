// The open-loop send schedule every sending scenario keeps: each message
// scheduled up to now is sent, stamped with its *scheduled* time however late
// horde is, so a stalled server cannot slow the schedule, only make the
// measured latency grow (coordinated omission corrected, as wrk2 does). A
// catch-up burst is bounded per wake-up; the rest goes at the next one.
#pragma once

#include <cstdint>

#include "core/metrics.hh"

namespace horde::core {

inline constexpr unsigned max_sends_per_wakeup = 64;

// Sends what is due on the schedule `next` (0: none; reset to 0 at `end`).
// gap() gives the interval to the following message; send(scheduled) sends
// one and returns its payload size, or nullopt when the connection is gone
// (the schedule then stops where it is). Counts sends and their lateness.
template <class Gap, class Send>
void send_due(uint64_t& next, uint64_t now, uint64_t end, shard_metrics& metrics, Gap gap,
              Send send) noexcept {
  unsigned sent = 0;
  while (next != 0 && next <= now && sent < max_sends_per_wakeup && next < end) {
    const uint64_t scheduled = next;
    next += gap();
    const auto bytes = send(scheduled);
    if (!bytes) return;
    metrics.counters.messages_sent.add();
    metrics.counters.bytes_sent.add(*bytes);
    metrics.latency.send_lag.record(now - scheduled);
    ++sent;
  }
  if (next >= end) next = 0;
}

}  // namespace horde::core

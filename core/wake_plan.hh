// When a client shard's loop sleeps until, and how many completions may wake
// it before then (docs/decisions.md, "Client loops coalesce wake-ups").
//
// Wake-ups are what the loop pays most for on a VM (a sleep and wake-up
// costs ~20 µs of CPU on the 2-vCPU machines here), so they are coalesced:
// - timers wake the loop at most once per wake interval: a send is late by
//   at most that much, and the lateness is measured, in its round trip;
// - something already due (a catch-up burst left sends behind) waits only
//   for the rest of the interval since the last turn began, so a loop that
//   fell behind does not sleep on top of it;
// - once every connection is open, a completion may wait for others to
//   share its wake-up, for at most the same interval (the ring bounds it):
//   the socket is read only when the loop wakes, and TCP stamps data merged
//   in it with its newest arrival, so a longer wait would move earlier
//   messages' receive time;
// - a completion wakes the loop at once while handshakes run (their phases
//   are timed on handling), while closing, after a turn of bulk traffic,
//   and while a send must be followed promptly (large, or part of a chain).
#pragma once

#include <algorithm>
#include <cstdint>

namespace horde::core {

inline constexpr unsigned wake_batch = 128;  // completions that wake a steady loop early

struct wake_inputs {
  uint64_t now_ns = 0;        // this turn's start
  uint64_t due_in_ns = 0;     // until the earliest timer, launch or churn; 0 = already due
  uint64_t last_turn_ns = 0;  // the previous turn's start
  uint64_t interval_ns = 0;   // --wake-interval
  bool handshakes_running = false;
  bool closing = false;
  unsigned last_drained = 0;    // completions the previous turn took
  unsigned sends_to_watch = 0;  // large sends, or sends a completion started, since then
};

struct wake_plan {
  uint64_t wake_at_ns = 0;
  unsigned min_completions = 1;  // completions that end the sleep early
};

inline wake_plan plan_wake(const wake_inputs& in) noexcept {
  wake_plan plan;
  plan.wake_at_ns = in.due_in_ns == 0 ? std::max(in.now_ns, in.last_turn_ns + in.interval_ns)
                                      : in.now_ns + std::max(in.due_in_ns, in.interval_ns);
  const bool prompt = in.handshakes_running || in.closing || in.last_drained >= wake_batch / 2 ||
                      in.sends_to_watch > 0;
  plan.min_completions = prompt ? 1 : wake_batch;
  return plan;
}

}  // namespace horde::core

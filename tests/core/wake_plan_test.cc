#include "core/wake_plan.hh"

#include <gtest/gtest.h>

namespace horde::core {
namespace {

constexpr uint64_t us = 1'000;

wake_inputs steady(uint64_t now, uint64_t due_in) {
  wake_inputs in;
  in.now_ns = now;
  in.due_in_ns = due_in;
  in.last_turn_ns = now - 30 * us;
  in.interval_ns = 100 * us;
  return in;
}

TEST(wake_plan, a_timer_sooner_than_the_interval_waits_for_the_interval) {
  EXPECT_EQ(plan_wake(steady(1'000 * us, 10 * us)).wake_at_ns, 1'100 * us);
}

TEST(wake_plan, a_later_timer_is_kept_to_the_nanosecond) {
  EXPECT_EQ(plan_wake(steady(1'000 * us, 5'000 * us)).wake_at_ns, 6'000 * us);
}

TEST(wake_plan, something_due_waits_only_for_the_rest_of_the_interval) {
  wake_inputs in = steady(1'000 * us, 0);  // last turn began 30 µs ago
  EXPECT_EQ(plan_wake(in).wake_at_ns, 1'070 * us);
  in.last_turn_ns = 700 * us;  // the loop fell behind: no sleep on top
  EXPECT_EQ(plan_wake(in).wake_at_ns, 1'000 * us);
}

TEST(wake_plan, interval_zero_wakes_for_every_deadline) {
  wake_inputs in = steady(1'000 * us, 10 * us);
  in.interval_ns = 0;
  EXPECT_EQ(plan_wake(in).wake_at_ns, 1'010 * us);
  in.due_in_ns = 0;
  EXPECT_EQ(plan_wake(in).wake_at_ns, 1'000 * us);
}

TEST(wake_plan, a_steady_loop_sleeps_through_a_batch_of_completions) {
  EXPECT_EQ(plan_wake(steady(1'000 * us, 50 * us)).min_completions, wake_batch);
}

TEST(wake_plan, handshakes_closing_bulk_turns_and_watched_sends_wake_at_once) {
  wake_inputs in = steady(1'000 * us, 50 * us);
  in.handshakes_running = true;
  EXPECT_EQ(plan_wake(in).min_completions, 1u);
  in = steady(1'000 * us, 50 * us);
  in.closing = true;
  EXPECT_EQ(plan_wake(in).min_completions, 1u);
  in = steady(1'000 * us, 50 * us);
  in.last_drained = wake_batch / 2;
  EXPECT_EQ(plan_wake(in).min_completions, 1u);
  in.last_drained = wake_batch / 2 - 1;
  EXPECT_EQ(plan_wake(in).min_completions, wake_batch);
  in.sends_to_watch = 1;
  EXPECT_EQ(plan_wake(in).min_completions, 1u);
}

}  // namespace
}  // namespace horde::core

#include "core/timer_wheel.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace horde::core {
namespace {

constexpr uint64_t ms = 1'000'000;
// Small enough that a few hundred milliseconds cover many rotations.
constexpr uint64_t tick = ms;
constexpr uint32_t slots = 16;
constexpr uint64_t rotation = tick * slots;

// Stands in for an engine's connection slot: the node lives inside it.
struct owner {
  owner() = default;
  explicit owner(int id) : id(id) {}

  int id = 0;
  timer_node timer;
  int fired = 0;
};

owner& owner_of(timer_node& node) {
  return *reinterpret_cast<owner*>(reinterpret_cast<char*>(&node) - offsetof(owner, timer));
}

// Advances and returns the ids that fired, in firing order.
std::vector<int> advance_ids(timer_wheel& wheel, uint64_t now) {
  std::vector<int> ids;
  wheel.advance(now, [&](timer_node& node) {
    owner& o = owner_of(node);
    ++o.fired;
    ids.push_back(o.id);
  });
  return ids;
}

TEST(timer_wheel, node_fires_at_its_deadline_and_not_a_nanosecond_before) {
  // On a tick boundary, mid-tick, one past a boundary, and beyond one rotation.
  for (uint64_t deadline : {3 * ms, 3 * ms + ms / 2, 7 * ms + 1, rotation + 5 * ms, 2 * rotation}) {
    timer_wheel wheel(0, tick, slots);
    owner o{1};
    wheel.schedule(o.timer, deadline);
    EXPECT_TRUE(o.timer.scheduled());
    EXPECT_EQ(wheel.size(), 1u);
    EXPECT_TRUE(advance_ids(wheel, deadline - 1).empty()) << deadline;
    EXPECT_EQ(advance_ids(wheel, deadline), std::vector<int>{1}) << deadline;
    EXPECT_FALSE(o.timer.scheduled());
    EXPECT_EQ(wheel.size(), 0u);
    EXPECT_TRUE(advance_ids(wheel, deadline + rotation).empty()) << deadline;
  }
}

TEST(timer_wheel, advance_fires_exactly_the_due_nodes) {
  timer_wheel wheel(0, tick, slots);
  owner a{1}, b{2}, c{3}, d{4};
  wheel.schedule(a.timer, 2 * ms);
  wheel.schedule(b.timer, 2 * ms + 900'000);  // same slot as a, later in the tick
  wheel.schedule(c.timer, 5 * ms);
  wheel.schedule(d.timer, 9 * ms);
  EXPECT_EQ(wheel.size(), 4u);

  EXPECT_TRUE(advance_ids(wheel, 1 * ms).empty());
  EXPECT_EQ(advance_ids(wheel, 2 * ms + 500'000), std::vector<int>{1});
  EXPECT_EQ(advance_ids(wheel, 5 * ms), (std::vector<int>{2, 3}));
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_TRUE(advance_ids(wheel, 8 * ms).empty());
  EXPECT_EQ(advance_ids(wheel, 9 * ms), std::vector<int>{4});
  EXPECT_EQ(wheel.size(), 0u);
  for (const owner* o : {&a, &b, &c, &d})
    EXPECT_EQ(o->fired, 1) << o->id;
}

TEST(timer_wheel, time_going_backwards_fires_nothing) {
  timer_wheel wheel(10 * ms, tick, slots);
  owner o{1};
  wheel.schedule(o.timer, 11 * ms);
  EXPECT_TRUE(advance_ids(wheel, 5 * ms).empty());
  EXPECT_EQ(advance_ids(wheel, 11 * ms), std::vector<int>{1});
}

TEST(timer_wheel, cancel_prevents_firing) {
  timer_wheel wheel(0, tick, slots);
  owner a{1}, b{2};
  wheel.schedule(a.timer, 3 * ms);
  wheel.schedule(b.timer, 3 * ms);
  wheel.cancel(a.timer);
  EXPECT_FALSE(a.timer.scheduled());
  EXPECT_EQ(wheel.size(), 1u);
  // Cancelling twice, or a node never scheduled, must be harmless.
  wheel.cancel(a.timer);
  owner never{3};
  wheel.cancel(never.timer);
  EXPECT_EQ(wheel.size(), 1u);

  EXPECT_EQ(advance_ids(wheel, 10 * ms), std::vector<int>{2});
  EXPECT_EQ(a.fired, 0);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(timer_wheel, rescheduling_moves_the_node) {
  timer_wheel wheel(0, tick, slots);
  owner o{1};
  wheel.schedule(o.timer, 4 * ms);
  wheel.schedule(o.timer, 9 * ms);  // later
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_TRUE(advance_ids(wheel, 8 * ms).empty());
  EXPECT_EQ(advance_ids(wheel, 9 * ms), std::vector<int>{1});

  wheel.schedule(o.timer, 20 * ms);
  wheel.schedule(o.timer, 12 * ms);  // earlier
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(advance_ids(wheel, 12 * ms), std::vector<int>{1});
  EXPECT_TRUE(advance_ids(wheel, 21 * ms).empty());
  EXPECT_EQ(o.fired, 2);
}

TEST(timer_wheel, deadlines_beyond_one_rotation_do_not_fire_early) {
  timer_wheel wheel(0, tick, slots);
  owner near{1}, one_lap{2}, three_laps{3};
  // All three share slot 3; only the near one may fire when it comes round first.
  wheel.schedule(near.timer, 3 * ms);
  wheel.schedule(one_lap.timer, rotation + 3 * ms);
  wheel.schedule(three_laps.timer, 3 * rotation + 3 * ms + 1);
  std::vector<int> order;
  for (uint64_t now = 0; now <= 4 * rotation; now += ms / 4) {
    for (int id : advance_ids(wheel, now)) {
      order.push_back(id);
      const uint64_t deadline = id == 1   ? 3 * ms
                                : id == 2 ? rotation + 3 * ms
                                          : 3 * rotation + 3 * ms + 1;
      EXPECT_GE(now, deadline) << id;
      EXPECT_LT(now, deadline + ms / 4) << id;  // and not late by more than one step
    }
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(timer_wheel, deadline_in_the_past_fires_on_next_advance) {
  timer_wheel wheel(0, tick, slots);
  EXPECT_TRUE(advance_ids(wheel, 10 * ms + 300).empty());
  owner a{1}, b{2}, c{3};
  wheel.schedule(a.timer, 2 * ms);   // several ticks ago
  wheel.schedule(b.timer, 0);        // before the wheel was made
  wheel.schedule(c.timer, 10 * ms);  // earlier in the current tick
  EXPECT_EQ(wheel.size(), 3u);
  std::vector<int> ids = advance_ids(wheel, 10 * ms + 300);  // time has not moved
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(wheel.size(), 0u);

  // Also from a point a few rotations into the wheel's life.
  wheel.schedule(a.timer, 1);
  EXPECT_EQ(advance_ids(wheel, 10 * ms + 301), std::vector<int>{1});
}

TEST(timer_wheel, periodic_rearm_from_fire_fires_once_per_period) {
  timer_wheel wheel(0, tick, slots);
  owner o{1};
  constexpr uint64_t period = 3 * ms;
  wheel.schedule(o.timer, period);
  std::vector<uint64_t> fired_at;
  for (uint64_t now = 0; now <= 10 * rotation; now += ms / 2) {
    wheel.advance(now, [&](timer_node& node) {
      fired_at.push_back(now);
      wheel.schedule(node, now + period);
    });
  }
  ASSERT_EQ(fired_at.size(), 10 * rotation / period);
  for (size_t i = 0; i < fired_at.size(); ++i)
    EXPECT_EQ(fired_at[i], (i + 1) * period) << i;
  EXPECT_EQ(wheel.size(), 1u);
}

TEST(timer_wheel, rearming_at_now_from_fire_does_not_loop) {
  // A zero-delay re-arm must wait for the next advance, else advance never returns.
  timer_wheel wheel(0, tick, slots);
  owner o{1};
  wheel.schedule(o.timer, 0);
  for (uint64_t now = 100; now < tick; now += 100'000) {
    int calls = 0;
    wheel.advance(now, [&](timer_node& node) {
      ++calls;
      ASSERT_LT(calls, 100);
      wheel.schedule(node, now);
    });
    EXPECT_EQ(calls, 1) << now;
  }
  EXPECT_EQ(wheel.size(), 1u);
}

TEST(timer_wheel, fire_may_cancel_another_pending_node) {
  // Same slot (b is on the list being drained) and a later slot in the same advance.
  for (uint64_t b_deadline : {2 * ms + 10, 6 * ms}) {
    timer_wheel wheel(0, tick, slots);
    owner a{1}, b{2};
    wheel.schedule(a.timer, 2 * ms);
    wheel.schedule(b.timer, b_deadline);
    std::vector<int> ids;
    // Whichever fires first cancels the other; order within a slot is unspecified.
    wheel.advance(7 * ms, [&](timer_node& node) {
      owner& self = owner_of(node);
      ids.push_back(self.id);
      wheel.cancel(self.id == 1 ? b.timer : a.timer);
    });
    EXPECT_EQ(ids.size(), 1u) << b_deadline;
    EXPECT_EQ(wheel.size(), 0u);
    EXPECT_FALSE(a.timer.scheduled());
    EXPECT_FALSE(b.timer.scheduled());
    EXPECT_TRUE(advance_ids(wheel, 10 * rotation).empty());
  }
}

TEST(timer_wheel, large_time_jump_fires_everything_due_exactly_once) {
  timer_wheel wheel(0, tick, slots);
  std::vector<owner> owners(200);
  // Deadlines spread over five rotations at awkward offsets, some after the jump.
  for (size_t i = 0; i < owners.size(); ++i) {
    owners[i].id = int(i);
    wheel.schedule(owners[i].timer, i * (5 * rotation / owners.size()) + i % 7 * 1000);
  }
  const uint64_t jump = 4 * rotation + 3 * ms + 17;
  std::vector<int> ids = advance_ids(wheel, jump);
  size_t due = 0;
  for (const owner& o : owners) {
    const bool is_due = o.timer.deadline_ns <= jump;
    due += is_due;
    EXPECT_EQ(o.fired, is_due ? 1 : 0) << o.id;
    EXPECT_EQ(o.timer.scheduled(), !is_due) << o.id;
  }
  EXPECT_EQ(ids.size(), due);
  EXPECT_EQ(wheel.size(), owners.size() - due);

  // A second jump takes the rest, still once each.
  advance_ids(wheel, 20 * rotation);
  for (const owner& o : owners)
    EXPECT_EQ(o.fired, 1) << o.id;
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(timer_wheel, next_expiry_hint) {
  timer_wheel wheel(0, tick, slots);
  EXPECT_EQ(wheel.next_expiry_hint(0, 50 * ms), 50 * ms);  // empty

  owner far{1}, near{2};
  // far sits in an earlier slot than near, one rotation on: the scan must not
  // stop at it and report its deadline.
  wheel.schedule(far.timer, rotation + 1 * ms + 500);
  wheel.schedule(near.timer, 7 * ms + 500'000);
  EXPECT_EQ(wheel.next_expiry_hint(0, 100 * ms), 7 * ms + 500'000);
  EXPECT_EQ(wheel.next_expiry_hint(2 * ms, 100 * ms), 5 * ms + 500'000);
  EXPECT_EQ(wheel.next_expiry_hint(0, 5 * ms), 5 * ms);     // nothing within cap
  EXPECT_EQ(wheel.next_expiry_hint(8 * ms, 100 * ms), 0u);  // due, not yet advanced

  EXPECT_EQ(advance_ids(wheel, 8 * ms), std::vector<int>{2});
  EXPECT_EQ(wheel.next_expiry_hint(8 * ms, 100 * ms), rotation + 1 * ms + 500 - 8 * ms);
  EXPECT_EQ(wheel.next_expiry_hint(8 * ms, 3 * ms), 3 * ms);

  // A cap wider than the whole wheel still finds a deadline a few rotations out.
  wheel.cancel(far.timer);
  wheel.schedule(far.timer, 3 * rotation + 2 * ms);
  EXPECT_EQ(wheel.next_expiry_hint(8 * ms, 10 * rotation), 3 * rotation + 2 * ms - 8 * ms);

  // A past deadline scheduled after the last advance reads as due.
  wheel.schedule(near.timer, 1 * ms);
  EXPECT_EQ(wheel.next_expiry_hint(8 * ms, 100 * ms), 0u);
}

// Disabled: demonstrates a bug in timer_wheel::advance (see the report). A
// node that fire() schedules with a deadline already past, while advance()
// covers several ticks, is clamped by schedule() to the *old* _current_tick
// and linked into a slot this advance has already swept; advance() then
// moves _current_tick to now, so that slot is not visited again for almost a
// full rotation. The engine does exactly this when send_due() hits
// max_sends_per_wakeup and leaves next_send_ns in the past.
TEST(timer_wheel, past_deadline_scheduled_from_fire_fires_on_next_advance) {
  timer_wheel wheel(0, tick, slots);
  owner o{1};
  wheel.schedule(o.timer, ms / 2);
  int calls = 0;
  auto fire = [&](timer_node& node) {
    ++calls;
    // Catching up: the next deadline is still behind now (and in the same tick).
    if (calls == 1) wheel.schedule(node, node.deadline_ns + 100'000);
  };
  wheel.advance(5 * ms, fire);  // the loop was late by several ticks
  ASSERT_GE(calls, 1);
  // The re-armed deadline lands in now's slot, visited last: it fires in
  // this advance or the next, never a whole rotation (16 ms) later.
  wheel.advance(6 * ms, fire);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(wheel.size(), 0u);
}

}  // namespace
}  // namespace horde::core

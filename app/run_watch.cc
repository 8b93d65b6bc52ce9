#include "app/run_watch.hh"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "app/report.hh"
#include "app/self_usage.hh"
#include "app/stop_signals.hh"
#include "core/clock.hh"

namespace horde::app {
namespace {

constexpr uint64_t second = 1'000'000'000;

// Signals and deadlines: what ends a run that does not end by itself.
struct run_ending {
  int signals_seen = 0;
  uint64_t abort_at = 0;
  uint64_t deadline = 0;  // whatever the server does, shards return by then
};

// Returns false when the shards are given up on (the report is written from
// their last counters).
bool end_when_asked(core::client_engine& engine, bool quiet, uint64_t now, run_ending& ending,
                    run_result& result) {
  const int signals = stop_signals_seen();
  if (signals > ending.signals_seen) {
    if (ending.signals_seen == 0) {
      result.interrupted = true;
      engine.request_stop();
      if (!quiet)
        fmt::print(stderr,
                   "\nhorde: stopping (signal): closing connections and writing the report; "
                   "a second signal ends the run at once\n");
    }
    if (signals >= 2 && ending.abort_at == 0) {
      ending.abort_at = now;
      engine.request_abort();
      result.notes.push_back("ended at once by a second signal: no close handshakes");
      if (!quiet) fmt::print(stderr, "\nhorde: ending now\n");
    }
    ending.signals_seen = signals;
  }
  if (ending.abort_at == 0 && now > ending.deadline) {
    ending.abort_at = now;
    engine.request_abort();
    result.notes.push_back(
        "watchdog: shards were still running past duration + drain + 3 x close timeout; "
        "ended at once");
  }
  if (ending.abort_at != 0 && now > ending.abort_at + 3 * second) {
    result.shards_stuck = true;
    result.notes.push_back(
        "watchdog: shards did not return within 3 s of the end; "
        "the report is from their last counters");
    return false;
  }
  return true;
}

// Names each shard whose loop has not turned for 3 s, once.
struct stall_watch {
  std::vector<uint64_t> turns, turned_at;
  std::vector<bool> named;

  void check(const std::vector<uint64_t>& current, uint64_t now, uint64_t start,
             run_result& result) {
    for (size_t i = 0; i < current.size() && i < turns.size(); ++i) {
      if (current[i] != turns[i]) {
        turns[i] = current[i];
        turned_at[i] = now;
      } else if (!named[i] && now - turned_at[i] > 3 * second) {
        named[i] = true;
        result.notes.push_back(
            fmt::format("watchdog: shard {} stopped advancing at {:.1f} s (no loop turn for 3 s)",
                        i, double(turned_at[i] - start) / 1e9));
      }
    }
  }
};

// What a point adds to the result beyond itself: the broker's peak gauges,
// and the RSS sample memory per connection is computed from (taken while
// the run still holds its connections, not during the closing handshakes,
// each of which takes a framing context until it completes).
void note_peaks(const series_point& point, bool holding, core::server_engine* server,
                run_result& result) {
  if (server) {
    const auto totals = server->totals();
    result.server_peak_groups = std::max(result.server_peak_groups, totals.groups);
    result.server_peak_subscriptions =
        std::max(result.server_peak_subscriptions, totals.subscriptions);
  }
  if (holding && point.open >= result.open_at_rss_sample && point.open > 0) {
    result.open_at_rss_sample = point.open;
    result.rss_at_peak_open = point.rss_bytes;
  }
}

// A `:abort` threshold failing on this second's snapshot stops the run as a
// first Ctrl-C does: connections closed, the report still written. Judged
// against the previous second's counters too, so a message in flight is not
// yet unanswered.
void stop_on_threshold(core::client_engine& engine, const std::vector<threshold>& abort_on,
                       const core::metrics_snapshot& now, const core::metrics_snapshot& before,
                       bool pubsub, double t, bool quiet, run_result& result) {
  if (abort_on.empty() || result.stopped_by) return;
  const threshold_input in{&now.counters, &now.latency, &before.counters, pubsub,
                           result.plan ? &result.plan->named : nullptr};
  auto failed = first_failed_abort(abort_on, in);
  if (!failed) return;
  result.stopped_by = std::move(*failed);
  result.stopped_at_seconds = t;
  engine.request_stop();
  if (!quiet)
    fmt::print(stderr,
               "\nhorde: stopping at {:.1f} s: threshold {} failed (measured {}); closing "
               "connections and writing the report\n",
               t, result.stopped_by->check.expr,
               figure_text(result.stopped_by->value, result.stopped_by->check.unit));
}

}  // namespace

interval_latency interval_between(const core::histogram& now, const core::histogram& before) {
  core::histogram h = now;
  h.subtract(before);
  interval_latency out;
  out.count = h.count();
  if (out.count == 0) return out;
  out.p50_ns = h.value_at_quantile(0.5);
  out.p95_ns = h.value_at_quantile(0.95);
  out.p99_ns = h.value_at_quantile(0.99);
  out.max_ns = h.max();
  return out;
}

series_point series_point_of(const core::metrics_snapshot& now,
                             const core::metrics_snapshot& before, double t, double interval) {
  const auto& c = now.counters;
  series_point point;
  point.t = t;
  point.interval_seconds = interval;
  point.open = c.open_now;
  point.attempts = c.attempts;
  point.upgraded = c.upgraded;
  point.failures = c.failures_total();
  for (size_t i = 0; i < c.failures.size(); ++i)
    if (c.failures[i] != 0) point.failures_by_reason.emplace_back(uint8_t(i), c.failures[i]);
  point.sent = c.messages_sent;
  point.received = c.messages_received;
  point.round_trip_p50_ns = now.latency.round_trip.value_at_quantile(0.5);
  point.round_trip_p99_ns = now.latency.round_trip.value_at_quantile(0.99);
  point.round_trip = interval_between(now.latency.round_trip, before.latency.round_trip);
  point.fanout = interval_between(now.latency.fanout, before.latency.fanout);
  point.connect = interval_between(now.latency.connect, before.latency.connect);
  point.upgrade = interval_between(now.latency.upgrade, before.latency.upgrade);
  point.publishes = c.pubsub.publishes;
  point.expected = c.pubsub.owed();
  point.delivered = c.pubsub.unique();
  return point;
}

void watch_run(core::client_engine& engine, const core::client_plan& plan, bool quiet,
               core::server_engine* server, uint64_t start, watch_snapshots& snapshots,
               run_result& result, const std::vector<threshold>& abort_on,
               const each_second_hook& each_second) {
  const bool tty = isatty(STDERR_FILENO) && !quiet;
  run_ending ending;
  ending.deadline = start + plan.duration_ns + plan.drain_ns + core::close_phase_budget_ns(plan) +
                    3 * plan.close_timeout_ns + 5 * second;
  stall_watch stalls{engine.loop_turns(), {}, {}};
  stalls.turned_at.assign(stalls.turns.size(), start);
  stalls.named.assign(stalls.turns.size(), false);
  // The previous second's snapshot: each point's interval is the difference.
  auto& before = snapshots.before;
  auto& snapshot = snapshots.now;
  series_point previous;
  uint64_t next_tick = start + second;
  while (engine.running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const uint64_t now = core::now_ns();
    if (!end_when_asked(engine, quiet, now, ending, result)) break;
    stalls.check(engine.loop_turns(), now, start, result);
    if (now < next_tick) continue;
    next_tick += second;
    snapshot->reset();
    engine.snapshot(*snapshot);
    const double t = double(now - start) / 1e9;
    series_point point = series_point_of(*snapshot, *before, t, t - previous.t);
    point.rss_bytes = read_self_usage().rss_bytes;
    if (each_second) each_second(point, *snapshot);
    note_peaks(point, now < start + plan.duration_ns, server, result);
    result.series.push_back(point);
    stop_on_threshold(engine, abort_on, *snapshot, *before, plan.pubsub.enabled(), t, quiet,
                      result);
    if (!quiet) {
      const std::string line = progress_line(result, point, previous);
      if (tty) {
        fmt::print(stderr, "\r{}\033[K", line);
      } else {
        fmt::print(stderr, "{}\n", line);
      }
    }
    previous = point;
    std::swap(before, snapshot);
  }
  if (tty) fmt::print(stderr, "\n");
}

}  // namespace horde::app

#include <fmt/format.h>

#include <algorithm>

#include "app/report.hh"
#include "app/report_format.hh"

namespace horde::app {

schedule_verdict judge_schedule(const run_result& r) {
  schedule_verdict verdict;
  const auto& lag = r.metrics.latency.send_lag;
  const auto& c = r.metrics.counters;
  // Shares from the scheduler's own accounting: CPU time the shards got, out
  // of the CPUs they were given (at most 100% however many shards share
  // them), and how long, on average, a shard was runnable but waiting.
  const double cpus = r.plan && !r.plan->cpus.empty() ? double(r.plan->cpus.size()) : 1.0;
  const double shards = r.plan ? double(std::max<uint32_t>(r.plan->shards, 1)) : 1.0;
  const double wall_ns = r.elapsed_seconds * 1e9;
  const double used = wall_ns > 0 ? double(c.cpu_run_ns) / (wall_ns * std::min(cpus, shards)) : 0;
  const double waited = wall_ns > 0 ? double(c.cpu_wait_ns) / (wall_ns * shards) : 0;
  verdict.cpu_used_share = used;
  verdict.cpu_wait_share = waited;
  const std::string cpu_text =
      fmt::format("shards used {:.0f}% of their CPUs and waited for a CPU {:.0f}% of the run",
                  used * 100, waited * 100);
  if (lag.count() == 0) {
    verdict.explanation = fmt::format("no scheduled sends; {}", cpu_text);
    return verdict;
  }
  // Late by more than 1 ms at p99 (or a tenth of the send interval, if that
  // is larger) means horde itself fell behind its own schedule.
  uint64_t allowed_ns = 1'000'000;
  const double rate =
      r.plan ? (r.plan->pubsub.enabled() ? r.plan->pubsub.publish_rate : r.plan->message_rate) : 0;
  if (rate > 0) allowed_ns = std::max<uint64_t>(allowed_ns, uint64_t(1e9 / rate / 10));
  // --wake-interval lets a send leave up to that late by the user's choice
  // (sends due close together leave together), and the wake-up carrying it
  // may wait as long again for completions to share it: that lateness is
  // the plan's, not horde falling behind.
  if (r.plan) allowed_ns = std::max<uint64_t>(allowed_ns, 2 * r.plan->wake_interval_ns + 1'000'000);
  const uint64_t p99 = lag.value_at_quantile(0.99);
  verdict.kept = p99 <= allowed_ns;
  std::string state = "kept";
  if (!verdict.kept) {
    if (used >= 0.85) {
      verdict.cause = "saturated";
      state =
          "NOT KEPT — horde was saturated (its CPUs were full): horde, not the target, "
          "limited this run";
    } else if (waited >= 0.10) {
      verdict.cause = "starved";
      state =
          "NOT KEPT — horde was starved: its shards waited for CPUs that other work (the "
          "target, other processes) held; give them their own (--cpus, --leave-for-target)";
    } else {
      verdict.cause = "behind";
      state = "NOT KEPT — horde fell behind its schedule with CPU to spare";
    }
  }
  verdict.explanation = fmt::format("{}: send lag p99 {} ms (limit {} ms), max {} ms; {}", state,
                                    ms(p99), ms(allowed_ns), ms(lag.max()), cpu_text);
  return verdict;
}

}  // namespace horde::app

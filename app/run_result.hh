// Everything a finished (or interrupted) run says: the source of the
// terminal summary and of the versioned JSON that later merges read.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/group_setup.hh"
#include "app/self_usage.hh"
#include "app/setup_steps.hh"
#include "app/target_usage.hh"
#include "app/threshold.hh"
#include "core/engine.hh"
#include "core/metrics.hh"
#include "core/plan.hh"
#include "sysctl/net_counters.hh"

namespace horde::app {

inline constexpr const char* result_schema = "horde.run/1";

// One interval's latency: only what was recorded since the previous series
// point (the snapshot minus the one before it), so a late spike shows.
struct interval_latency {
  uint64_t count = 0;
  uint64_t p50_ns = 0, p95_ns = 0, p99_ns = 0, max_ns = 0;
};

struct series_point {
  double t = 0;                 // seconds since the run's start
  double interval_seconds = 0;  // since the previous point (about 1)
  uint64_t open = 0;
  uint64_t attempts = 0;           // cumulative
  uint64_t upgraded = 0;           // cumulative
  uint64_t failures = 0;           // cumulative
  uint64_t sent = 0;               // cumulative
  uint64_t received = 0;           // cumulative
  uint64_t round_trip_p50_ns = 0;  // cumulative distribution so far
  uint64_t round_trip_p99_ns = 0;  // cumulative
  interval_latency round_trip;     // this interval only
  interval_latency fanout;         // this interval only (pub/sub)
  interval_latency connect;        // this interval only
  interval_latency upgrade;        // this interval only
  uint64_t rss_bytes = 0;
  uint64_t publishes = 0;              // cumulative (pub/sub)
  uint64_t expected = 0;               // cumulative
  uint64_t delivered = 0;              // cumulative, unique
  std::optional<target_point> target;  // when a target is sampled (app/target_watch.hh)
  // Cumulative failures by reason, only the reasons seen so far (a sorted
  // list of (reason, count)): the HTML report's failures-over-time chart.
  std::vector<std::pair<uint8_t, uint64_t>> failures_by_reason;
  std::optional<host_point> host;  // ... and the host beside it
};

// Below these, a figure per connection or per message is mostly noise (the
// allocator's arenas, the process's own start-up): the report says "too few
// to measure" and the JSON gives null.
inline constexpr uint64_t min_connections_for_memory = 100;
inline constexpr uint64_t min_messages_for_cpu = 10'000;

// One target's share of the run (with more than one target): the
// connections that took it, their failures and latencies.
struct target_result {
  std::string url;  // redacted unless --show-secrets
  uint32_t weight = 1;
  core::metrics_snapshot metrics;
};

// --worker i/N: which slice this was, where it ran, how late it started, and
// the whole plan it is a slice of (horde merge checks the slices agree).
struct worker_record {
  uint32_t index = 0;
  uint32_t count = 1;
  std::string host;
  uint64_t whole_connections = 0;
  double whole_connect_rate = 0;
  std::vector<std::string> target_urls;
};

struct run_result {
  std::string target;
  std::vector<target_result> targets;  // more than one target: each one's figures
  std::optional<worker_record> worker;
  std::optional<uint64_t> start_at_unix_ns;  // --start-at, if given
  int64_t clock_offset_ns = 0;               // actual start - asked start (0 without --start-at)
  bool embedded_server = false;
  const core::client_plan* plan = nullptr;
  std::vector<std::string> sources;
  std::string kernel;
  unsigned cpu_count = 0;
  uint64_t fd_soft = 0, fd_hard = 0;
  std::vector<std::string> notes;   // what horde decided on its own, and why
  std::vector<std::string> errors;  // shard errors: the run could not do its job
  bool interrupted = false;
  bool shards_stuck = false;  // some shard never returned: the report is from its last counters
  // Extra upgrade headers as sent, credentials redacted unless --show-secrets.
  std::vector<std::pair<std::string, std::string>> headers;
  double elapsed_seconds = 0;
  // The wall clock (CLOCK_REALTIME, ns since 1970) when the run started:
  // horde merge aligns several hosts' series by it. 0: unknown.
  uint64_t started_unix_ns = 0;
  // The percentile columns of the tables and the JSON, in percent (--percentiles).
  std::vector<double> percentiles{50, 90, 95, 99, 99.9};

  core::metrics_snapshot metrics;
  std::vector<series_point> series;
  core::server_totals server;
  uint64_t server_peak_groups = 0;  // the broker's gauges, sampled once a second
  uint64_t server_peak_subscriptions = 0;

  self_usage usage_start;
  self_usage usage_end;
  uint64_t rss_before_connections = 0;
  uint64_t rss_at_peak_open = 0;  // RSS sampled when the most connections were open
  uint64_t open_at_rss_sample = 0;
  target_usage sampled_target;  // the target's own cost, when sampled (app/target_watch.hh)

  // The host's TCP retransmissions, input-queue drops and listen-queue
  // overflows during the run (everyone's traffic, not only horde's); absent
  // when /proc/net could not be read.
  std::optional<sysctl::net_counters> kernel_network;
  // net.core.netdev_max_backlog as found, and what the preflight planned for
  // this run's packet rates (the report's fix asks for the same number).
  std::optional<uint64_t> netdev_backlog;
  // horde runs in a network namespace of its own (not init's): the TCP
  // counters above are that namespace's.
  bool private_network = false;
  uint64_t planned_netdev_backlog = 0;

  // Pub/sub: when publishing started, seconds since the run's start (< 0: it
  // never did, the subscriptions did not all settle within the run).
  double publish_start_seconds = -1;
  // Pub/sub with --setup-url: the REST calls that created the groups.
  std::unique_ptr<group_setup_result> group_setup;
  std::vector<setup_step_report> setup_steps;  // run-level setup (app/setup_steps.hh), in order

  // --threshold, then the implicit checks, judged on the final figures.
  std::vector<threshold_outcome> thresholds;
  // The `:abort` threshold that stopped the run, as it failed then, and when
  // (seconds since the start).
  std::optional<threshold_outcome> stopped_by;
  double stopped_at_seconds = 0;
};

}  // namespace horde::app

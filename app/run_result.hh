// Everything a finished (or interrupted) run says: the source of the
// terminal summary and of the versioned JSON that later merges read.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/group_setup.hh"
#include "app/self_usage.hh"
#include "core/engine.hh"
#include "core/metrics.hh"
#include "core/plan.hh"
#include "sysctl/net_counters.hh"

namespace horde::app {

inline constexpr const char* result_schema = "horde.run/1";

struct series_point {
  double t = 0;  // seconds since the run's start
  uint64_t open = 0;
  uint64_t attempts = 0;           // cumulative
  uint64_t upgraded = 0;           // cumulative
  uint64_t failures = 0;           // cumulative
  uint64_t sent = 0;               // cumulative
  uint64_t received = 0;           // cumulative
  uint64_t round_trip_p50_ns = 0;  // cumulative distribution so far
  uint64_t round_trip_p99_ns = 0;
  uint64_t rss_bytes = 0;
  uint64_t publishes = 0;  // cumulative (pub/sub)
  uint64_t expected = 0;   // cumulative
  uint64_t delivered = 0;  // cumulative, unique
};

struct run_result {
  std::string target;
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
};

}  // namespace horde::app

#include "app/prometheus_text.hh"

#include <fmt/format.h>

#include <string_view>

namespace horde::app {
namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <class T>
void sample(std::string& out, std::string_view name, T value, std::string_view labels = {}) {
  if (labels.empty()) {
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  } else {
    fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, value);
  }
}

void counter(std::string& out, std::string_view name, uint64_t value, std::string_view help) {
  family(out, name, "counter", help);
  sample(out, name, value);
}

void gauge(std::string& out, std::string_view name, double value, std::string_view help) {
  family(out, name, "gauge", help);
  sample(out, name, value);
}

// One histogram's lines; `labels` ("" or `name="x"`) go before `le`.
void histogram_lines(std::string& out, std::string_view name, const core::histogram& h,
                     const std::string& labels) {
  const auto counts = cumulative_counts(h);
  const std::string prefix = labels.empty() ? "" : labels + ",";
  for (size_t i = 0; i < prometheus_bounds.size(); ++i)
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix,
                   prometheus_bounds[i], counts[i]);
  const uint64_t all = counts.back();
  fmt::format_to(std::back_inserter(out), "{}_bucket{{{}le=\"+Inf\"}} {}\n", name, prefix, all);
  // The sum from the mean (horde keeps a sum of ns); over the buckets' count
  // so _count equals the +Inf bucket, as the format requires.
  const double sum = all == 0 ? 0 : h.mean() * double(all) / 1e9;
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  fmt::format_to(std::back_inserter(out), "{}_sum{} {}\n{}_count{} {}\n", name, braces, sum, name,
                 braces, all);
}

void histogram(std::string& out, std::string_view name, const core::histogram& h,
               std::string_view help) {
  family(out, name, "histogram", help);
  histogram_lines(out, name, h, "");
}

void connection_families(std::string& out, const core::counter_values& c) {
  counter(out, "horde_connections_attempted_total", c.attempts, "TCP connects started.");
  counter(out, "horde_connections_tcp_connected_total", c.tcp_connected, "TCP connects completed.");
  counter(out, "horde_connections_opened_total", c.upgraded,
          "WebSockets opened (101 received and verified).");
  family(out, "horde_connections_failed_total", "counter", "Connections failed, by reason.");
  for (size_t i = 0; i < c.failures.size(); ++i) {
    const auto reason = core::failure_reason(i);
    sample(out, "horde_connections_failed_total", c.failures[i],
           fmt::format("reason=\"{}\"", label_value(std::string(core::to_string(reason)))));
  }
  counter(out, "horde_connections_closed_clean_total", c.closed_clean,
          "Close handshakes completed at the end of the run.");
  counter(out, "horde_reconnects_total", c.reconnects, "Connections launched again (--reconnect).");
  counter(out, "horde_reconnects_abandoned_total", c.reconnects_abandoned,
          "Connections given up after --max-attempts.");
  counter(out, "horde_lifetimes_ended_total", c.lifetimes_ended,
          "Connections closed at the end of --lifetime.");
  counter(out, "horde_chaos_drops_total", c.chaos_drops, "Connections dropped by --chaos-rate.");
  gauge(out, "horde_connections_open", double(c.open_now), "WebSockets open now.");
  gauge(out, "horde_connections_open_peak", double(c.open_peak),
        "The most WebSockets open at once.");
}

void message_families(std::string& out, const core::counter_values& c) {
  counter(out, "horde_messages_sent_total", c.messages_sent, "Messages sent.");
  counter(out, "horde_messages_received_total", c.messages_received, "Messages received.");
  counter(out, "horde_messages_answered_total", c.messages_answered,
          "Echoes of a message sent, each counted once.");
  counter(out, "horde_messages_duplicated_total", c.messages_duplicated,
          "Second echoes of a message already answered.");
  counter(out, "horde_messages_corrupted_total", c.messages_corrupted,
          "Echoes whose payload is not what was sent.");
  counter(out, "horde_messages_truncated_total", c.messages_truncated,
          "Echoes shorter than what was sent.");
  counter(out, "horde_messages_unstamped_total", c.messages_unstamped,
          "Messages received without a horde stamp.");
  counter(out, "horde_payload_sent_bytes_total", c.bytes_sent, "WebSocket payload bytes sent.");
  counter(out, "horde_payload_received_bytes_total", c.bytes_received,
          "WebSocket payload bytes received.");
  counter(out, "horde_pings_sent_total", c.pings_sent, "Pings sent.");
  counter(out, "horde_pongs_received_total", c.pongs_received, "Pongs received.");
  const auto& p = c.pubsub;
  counter(out, "horde_pubsub_publishes_total", p.publishes, "Publishes sent.");
  counter(out, "horde_pubsub_expected_total", p.owed(), "Deliveries owed to subscribers.");
  counter(out, "horde_pubsub_delivered_total", p.unique(), "Distinct deliveries received.");
  counter(out, "horde_pubsub_duplicated_total", p.duplicates, "Deliveries received twice.");
  // Lost is owed minus delivered so far: a late delivery lowers it.
  gauge(out, "horde_pubsub_lost", double(p.lost()), "Deliveries owed and not (yet) received.");
}

void named_families(std::string& out, const core::metrics_snapshot& m,
                    const std::vector<std::string>& counters,
                    const std::vector<std::string>& histograms) {
  const size_t n_counters = std::min(counters.size(), m.counters.named.size());
  if (n_counters > 0) {
    family(out, "horde_scenario_events_total", "counter",
           "The scenario's own counters, by name (docs/scenarios.md).");
    for (size_t i = 0; i < n_counters; ++i)
      sample(out, "horde_scenario_events_total", m.counters.named[i],
             fmt::format("name=\"{}\"", label_value(counters[i])));
  }
  const size_t n_histograms = std::min(histograms.size(), m.latency.named.size());
  if (n_histograms > 0) {
    family(out, "horde_scenario_seconds", "histogram",
           "The scenario's own latencies, by name (docs/scenarios.md).");
    for (size_t i = 0; i < n_histograms; ++i)
      histogram_lines(out, "horde_scenario_seconds", m.latency.named[i],
                      fmt::format("name=\"{}\"", label_value(histograms[i])));
  }
}

void target_families(std::string& out, const series_point& point) {
  gauge(out, "horde_resident_bytes", double(point.rss_bytes), "horde's own resident memory.");
  if (point.target) {
    const auto& t = point.target->sum;
    gauge(out, "horde_target_resident_bytes", double(t.rss_bytes),
          "The target's resident memory (summed over --target-pid and --target-cgroup).");
    family(out, "horde_target_cpu_seconds_total", "counter",
           "The target's CPU time since the run's first sample.");
    sample(out, "horde_target_cpu_seconds_total", t.cpu_user_seconds, "mode=\"user\"");
    sample(out, "horde_target_cpu_seconds_total", t.cpu_system_seconds, "mode=\"system\"");
    gauge(out, "horde_target_open_fds", double(t.fds), "The target's open descriptors.");
    gauge(out, "horde_target_threads", double(t.threads), "The target's threads.");
  }
  if (point.host) {
    const auto& h = point.host;
    family(out, "horde_host_cpu_ratio", "gauge", "Share of all CPUs' time over the last second.");
    sample(out, "horde_host_cpu_ratio", h->cpu_user_share, "mode=\"user\"");
    sample(out, "horde_host_cpu_ratio", h->cpu_system_share, "mode=\"system\"");
    sample(out, "horde_host_cpu_ratio", h->cpu_softirq_share, "mode=\"softirq\"");
    gauge(out, "horde_host_memory_available_bytes", double(h->memory_available_bytes),
          "MemAvailable of /proc/meminfo.");
    counter(out, "horde_host_loopback_received_bytes_total", h->loopback_bytes,
            "Bytes received on lo since the run's start.");
  }
}

}  // namespace

std::array<uint64_t, prometheus_bounds.size() + 1> cumulative_counts(const core::histogram& h) {
  std::array<uint64_t, prometheus_bounds.size() + 1> counts{};
  std::array<uint64_t, prometheus_bounds.size()> bound_ns{};
  for (size_t i = 0; i < prometheus_bounds.size(); ++i)
    bound_ns[i] = uint64_t(prometheus_bounds[i] * 1e9 + 0.5);
  // Buckets come in rising order: each lands in the first bound that holds it.
  size_t bound = 0;
  h.for_each_bucket([&](uint32_t index, uint64_t n) {
    const uint64_t highest = core::histogram::highest_in(index);
    while (bound < bound_ns.size() && highest > bound_ns[bound])
      ++bound;
    counts[bound] += n;
  });
  for (size_t i = 1; i < counts.size(); ++i)
    counts[i] += counts[i - 1];
  return counts;
}

std::string label_value(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '"') {
      out += "\\\"";
    } else if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  return out;
}

std::string prometheus_text(const core::metrics_snapshot& m,
                            const std::vector<std::string>& named_counters,
                            const std::vector<std::string>& named_histograms,
                            const series_point& point) {
  std::string out;
  out.reserve(32 * 1024);
  connection_families(out, m.counters);
  message_families(out, m.counters);
  const auto& l = m.latency;
  histogram(out, "horde_connect_seconds", l.connect, "TCP connect time.");
  histogram(out, "horde_tls_handshake_seconds", l.tls_handshake, "TLS handshake time (wss://).");
  histogram(out, "horde_upgrade_seconds", l.upgrade, "WebSocket upgrade time, to a verified 101.");
  histogram(out, "horde_round_trip_seconds", l.round_trip,
            "Message round trip, from its scheduled send time to its echo.");
  histogram(out, "horde_send_lag_seconds", l.send_lag,
            "How late horde handed a message to the kernel.");
  histogram(out, "horde_subscribe_seconds", l.subscribe, "Subscribe sent to acknowledged.");
  histogram(out, "horde_fanout_seconds", l.fanout, "Publish's scheduled time to each delivery.");
  named_families(out, m, named_counters, named_histograms);
  target_families(out, point);
  return out;
}

}  // namespace horde::app

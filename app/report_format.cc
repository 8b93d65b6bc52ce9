#include "app/report_format.hh"

#include <fmt/format.h>

#include <cmath>

namespace horde::app {

std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i % 3) == lead % 3 && (i >= lead || lead == 0)) out += ',';
    out += digits[i];
  }
  return out;
}

std::string ms(uint64_t ns) {
  return fmt::format("{:.3f}", double(ns) / 1e6);
}

std::string bytes_text(uint64_t n) {
  if (n >= (1ull << 30)) return fmt::format("{:.2f} GiB", double(n) / double(1ull << 30));
  if (n >= (1ull << 20)) return fmt::format("{:.1f} MiB", double(n) / double(1ull << 20));
  if (n >= 1024) return fmt::format("{:.1f} KiB", double(n) / 1024.0);
  return fmt::format("{} B", n);
}

std::string percentile_label(double percentile) {
  // Shortest form that reads back as the same number: 50 -> p50, 99.9 -> p99.9.
  if (percentile == std::floor(percentile)) return fmt::format("p{}", uint64_t(percentile));
  return fmt::format("p{:g}", percentile);
}

std::optional<double> memory_per_connection(const run_result& r) {
  if (r.open_at_rss_sample < min_connections_for_memory) return std::nullopt;
  if (r.rss_at_peak_open <= r.rss_before_connections) return std::nullopt;
  return double(r.rss_at_peak_open - r.rss_before_connections) / double(r.open_at_rss_sample);
}

std::optional<ramp_summary> ramp_of(const run_result& r) {
  if (!r.plan || !r.plan->connection_stages.empty()) return std::nullopt;
  return summarize_ramp(r.series, r.plan->connections, r.plan->connect_rate,
                        double(r.plan->duration_ns) / 1e9);
}

double cpu_seconds(const run_result& r) {
  return (r.usage_end.user_seconds - r.usage_start.user_seconds) +
         (r.usage_end.system_seconds - r.usage_start.system_seconds);
}

std::optional<double> cpu_per_million_messages(const run_result& r) {
  const uint64_t received = r.metrics.counters.messages_received;
  if (received < min_messages_for_cpu || cpu_seconds(r) <= 0) return std::nullopt;
  return cpu_seconds(r) / (double(received) / 1e6);
}

}  // namespace horde::app

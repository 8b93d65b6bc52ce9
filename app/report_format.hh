// How the report writes numbers: thousands grouped, milliseconds, bytes,
// percentile labels ("p99.9"), and the per-connection and per-message
// figures that are only given when there is enough to measure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/ramp_summary.hh"
#include "app/run_result.hh"

namespace horde::app {

std::string grouped(uint64_t n);                  // 1234567 -> "1,234,567"
std::string ms(uint64_t ns);                      // 1500000 -> "1.500"
std::string bytes_text(uint64_t n);               // 1536 -> "1.5 KiB"
std::string percentile_label(double percentile);  // 99.9 -> "p99.9", 50 -> "p50"

// Bytes of RSS growth per open connection; none below
// min_connections_for_memory connections or without growth.
std::optional<double> memory_per_connection(const run_result& r);
// horde's CPU seconds (user + system) per million messages received; none
// below min_messages_for_cpu messages.
std::optional<double> cpu_per_million_messages(const run_result& r);
double cpu_seconds(const run_result& r);
// The run's ramp (app/ramp_summary.hh); none with --stages (they set their
// own pace) or without a plan.
std::optional<ramp_summary> ramp_of(const run_result& r);

// Echo messages sent and never answered: each echo counts once (a
// duplicate is not a second answer; core/echo_scenario).
inline uint64_t unanswered(const core::counter_values& c) {
  return c.messages_sent > c.messages_answered ? c.messages_sent - c.messages_answered : 0;
}

}  // namespace horde::app

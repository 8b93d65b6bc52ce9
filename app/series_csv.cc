#include "app/series_csv.hh"

#include <fmt/format.h>

namespace horde::app {
namespace {

uint64_t minus(uint64_t a, uint64_t b) {
  return a > b ? a - b : 0;
}

double per_second(uint64_t now, uint64_t before, double seconds) {
  return seconds > 0 ? double(minus(now, before)) / seconds : 0;
}

std::string ms_or_empty(uint64_t ns, uint64_t count) {
  return count == 0 ? std::string() : fmt::format("{:.3f}", double(ns) / 1e6);
}

}  // namespace

const char* const series_csv_header =
    "t_seconds,open,connects_per_s,failures_per_s,sent_per_s,received_per_s,"
    "rtt_p50_ms,rtt_p95_ms,rtt_p99_ms,rtt_max_ms,deliveries_per_s,undelivered,failures_total";

std::string series_csv(const std::vector<series_point>& series) {
  std::string out = std::string(series_csv_header) + "\n";
  series_point previous;
  for (const auto& s : series) {
    const double dt = s.interval_seconds;
    const auto& rtt = s.round_trip;
    // An interval with no round trips has no percentiles: the cells stay
    // empty rather than read as 0 ms.
    out += fmt::format(
        "{:.3f},{},{:.1f},{:.1f},{:.1f},{:.1f},{},{},{},{},{:.1f},{},{}\n", s.t, s.open,
        per_second(s.upgraded, previous.upgraded, dt),
        per_second(s.failures, previous.failures, dt), per_second(s.sent, previous.sent, dt),
        per_second(s.received, previous.received, dt), ms_or_empty(rtt.p50_ns, rtt.count),
        ms_or_empty(rtt.p95_ns, rtt.count), ms_or_empty(rtt.p99_ns, rtt.count),
        ms_or_empty(rtt.max_ns, rtt.count), per_second(s.delivered, previous.delivered, dt),
        minus(s.expected, s.delivered), s.failures);
    previous = s;
  }
  return out;
}

}  // namespace horde::app

#include "app/series_downsample.hh"

#include <algorithm>

namespace horde::app {
namespace {

void merge_latency(interval_latency& into, const interval_latency& from) {
  into.count += from.count;
  into.p50_ns = std::max(into.p50_ns, from.p50_ns);
  into.p95_ns = std::max(into.p95_ns, from.p95_ns);
  into.p99_ns = std::max(into.p99_ns, from.p99_ns);
  into.max_ns = std::max(into.max_ns, from.max_ns);
}

}  // namespace

std::vector<size_t> downsample_ends(size_t n, size_t max_points) {
  std::vector<size_t> ends;
  if (n == 0) return ends;
  const size_t group = max_points == 0 ? n : (n + max_points - 1) / max_points;
  for (size_t end = group - 1; end < n; end += group)
    ends.push_back(end);
  if (ends.empty() || ends.back() != n - 1) ends.push_back(n - 1);
  return ends;
}

std::vector<series_point> downsample(const std::vector<series_point>& series, size_t max_points) {
  std::vector<series_point> out;
  size_t begin = 0;
  for (size_t end : downsample_ends(series.size(), max_points)) {
    series_point merged = series[end];  // cumulative fields and t: the group's last
    merged.interval_seconds = 0;
    merged.round_trip = merged.fanout = merged.connect = merged.upgrade = {};
    for (size_t i = begin; i <= end; ++i) {
      const auto& s = series[i];
      merged.interval_seconds += s.interval_seconds;
      merged.open = std::max(merged.open, s.open);
      merged.rss_bytes = std::max(merged.rss_bytes, s.rss_bytes);
      merge_latency(merged.round_trip, s.round_trip);
      merge_latency(merged.fanout, s.fanout);
      merge_latency(merged.connect, s.connect);
      merge_latency(merged.upgrade, s.upgrade);
    }
    out.push_back(merged);
    begin = end + 1;
  }
  return out;
}

}  // namespace horde::app

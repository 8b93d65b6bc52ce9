#include "app/target_cost.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace horde::app {
namespace {

constexpr double mib = 1024.0 * 1024.0;

// The last point while holding (before --duration ended) with the most
// connections open: as horde's own memory per connection takes it
// (run_watch.cc note_peaks), not during the closing handshakes.
const series_point* hold_point(const run_result& r, double duration) {
  const series_point* best = nullptr;
  for (const auto& p : r.series) {
    if (!p.target || p.t >= duration || p.open == 0) continue;
    if (!best || p.open >= best->open) best = &p;
  }
  return best;
}

std::optional<memory_slope> slope_after_ramp(const run_result& r, double duration) {
  uint64_t peak_open = 0;
  for (const auto& p : r.series)
    if (p.t < duration) peak_open = std::max(peak_open, p.open);
  std::vector<double> t, rss;
  const series_point* first = nullptr;
  const series_point* last = nullptr;
  for (const auto& p : r.series) {
    if (!p.target || p.t >= duration) continue;
    if (!first && double(p.open) < 0.95 * double(peak_open)) continue;
    if (!first) first = &p;
    last = &p;
    t.push_back(p.t);
    rss.push_back(double(p.target->sum.rss_bytes));
  }
  if (t.size() < min_points_for_slope) return std::nullopt;
  const auto fit = fit_line(t, rss);
  if (!fit) return std::nullopt;
  memory_slope s;
  s.points = t.size();
  s.from_seconds = t.front();
  s.to_seconds = t.back();
  s.bytes_per_hour = fit->slope * 3600;
  s.r_squared = fit->r_squared;
  double sum = 0;
  for (double y : rss)
    sum += y;
  s.mean_rss_bytes = sum / double(rss.size());
  s.growth_bytes = fit->slope * (s.to_seconds - s.from_seconds);
  s.growing = s.growth_bytes > leak_share_of_rss * s.mean_rss_bytes &&
              s.growth_bytes > leak_min_bytes && s.r_squared > leak_min_r_squared;
  s.connections_cycled = last->upgraded > first->upgraded ? last->upgraded - first->upgraded : 0;
  if (s.connections_cycled >= min_connections_for_memory)
    s.bytes_per_cycled_connection = s.growth_bytes / double(s.connections_cycled);
  return s;
}

std::string verdict_of(const std::optional<memory_slope>& slope, size_t points) {
  if (!slope)
    return fmt::format("too short to judge a leak ({} s sampled; it takes {} s after the ramp)",
                       points, min_points_for_slope);
  if (!slope->growing) return "flat";
  return fmt::format("growing {:.1f} MiB/h — a leak?", slope->bytes_per_hour / mib);
}

}  // namespace

std::optional<line_fit> fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return std::nullopt;
  // Centred sums: seconds and bytes in the hundreds of millions would lose
  // digits squared as they are.
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= double(n);
  my /= double(n);
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0) return std::nullopt;
  line_fit fit;
  fit.slope = sxy / sxx;
  fit.intercept = my - fit.slope * mx;
  fit.r_squared = syy == 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return fit;
}

std::optional<target_cost> judge_target(const run_result& r) {
  const auto& usage = r.sampled_target;
  if (usage.names.empty()) return std::nullopt;
  const double duration = r.plan ? double(r.plan->duration_ns) / 1e9 : 1e300;
  target_cost cost;
  size_t sampled = 0;
  for (const auto& p : r.series) {
    if (!p.target) continue;
    ++sampled;
    cost.peak_rss_bytes = std::max(cost.peak_rss_bytes, p.target->sum.rss_bytes);
  }
  if (usage.before_connections) {
    cost.rss_before_connections = usage.before_connections->rss_bytes;
    cost.peak_rss_bytes = std::max(cost.peak_rss_bytes, cost.rss_before_connections);
  }
  if (const series_point* hold = hold_point(r, duration)) {
    cost.rss_at_hold = hold->target->sum.rss_bytes;
    cost.open_at_hold = hold->open;
    if (usage.before_connections && cost.open_at_hold >= min_connections_for_memory &&
        cost.rss_at_hold > cost.rss_before_connections)
      cost.memory_per_connection =
          double(cost.rss_at_hold - cost.rss_before_connections) / double(cost.open_at_hold);
  }
  const target_figures* end = usage.at_end ? &*usage.at_end : nullptr;
  if (!end && sampled > 0) end = &r.series.back().target->sum;
  if (end) {
    cost.peak_rss_bytes = std::max(cost.peak_rss_bytes, end->rss_bytes);
    cost.cpu_seconds = end->cpu_user_seconds + end->cpu_system_seconds;
  }
  const auto& c = r.metrics.counters;
  cost.messages = c.messages_received + c.messages_sent;
  if (cost.messages >= min_messages_for_cpu && cost.cpu_seconds > 0)
    cost.cpu_per_million_messages = cost.cpu_seconds / (double(cost.messages) / 1e6);
  cost.slope = slope_after_ramp(r, duration);
  cost.verdict = verdict_of(cost.slope, sampled);
  return cost;
}

}  // namespace horde::app

#include "app/report_target.hh"

#include <fmt/format.h>

#include "app/report_format.hh"
#include "app/target_cost.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

json figure_or_null(const std::optional<double>& figure) {
  return figure ? json(*figure) : json(nullptr);
}

// The host over the run: the mean of the per-second shares, the least
// memory available seen, loopback bytes at the last point.
struct host_over_run {
  double user = 0, system = 0, softirq = 0;
  uint64_t least_available = 0;
  uint64_t loopback_bytes = 0;
  size_t points = 0;
};

host_over_run host_summary(const run_result& r) {
  host_over_run h;
  for (const auto& p : r.series) {
    if (!p.host) continue;
    ++h.points;
    h.user += p.host->cpu_user_share;
    h.system += p.host->cpu_system_share;
    h.softirq += p.host->cpu_softirq_share;
    if (h.least_available == 0 || p.host->memory_available_bytes < h.least_available)
      h.least_available = p.host->memory_available_bytes;
    h.loopback_bytes = p.host->loopback_bytes;
  }
  if (h.points > 0) {
    h.user /= double(h.points);
    h.system /= double(h.points);
    h.softirq /= double(h.points);
  }
  return h;
}

const target_figures* end_figures(const run_result& r) {
  if (r.sampled_target.at_end) return &*r.sampled_target.at_end;
  for (auto p = r.series.rbegin(); p != r.series.rend(); ++p)
    if (p->target) return &p->target->sum;
  return nullptr;
}

double sampling_share(const run_result& r) {
  return r.elapsed_seconds > 0 ? r.sampled_target.sampling_cpu_seconds / r.elapsed_seconds : 0;
}

void print_slope(std::FILE* out, const target_cost& cost) {
  if (!cost.slope) {
    fmt::print(out, "               memory over the hold: {}\n", cost.verdict);
    return;
  }
  const auto& s = *cost.slope;
  fmt::print(out,
             "               memory over the hold: {} ({:+.1f} MiB/h, R² {:.2f}, {} points from "
             "{:.0f} s to {:.0f} s)\n",
             cost.verdict, s.bytes_per_hour / (1024.0 * 1024.0), s.r_squared, s.points,
             s.from_seconds, s.to_seconds);
  if (s.bytes_per_cycled_connection)
    fmt::print(out,
               "               {:.0f} B of growth per connection opened and closed ({} cycled)\n",
               *s.bytes_per_cycled_connection, grouped(s.connections_cycled));
}

}  // namespace

void print_target(std::FILE* out, const run_result& r) {
  const auto cost = judge_target(r);
  if (!cost) return;
  const auto& usage = r.sampled_target;
  const target_figures* end = end_figures(r);
  std::string names;
  for (const auto& name : usage.names)
    names += (names.empty() ? "" : ", ") + name;
  fmt::print(out, "  target       {}{}\n", names,
             usage.is_horde ? " = horde itself (the embedded server): inside horde's figures" : "");
  if (end) {
    fmt::print(out,
               "               RSS {} (peak {})  CPU {:.2f} s user + {:.2f} s system  fds {}  "
               "threads {}\n",
               bytes_text(end->rss_bytes), bytes_text(cost->peak_rss_bytes), end->cpu_user_seconds,
               end->cpu_system_seconds, grouped(end->fds), grouped(end->threads));
  }
  if (cost->memory_per_connection) {
    fmt::print(
        out, "               memory per open connection {:.0f} B (RSS growth {} at {} open)\n",
        *cost->memory_per_connection, bytes_text(cost->rss_at_hold - cost->rss_before_connections),
        grouped(cost->open_at_hold));
  } else if (cost->open_at_hold > 0) {
    fmt::print(out,
               "               memory per open connection: too few to measure ({} open, RSS "
               "growth {}; it takes {} or more and growth)\n",
               grouped(cost->open_at_hold),
               bytes_text(cost->rss_at_hold > cost->rss_before_connections
                              ? cost->rss_at_hold - cost->rss_before_connections
                              : 0),
               min_connections_for_memory);
  }
  if (cost->cpu_per_million_messages)
    fmt::print(out, "               {:.2f} CPU-seconds per million messages (sent + received)\n",
               *cost->cpu_per_million_messages);
  print_slope(out, *cost);
  const auto host = host_summary(r);
  if (host.points > 0) {
    fmt::print(
        out,
        "  host         CPU user {:.0f}%  system {:.0f}%  softirq {:.0f}% (mean per second); "
        "memory available at least {}; loopback {}\n",
        100 * host.user, 100 * host.system, 100 * host.softirq, bytes_text(host.least_available),
        bytes_text(host.loopback_bytes));
  }
  fmt::print(out,
             "               sampling cost horde {:.0f} us of CPU per sample ({:.3f}% of a CPU)\n",
             usage.samples ? usage.sampling_cpu_seconds / double(usage.samples) * 1e6 : 0,
             100 * sampling_share(r));
}

json target_cost_json(const run_result& r) {
  const auto cost = judge_target(r);
  if (!cost) return nullptr;
  const auto& usage = r.sampled_target;
  const target_figures* end = end_figures(r);
  json slope = nullptr;
  if (cost->slope) {
    const auto& s = *cost->slope;
    slope = {{"bytes_per_hour", s.bytes_per_hour},
             {"r_squared", s.r_squared},
             {"from_seconds", s.from_seconds},
             {"to_seconds", s.to_seconds},
             {"points", s.points},
             {"mean_rss_bytes", s.mean_rss_bytes},
             {"growth_bytes", s.growth_bytes},
             {"growing", s.growing},
             {"connections_cycled", s.connections_cycled},
             {"bytes_per_cycled_connection", figure_or_null(s.bytes_per_cycled_connection)}};
  }
  const auto host = host_summary(r);
  json j = {{"targets", usage.names},
            {"includes_horde", usage.is_horde},
            {"rss_bytes", end ? end->rss_bytes : 0},
            {"peak_rss_bytes", cost->peak_rss_bytes},
            {"rss_before_connections", cost->rss_before_connections},
            {"rss_at_hold", cost->rss_at_hold},
            {"open_at_hold", cost->open_at_hold},
            {"memory_per_connection_bytes", figure_or_null(cost->memory_per_connection)},
            {"cpu_user_seconds", end ? end->cpu_user_seconds : 0},
            {"cpu_system_seconds", end ? end->cpu_system_seconds : 0},
            {"messages", cost->messages},
            {"cpu_seconds_per_million_messages", figure_or_null(cost->cpu_per_million_messages)},
            {"fds", end ? end->fds : 0},
            {"threads", end ? end->threads : 0},
            {"memory_slope", slope},
            {"leak_verdict", cost->verdict},
            {"sampling",
             {{"samples", usage.samples},
              {"cpu_seconds", usage.sampling_cpu_seconds},
              {"cpu_share", sampling_share(r)},
              {"fds_walked", usage.fds_walked}}}};
  if (host.points > 0) {
    j["host"] = {{"cpu_user_share", host.user},
                 {"cpu_system_share", host.system},
                 {"cpu_softirq_share", host.softirq},
                 {"least_memory_available_bytes", host.least_available},
                 {"loopback_bytes", host.loopback_bytes}};
  }
  return j;
}

void add_sampled_fields(json& p, const series_point& s) {
  auto figures = [](const target_figures& f) {
    return json{{"rss_bytes", f.rss_bytes},
                {"cpu_user_s", f.cpu_user_seconds},
                {"cpu_system_s", f.cpu_system_seconds},
                {"fds", f.fds},
                {"threads", f.threads}};
  };
  if (s.target) {
    const auto& t = s.target->sum;
    p["target_rss_bytes"] = t.rss_bytes;
    p["target_cpu_user_s"] = t.cpu_user_seconds;
    p["target_cpu_system_s"] = t.cpu_system_seconds;
    p["target_fds"] = t.fds;
    p["target_threads"] = t.threads;
    if (!s.target->each.empty()) {
      json each = json::array();
      for (const auto& f : s.target->each)
        each.push_back(figures(f));
      p["targets"] = each;
    }
  }
  if (s.host) {
    p["host"] = {{"cpu_user_share", s.host->cpu_user_share},
                 {"cpu_system_share", s.host->cpu_system_share},
                 {"cpu_softirq_share", s.host->cpu_softirq_share},
                 {"memory_available_bytes", s.host->memory_available_bytes},
                 {"loopback_bytes", s.host->loopback_bytes}};
  }
}

}  // namespace horde::app

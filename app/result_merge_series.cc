// horde merge's series (app/result_merge.hh): each file's points placed on
// the wall-clock second they were taken, then added second by second.
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <optional>

#include "app/result_merge.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

constexpr const char* cumulative[] = {"attempts", "opened",    "failures", "sent",
                                      "received", "publishes", "expected", "delivered"};
constexpr const char* gauges[] = {"open", "rss_bytes"};
constexpr const char* cumulative_percentiles[] = {"round_trip_p50_ns", "round_trip_p99_ns"};
constexpr const char* interval_latencies[] = {"round_trip", "fanout", "connect", "upgrade"};

// One file's points by the second (since the earliest start) they fall on.
struct lane {
  std::map<int64_t, const json*> points;
};

// A count; 0 when absent, negative or not a whole number.
uint64_t count(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() || it->get<int64_t>() >= 0 ? it->get<uint64_t>() : 0;
}

void add_count(json& out, const json& p, const char* name) {
  out[name] = count(out, name) + count(p, name);
}

void take_highest(json& out, const json& p, const char* name) {
  out[name] = std::max(count(out, name), count(p, name));
}

void add_cumulative(json& out, const json& p) {
  for (const char* name : cumulative)
    add_count(out, p, name);
  for (const char* name : cumulative_percentiles)
    take_highest(out, p, name);
  const auto reasons = p.find("failures_by_reason");
  if (reasons == p.end() || !reasons->is_object()) return;
  json& into = out["failures_by_reason"];
  if (!into.is_object()) into = json::object();
  for (const auto& [reason, n] : reasons->items())
    if (n.is_number_unsigned()) into[reason] = count(into, reason.c_str()) + n.get<uint64_t>();
}

void add_interval(json& out, const json& p) {
  const auto it = p.find("interval");
  if (it == p.end() || !it->is_object()) return;
  json& into = out["interval"];
  if (!into.is_object()) into = json::object();
  if (const auto s = it->find("seconds"); s != it->end() && s->is_number())
    into["seconds"] = std::max(into.value("seconds", 0.0), s->get<double>());
  for (const char* name : interval_latencies) {
    const auto l = it->find(name);
    if (l == it->end() || !l->is_object()) continue;
    json& sum = into[name];
    if (!sum.is_object()) sum = json::object();
    add_count(sum, *l, "count");
    for (const char* p_name : {"p50_ns", "p95_ns", "p99_ns", "max_ns"})
      take_highest(sum, *l, p_name);
  }
}

// When the file's run started on the wall clock, in ns; none when unknown.
std::optional<int64_t> start_of(const json& r) {
  const auto w = r.find("worker");
  if (w != r.end() && w->is_object()) {
    const auto at = w->find("start_at_unix_ns");
    if (at != w->end() && at->is_number_integer())
      return at->get<int64_t>() + w->value("clock_offset_ns", int64_t(0));
  }
  const auto started = r.find("started_unix_ns");
  if (started != r.end() && started->is_number_integer()) return started->get<int64_t>();
  return std::nullopt;
}

std::vector<lane> place(const std::vector<merge_input>& inputs, std::vector<std::string>& notes) {
  std::vector<std::optional<int64_t>> starts;
  std::optional<int64_t> earliest;
  for (const auto& in : inputs) {
    starts.push_back(start_of(in.result));
    if (starts.back() && (!earliest || *starts.back() < *earliest))
      earliest = starts.back();
    else if (!starts.back())
      notes.push_back(in.path +
                      ": no start time (started_unix_ns): its series is placed as if "
                      "it started with the earliest");
  }
  std::vector<lane> lanes(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto found = inputs[i].result.find("series");
    if (found == inputs[i].result.end() || !found->is_array()) continue;
    const json& series = *found;  // the points stay in `inputs`: the lanes point into them
    const double offset = starts[i] && earliest ? double(*starts[i] - *earliest) / 1e9 : 0;
    for (const auto& p : series) {
      if (!p.is_object() || !p.contains("t") || !p["t"].is_number()) continue;
      const double t = p["t"].get<double>() + offset;
      if (!std::isfinite(t) || t < 0) continue;
      if (t > double(max_series_seconds)) {
        notes.push_back(inputs[i].path +
                        ": series points over 7 days after the earliest start "
                        "are left out");
        break;
      }
      lanes[i].points[int64_t(std::llround(t))] = &p;
    }
  }
  return lanes;
}

// The second `k` over every lane: a lane without a point then carries its
// previous one; one that has ended carries its counts, not its gauges.
json point_at(int64_t k, const std::vector<lane>& lanes) {
  json out = {{"t", double(k)}};
  uint64_t reporting = 0;
  for (const auto& l : lanes) {
    auto at = l.points.upper_bound(k);
    if (at == l.points.begin()) continue;  // not started yet
    const bool ended = at == l.points.end();
    --at;
    const json& p = *at->second;
    add_cumulative(out, p);
    if (at->first == k) {
      ++reporting;
      add_interval(out, p);
    }
    if (!ended || at->first == k)
      for (const char* name : gauges)
        add_count(out, p, name);
  }
  for (const char* name : gauges)
    if (!out.contains(name)) out[name] = 0;
  out["workers_reporting"] = reporting;
  return out;
}

}  // namespace

json merge_series(const std::vector<merge_input>& inputs, std::vector<std::string>& notes) {
  const std::vector<lane> lanes = place(inputs, notes);
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (const auto& l : lanes) {
    if (l.points.empty()) continue;
    first = std::min(first, l.points.begin()->first);
    last = std::max(last, l.points.rbegin()->first);
  }
  json out = json::array();
  for (int64_t k = first; first <= last && k <= last; ++k)
    out.push_back(point_at(k, lanes));
  return out;
}

}  // namespace horde::app

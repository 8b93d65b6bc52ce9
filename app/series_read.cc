#include "app/series_read.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

template <class T>
T field(const json& j, const char* name) {
  if (!j.is_object()) return T{};
  const auto it = j.find(name);
  if (it == j.end() || !it->is_number()) return T{};
  return it->get<T>();
}

interval_latency latency_of(const json& interval, const char* name) {
  const json empty;
  const auto it = interval.is_object() ? interval.find(name) : interval.end();
  const json& l = interval.is_object() && it != interval.end() ? *it : empty;
  return {field<uint64_t>(l, "count"), field<uint64_t>(l, "p50_ns"), field<uint64_t>(l, "p95_ns"),
          field<uint64_t>(l, "p99_ns"), field<uint64_t>(l, "max_ns")};
}

}  // namespace

std::vector<series_point> series_of_json(const json& series) {
  std::vector<series_point> out;
  if (!series.is_array()) return out;
  for (const auto& j : series) {
    series_point s;
    s.t = field<double>(j, "t");
    s.open = field<uint64_t>(j, "open");
    s.attempts = field<uint64_t>(j, "attempts");
    s.upgraded = field<uint64_t>(j, "opened");
    s.failures = field<uint64_t>(j, "failures");
    s.sent = field<uint64_t>(j, "sent");
    s.received = field<uint64_t>(j, "received");
    s.round_trip_p50_ns = field<uint64_t>(j, "round_trip_p50_ns");
    s.round_trip_p99_ns = field<uint64_t>(j, "round_trip_p99_ns");
    s.rss_bytes = field<uint64_t>(j, "rss_bytes");
    s.publishes = field<uint64_t>(j, "publishes");
    s.expected = field<uint64_t>(j, "expected");
    s.delivered = field<uint64_t>(j, "delivered");
    const auto interval = j.is_object() && j.contains("interval") ? j["interval"] : json();
    s.interval_seconds = field<double>(interval, "seconds");
    s.round_trip = latency_of(interval, "round_trip");
    s.fanout = latency_of(interval, "fanout");
    s.connect = latency_of(interval, "connect");
    s.upgrade = latency_of(interval, "upgrade");
    out.push_back(s);
  }
  return out;
}

}  // namespace horde::app

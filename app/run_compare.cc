#include "app/run_compare.hh"

#include <cmath>
#include <set>

#include "app/histogram_spectrum.hh"
#include "app/json_fields.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

std::optional<double> per_second(const json& r, const std::string& pointer) {
  const auto n = number_at(r, pointer);
  const auto seconds = number_at(r, "/elapsed_seconds");
  if (!n || !seconds || *seconds <= 0) return std::nullopt;
  return *n / *seconds;
}

// A percentile from the buckets in ms, so any percentile compares whatever
// --percentiles each run chose.
std::optional<double> percentile_ms(const json& r, const std::string& pointer, double q) {
  const auto h = sparse_histogram_of(json_at(r, pointer));
  const auto ns = value_at_quantile(h, q);
  if (!ns) return std::nullopt;
  return double(*ns) / 1e6;
}

std::optional<double> max_ms(const json& r, const std::string& pointer) {
  const auto h = sparse_histogram_of(json_at(r, pointer));
  if (h.count == 0) return std::nullopt;
  return double(h.max_ns) / 1e6;
}

}  // namespace

std::vector<figure_change> compare_results(const json& base, const json& now) {
  std::vector<figure_change> out;
  const auto add = [&](std::string name, std::string unit, better_when direction, auto read) {
    out.push_back({std::move(name), std::move(unit), direction, read(base), read(now)});
  };
  const auto at = [](std::string pointer) {
    return [pointer](const json& r) { return number_at(r, pointer); };
  };
  const auto rate = [](std::string pointer) {
    return [pointer](const json& r) { return per_second(r, pointer); };
  };
  const auto pct = [](std::string pointer, double q) {
    return [pointer, q](const json& r) { return percentile_ms(r, pointer, q); };
  };
  const auto max = [](std::string pointer) {
    return [pointer](const json& r) { return max_ms(r, pointer); };
  };
  using enum better_when;
  add("connections opened", "", higher, at("/connections/opened"));
  add("connections failed", "", lower, at("/connections/failed"));
  add("messages sent/s", "/s", higher, rate("/messages/sent"));
  add("messages received/s", "/s", higher, rate("/messages/received"));
  add("messages answered", "", higher, at("/messages/answered"));
  add("messages unanswered", "", lower, at("/messages/unanswered"));
  if (base.contains("pubsub") || now.contains("pubsub")) {
    add("pub/sub delivered", "", higher, at("/pubsub/delivered"));
    add("pub/sub lost", "", lower, at("/pubsub/lost"));
  }
  add("round trip p50", "ms", lower, pct("/latency/round_trip", 0.50));
  add("round trip p95", "ms", lower, pct("/latency/round_trip", 0.95));
  add("round trip p99", "ms", lower, pct("/latency/round_trip", 0.99));
  add("round trip max", "ms", lower, max("/latency/round_trip"));
  add("connect p99", "ms", lower, pct("/latency/connect", 0.99));
  add("CPU per million messages", "s", lower, at("/self/cpu_seconds_per_million_messages"));
  add("memory per connection", "B", lower, at("/self/memory_per_connection_bytes"));
  std::set<std::string> named;
  for (const json* r : {&base, &now}) {
    const auto& latency = json_at(*r, "/scenario/latency");
    if (latency.is_object())
      for (const auto& [name, h] : latency.items())
        named.insert(name);
  }
  for (const auto& name : named) {
    // JSON pointer escapes: '~' as ~0, '/' as ~1.
    std::string escaped;
    for (char c : name)
      escaped += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
    const std::string pointer = "/scenario/latency/" + escaped;
    add(name + " p50", "ms", lower, pct(pointer, 0.50));
    add(name + " p99", "ms", lower, pct(pointer, 0.99));
  }
  return out;
}

std::optional<double> change_absolute(const figure_change& f) {
  if (!f.base || !f.now) return std::nullopt;
  return *f.now - *f.base;
}

std::optional<double> change_percent(const figure_change& f) {
  if (!f.base || !f.now || *f.base == 0) return std::nullopt;
  return 100.0 * (*f.now - *f.base) / std::fabs(*f.base);
}

change_verdict judge_change(const figure_change& f) {
  if (!f.base || !f.now) return change_verdict::unknown;
  const double delta = *f.now - *f.base;
  const double scale = std::max(std::fabs(*f.base), std::fabs(*f.now));
  if (scale == 0 || std::fabs(delta) <= 0.0005 * scale) return change_verdict::same;
  const bool up = delta > 0;
  return up == (f.direction == better_when::higher) ? change_verdict::better
                                                    : change_verdict::worse;
}

const char* to_string(change_verdict v) {
  switch (v) {
    case change_verdict::better:
      return "better";
    case change_verdict::worse:
      return "worse";
    case change_verdict::same:
      return "same";
    case change_verdict::unknown:
      return "-";
  }
  return "-";
}

}  // namespace horde::app

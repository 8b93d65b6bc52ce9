#include "app/result_figures.hh"

#include <cmath>

#include "app/report.hh"
#include "app/run_result.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

uint64_t count_at(const json& j, const char* name) {
  if (!j.is_object()) return 0;
  const auto it = j.find(name);
  if (it == j.end() || !it->is_number()) return 0;
  const double v = it->get<double>();
  return v > 0 && std::isfinite(v) ? uint64_t(v) : 0;
}

const json& member(const json& j, const char* name) {
  static const json missing;
  if (!j.is_object()) return missing;
  const auto it = j.find(name);
  return it == j.end() ? missing : *it;
}

void read_counters(const json& result, core::counter_values& c) {
  const json& counters = member(result, "counters");
#define HORDE_COUNTER_READ(name) c.name = count_at(counters, #name);
  HORDE_CONNECTION_COUNTERS(HORDE_COUNTER_READ)
  HORDE_MESSAGE_COUNTERS(HORDE_COUNTER_READ)
  HORDE_ENGINE_COUNTERS(HORDE_COUNTER_READ)
#undef HORDE_COUNTER_READ
  const json& failures = member(member(result, "connections"), "failures");
  for (size_t i = 0; i < c.failures.size(); ++i)
    c.failures[i] =
        count_at(failures, std::string(core::to_string(core::failure_reason(i))).c_str());
}

// report_json.cc's pubsub_json names owed() "expected" and unique()
// "delivered"; the raw counters are under their own names beside them.
void read_pubsub(const json& pubsub, core::pubsub_values& p) {
  p.publishes = count_at(pubsub, "publishes");
  p.expected = count_at(pubsub, "expected_at_send");
  p.withdrawn = count_at(pubsub, "withdrawn");
  p.late = count_at(pubsub, "reordered");
  const uint64_t unique = count_at(pubsub, "delivered");
  p.in_order = unique > p.late ? unique - p.late : 0;
  p.delivered = count_at(pubsub, "deliveries_received");
  p.duplicates = count_at(pubsub, "duplicated");
}

// The --protocol codec's metrics (scenario.counters and scenario.latency,
// "protocol.<codec>.<metric>"): the only named ones a threshold can name,
// and only those a codec declares (a file cannot make it hold more).
void read_protocol_metrics(const json& scenario, result_figures& f) {
  const json& counters = member(scenario, "counters");
  if (counters.is_object()) {
    for (const auto& [name, value] : counters.items()) {
      if (!is_protocol_metric(name, false)) continue;
      f.names.counter(name);
      f.counters.named.push_back(count_at(counters, name.c_str()));
    }
  }
  const json& latency = member(scenario, "latency");
  if (latency.is_object()) {
    for (const auto& [name, value] : latency.items()) {
      if (!is_protocol_metric(name, true)) continue;
      f.names.histogram(name);
      add_histogram_json(f.latency.named.emplace_back(), value);
    }
  }
}

}  // namespace

void add_histogram_json(core::histogram& into, const json& j) {
  const json& buckets = member(j, "buckets");
  if (!buckets.is_array()) return;
  core::histogram h;
  for (const auto& b : buckets) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() || !b[1].is_number_unsigned())
      continue;
    const uint64_t index = b[0].get<uint64_t>();
    if (index < core::histogram::bucket_count) h.add_bucket(uint32_t(index), b[1].get<uint64_t>());
  }
  const uint64_t n = h.count();
  if (n == 0) return;
  const double mean = member(j, "mean_ns").is_number() ? member(j, "mean_ns").get<double>() : 0;
  const uint64_t lowest = count_at(j, "min_ns"), highest = count_at(j, "max_ns");
  // A file whose min or max disagrees with its own buckets keeps the buckets' bounds.
  if (core::histogram::index_of(lowest) == core::histogram::index_of(h.min()) &&
      core::histogram::index_of(highest) == core::histogram::index_of(h.max()))
    h.restore(lowest, highest, uint64_t(std::llround(mean * double(n))));
  into.add(h);
}

std::vector<double> result_percentiles(const json& result) {
  std::vector<double> out;
  const json& listed = member(member(result, "plan"), "percentiles");
  if (listed.is_array()) {
    for (const auto& p : listed)
      if (p.is_number() && p.get<double>() > 0 && p.get<double>() < 100)
        out.push_back(p.get<double>());
  }
  return out.empty() ? run_result{}.percentiles : out;
}

result_figures figures_of_json(const json& result) {
  result_figures f;
  read_counters(result, f.counters);
  const json& pubsub = member(result, "pubsub");
  f.pubsub = pubsub.is_object();
  if (f.pubsub) read_pubsub(pubsub, f.counters.pubsub);
  const json& latency = member(result, "latency");
  add_histogram_json(f.latency.connect, member(latency, "connect"));
  add_histogram_json(f.latency.tls_handshake, member(latency, "tls_handshake"));
  add_histogram_json(f.latency.upgrade, member(latency, "upgrade"));
  add_histogram_json(f.latency.round_trip, member(latency, "round_trip"));
  add_histogram_json(f.latency.send_lag, member(latency, "send_lag"));
  add_histogram_json(f.latency.subscribe, member(pubsub, "subscribe_latency"));
  add_histogram_json(f.latency.fanout, member(pubsub, "fanout_latency"));
  add_histogram_json(f.latency.fanout_last, member(pubsub, "fanout_last_latency"));
  read_protocol_metrics(member(result, "scenario"), f);
  return f;
}

json judge_result_json(const json& result, const std::vector<threshold>& thresholds) {
  const result_figures f = figures_of_json(result);
  const threshold_input in{&f.counters, &f.latency, nullptr, f.pubsub, &f.names};
  run_result judged;
  judged.thresholds = evaluate_thresholds(thresholds, in);
  const uint64_t planned = count_at(member(result, "plan"), "connections");
  for (auto& outcome : evaluate_thresholds(implicit_checks(in, planned), in)) {
    outcome.implicit = true;
    judged.thresholds.push_back(std::move(outcome));
  }
  return thresholds_json(judged);
}

}  // namespace horde::app

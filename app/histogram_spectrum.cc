#include "app/histogram_spectrum.hh"

#include <algorithm>
#include <cmath>

#include "core/histogram.hh"

namespace horde::app {
namespace {

// A count or an index: a whole number >= 0 (parsed JSON makes these
// unsigned, a json built in code signed).
bool counting(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

}  // namespace

sparse_histogram sparse_histogram_of(const nlohmann::json& histogram) {
  sparse_histogram h;
  if (!histogram.is_object()) return h;
  const auto buckets = histogram.find("buckets");
  if (buckets == histogram.end() || !buckets->is_array()) return h;
  for (const auto& pair : *buckets) {
    if (!pair.is_array() || pair.size() != 2 || !counting(pair[0]) || !counting(pair[1])) continue;
    const uint64_t index = pair[0].get<uint64_t>(), count = pair[1].get<uint64_t>();
    if (index >= core::histogram::bucket_count || count == 0) continue;
    h.buckets.push_back({uint32_t(index), count});
    h.count += count;
  }
  std::sort(h.buckets.begin(), h.buckets.end(),
            [](const bucket_count& a, const bucket_count& b) { return a.index < b.index; });
  const auto max = histogram.find("max_ns");
  h.max_ns = max != histogram.end() && counting(*max) ? max->get<uint64_t>() : 0;
  // A result written without max_ns still has a bound: its top bucket's.
  if (h.max_ns == 0 && !h.buckets.empty())
    h.max_ns = core::histogram::highest_in(h.buckets.back().index);
  return h;
}

std::optional<uint64_t> value_at_quantile(const sparse_histogram& h, double q) {
  if (h.count == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = uint64_t(std::ceil(q * double(h.count)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (const auto& b : h.buckets) {
    seen += b.count;
    if (seen >= rank) return std::min(core::histogram::highest_in(b.index), h.max_ns);
  }
  return h.max_ns;
}

std::vector<spectrum_point> percentile_spectrum(const sparse_histogram& h) {
  std::vector<spectrum_point> out;
  if (h.count == 0) return out;
  // 1/(1-q) = 10^(k/10): evenly spaced on the chart's log axis. Past
  // 1/(1-q) = count the tail is a single sample.
  for (int k = 0;; ++k) {
    const double inverse_tail = std::pow(10.0, k / 10.0);
    if (k > 0 && inverse_tail > double(h.count)) break;
    const double q = 1.0 - 1.0 / inverse_tail;
    out.push_back({q * 100.0, *value_at_quantile(h, q)});
  }
  out.push_back({100.0, h.max_ns});
  return out;
}

}  // namespace horde::app

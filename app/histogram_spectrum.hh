// A latency histogram read back from the JSON result (sparse [index, count]
// buckets, core/histogram.hh's layout) and its percentile spectrum: what the
// HTML report charts and `horde compare` compares, computed from the buckets
// so any percentile is available, not only the --percentiles the run chose.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace horde::app {

struct bucket_count {
  uint32_t index = 0;
  uint64_t count = 0;
};

// A histogram as the JSON carries it: buckets in index order, its max.
struct sparse_histogram {
  std::vector<bucket_count> buckets;
  uint64_t count = 0;
  uint64_t max_ns = 0;
};

// From a histogram_json object ({"count", "max_ns", "buckets"}); empty when
// the object is missing or malformed.
sparse_histogram sparse_histogram_of(const nlohmann::json& histogram);

// The value at quantile q (0..1) exactly as core::histogram::value_at_quantile
// gives it: the highest value of the bucket holding that rank, capped at the
// max, so the report never claims less than was seen. nullopt when empty.
std::optional<uint64_t> value_at_quantile(const sparse_histogram& h, double q);

struct spectrum_point {
  double percentile = 0;  // 0 .. 100
  uint64_t value_ns = 0;
};

// Ten points per decade of 1/(1-q) (p0, p20.6, ... p90, ... p99, ...), stopping
// where one sample more or less would change the rank (beyond it the
// histogram has nothing to say), then p100 = the max.
std::vector<spectrum_point> percentile_spectrum(const sparse_histogram& h);

}  // namespace horde::app

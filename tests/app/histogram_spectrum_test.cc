#include "app/histogram_spectrum.hh"

#include <gtest/gtest.h>

#include <random>

#include "core/histogram.hh"

namespace horde::app {
namespace {

nlohmann::json json_of(const core::histogram& h) {
  nlohmann::json buckets = nlohmann::json::array();
  h.for_each_bucket([&](uint32_t index, uint64_t count) { buckets.push_back({index, count}); });
  return {{"count", h.count()}, {"max_ns", h.max()}, {"buckets", buckets}};
}

TEST(HistogramSpectrum, BucketIndexMapsToTheValuesItHolds) {
  // Linear below 2048, then 1024 sub-buckets per power of two.
  EXPECT_EQ(core::histogram::highest_in(0), 0u);
  EXPECT_EQ(core::histogram::highest_in(2047), 2047u);
  EXPECT_EQ(core::histogram::lowest_in(2048), 2048u);
  EXPECT_EQ(core::histogram::highest_in(2048), 2049u);  // 2^11: buckets 2 wide
  EXPECT_EQ(core::histogram::lowest_in(3072), 4096u);   // 2^12: buckets 4 wide
  EXPECT_EQ(core::histogram::highest_in(3072), 4099u);
  for (uint64_t v : {0ull, 1ull, 2047ull, 2048ull, 5000ull, 1'000'000ull, 123'456'789ull}) {
    const uint32_t i = core::histogram::index_of(v);
    EXPECT_LE(core::histogram::lowest_in(i), v);
    EXPECT_GE(core::histogram::highest_in(i), v);
  }
}

TEST(HistogramSpectrum, QuantilesFromTheJsonBucketsMatchTheHistogram) {
  core::histogram h;
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(13.0, 1.2);  // about 0.4 ms median
  for (int i = 0; i < 20000; ++i)
    h.record(uint64_t(latency(random)));
  const auto sparse = sparse_histogram_of(json_of(h));
  EXPECT_EQ(sparse.count, h.count());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0})
    EXPECT_EQ(*value_at_quantile(sparse, q), h.value_at_quantile(q)) << q;
}

TEST(HistogramSpectrum, EmptyOrMalformedHasNoValues) {
  EXPECT_FALSE(value_at_quantile(sparse_histogram_of(nlohmann::json()), 0.5));
  EXPECT_FALSE(value_at_quantile(sparse_histogram_of({{"buckets", "no"}}), 0.5));
  const auto odd =
      sparse_histogram_of({{"max_ns", 10}, {"buckets", {{5, 1}, {"x", 2}, {999999999, 3}, {7}}}});
  EXPECT_EQ(odd.count, 1u);
  EXPECT_TRUE(percentile_spectrum(sparse_histogram_of(nlohmann::json())).empty());
}

TEST(HistogramSpectrum, SpectrumRisesToTheMaxAndStopsAtTheHistogramsResolution) {
  core::histogram h;
  for (uint64_t v = 1; v <= 1000; ++v)
    h.record(v * 1000);
  const auto spectrum = percentile_spectrum(sparse_histogram_of(json_of(h)));
  ASSERT_GE(spectrum.size(), 3u);
  EXPECT_EQ(spectrum.front().percentile, 0.0);
  EXPECT_EQ(spectrum.back().percentile, 100.0);
  EXPECT_EQ(spectrum.back().value_ns, h.max());
  // 1,000 samples: nothing finer than p99.9 (1/(1-q) <= 1000), then the max.
  EXPECT_NEAR(spectrum[spectrum.size() - 2].percentile, 99.9, 1e-9);
  for (size_t i = 1; i < spectrum.size(); ++i) {
    EXPECT_GT(spectrum[i].percentile, spectrum[i - 1].percentile);
    EXPECT_GE(spectrum[i].value_ns, spectrum[i - 1].value_ns);
  }
}

}  // namespace
}  // namespace horde::app

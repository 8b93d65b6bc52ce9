// A log-linear latency histogram in the manner of HdrHistogram: values below
// 2,048 are exact, above that each power of two is split into 1,024 equal
// buckets, so every recorded value is kept to within 1/1024 (3 significant
// digits). Range 0 .. 2^38 ns (about 4.6 minutes); larger values land in the
// top bucket and are counted as overflows.
//
// One writer (a shard) updates with relaxed load+store; a reader
// (snapshot_from) copies without stopping it — a snapshot may be a few
// records behind, never torn per bucket. Merging is adding buckets, exact.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace horde::core {

class histogram {
 public:
  static constexpr uint32_t linear_buckets = 2048;
  static constexpr uint32_t sub_buckets = 1024;
  static constexpr uint32_t max_exponent = 38;  // values < 2^38
  static constexpr uint32_t bucket_count = linear_buckets + (max_exponent - 11) * sub_buckets;
  static constexpr uint64_t highest_trackable = (uint64_t(1) << max_exponent) - 1;

  histogram();
  histogram(const histogram& other);
  histogram& operator=(const histogram& other);
  ~histogram() = default;

  void record(uint64_t value) noexcept { record_n(value, 1); }
  void record_n(uint64_t value, uint64_t n) noexcept;

  void add(const histogram& other) noexcept;  // merge
  // Takes away an earlier snapshot of the same histogram, bucket by bucket:
  // what was recorded between the two (an interval histogram, as
  // HdrHistogram's interval recorder gives). A bucket never goes below 0
  // (a live snapshot may be a few records behind); min and max become the
  // bounds of the lowest and highest buckets left, within the later ones.
  void subtract(const histogram& earlier) noexcept;
  void snapshot_from(const histogram& live) noexcept;  // replace with a copy
  void add_bucket(uint32_t index, uint64_t count) noexcept;
  // After add_bucket rebuilt a histogram saved with its buckets (a JSON
  // result), the exact min, max and sum it was saved with: add_bucket alone
  // knows only each bucket's bounds. Ignored when empty.
  void restore(uint64_t min, uint64_t max, uint64_t sum) noexcept;
  void reset() noexcept;

  uint64_t count() const noexcept { return load(_count); }
  uint64_t min() const noexcept { return load(_min); }  // UINT64_MAX when empty
  uint64_t max() const noexcept { return load(_max); }
  double mean() const noexcept;
  uint64_t overflows() const noexcept { return load(_overflows); }

  // The highest value equivalent to the one at quantile q (0..1): the report
  // never claims a latency lower than one that was seen.
  uint64_t value_at_quantile(double q) const noexcept;

  template <class Fn>
  void for_each_bucket(Fn fn) const {
    for (uint32_t i = 0; i < bucket_count; ++i) {
      const uint64_t n = load(_buckets[i]);
      if (n != 0) fn(i, n);
    }
  }

  static uint32_t index_of(uint64_t value) noexcept;
  static uint64_t lowest_in(uint32_t index) noexcept;
  static uint64_t highest_in(uint32_t index) noexcept;

 private:
  static uint64_t load(const std::atomic<uint64_t>& a) noexcept {
    return a.load(std::memory_order_relaxed);
  }
  static void store(std::atomic<uint64_t>& a, uint64_t v) noexcept {
    a.store(v, std::memory_order_relaxed);
  }

  std::unique_ptr<std::atomic<uint64_t>[]> _buckets;
  std::atomic<uint64_t> _count{0};
  std::atomic<uint64_t> _sum{0};  // for the mean; wraps only past 584 years of ns
  std::atomic<uint64_t> _min{UINT64_MAX};
  std::atomic<uint64_t> _max{0};
  std::atomic<uint64_t> _overflows{0};
};

}  // namespace horde::core

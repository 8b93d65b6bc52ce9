#include "core/histogram.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace horde::core {
namespace {

using bucket_list = std::vector<std::pair<uint32_t, uint64_t>>;

bucket_list buckets_of(const histogram& h) {
  bucket_list out;
  h.for_each_bucket([&](uint32_t index, uint64_t n) { out.emplace_back(index, n); });
  return out;
}

// Values that stress the log-linear boundaries: every power of two, one
// either side of it, and a point inside each power's range.
std::vector<uint64_t> boundary_sweep() {
  std::vector<uint64_t> values;
  for (uint32_t e = 11; e <= histogram::max_exponent; ++e) {
    const uint64_t p = uint64_t(1) << e;
    for (uint64_t v : {p - 1, p, p + 1, p + p / 3, p + p / 2 + 7}) {
      if (v >= histogram::linear_buckets && v <= histogram::highest_trackable) values.push_back(v);
    }
  }
  values.push_back(histogram::highest_trackable);
  return values;
}

TEST(histogram, values_below_linear_limit_are_exact) {
  histogram h;
  for (uint64_t v = 0; v < histogram::linear_buckets; ++v) {
    const uint32_t index = histogram::index_of(v);
    ASSERT_EQ(index, v);
    ASSERT_EQ(histogram::lowest_in(index), v);
    ASSERT_EQ(histogram::highest_in(index), v);
    h.record(v);
  }
  const bucket_list buckets = buckets_of(h);
  ASSERT_EQ(buckets.size(), histogram::linear_buckets);
  for (uint32_t i = 0; i < buckets.size(); ++i) {
    EXPECT_EQ(buckets[i], std::make_pair(i, uint64_t(1)));
  }
}

TEST(histogram, large_values_keep_three_significant_digits) {
  for (uint64_t v : boundary_sweep()) {
    const uint32_t index = histogram::index_of(v);
    ASSERT_LT(index, histogram::bucket_count) << v;
    const uint64_t low = histogram::lowest_in(index);
    const uint64_t high = histogram::highest_in(index);
    EXPECT_LE(low, v);
    EXPECT_GE(high, v);
    // Bucket width within 1/1024 of the value is what "3 significant digits" promises.
    EXPECT_LE(high - low + 1, v / 1024) << v;

    // Recording must land the value in exactly that bucket.
    histogram h;
    h.record(v);
    EXPECT_EQ(buckets_of(h), (bucket_list{{index, 1}})) << v;
  }
}

TEST(histogram, buckets_tile_the_range_without_gaps_or_overlaps) {
  // A gap would drop values, an overlap would double-count them in quantiles.
  EXPECT_EQ(histogram::lowest_in(0), 0u);
  for (uint32_t i = 0; i + 1 < histogram::bucket_count; ++i) {
    ASSERT_EQ(histogram::highest_in(i) + 1, histogram::lowest_in(i + 1)) << i;
    ASSERT_EQ(histogram::index_of(histogram::lowest_in(i)), i);
    ASSERT_EQ(histogram::index_of(histogram::highest_in(i)), i);
  }
  EXPECT_EQ(histogram::highest_in(histogram::bucket_count - 1), histogram::highest_trackable);
}

TEST(histogram, quantiles_of_one_to_a_thousand) {
  histogram h;
  for (uint64_t v = 1; v <= 1000; ++v)
    h.record(v);
  EXPECT_EQ(h.value_at_quantile(0.0), 1u);
  EXPECT_EQ(h.value_at_quantile(0.25), 250u);
  EXPECT_EQ(h.value_at_quantile(0.5), 500u);
  EXPECT_EQ(h.value_at_quantile(0.9), 900u);
  EXPECT_EQ(h.value_at_quantile(0.99), 990u);
  EXPECT_EQ(h.value_at_quantile(0.999), 999u);
  EXPECT_EQ(h.value_at_quantile(1.0), 1000u);
  // Out-of-range quantiles clamp rather than read past either end.
  EXPECT_EQ(h.value_at_quantile(-0.5), 1u);
  EXPECT_EQ(h.value_at_quantile(2.0), 1000u);
}

TEST(histogram, quantiles_never_report_below_the_true_value) {
  histogram h;
  std::vector<uint64_t> values;
  // Log-spaced so most values sit in wide buckets, where rounding down would show.
  for (double v = 1; v < double(histogram::highest_trackable); v *= 1.37) {
    values.push_back(uint64_t(v));
    h.record(uint64_t(v));
  }
  std::sort(values.begin(), values.end());
  const uint64_t n = values.size();
  for (double q = 0; q <= 1.0; q += 0.005) {
    uint64_t rank = uint64_t(std::ceil(q * double(n)));
    if (rank == 0) rank = 1;
    const uint64_t truth = values[rank - 1];
    const uint64_t reported = h.value_at_quantile(q);
    EXPECT_GE(reported, truth) << q;
    EXPECT_LE(reported, histogram::highest_in(histogram::index_of(truth))) << q;
  }
  EXPECT_EQ(h.value_at_quantile(1.0), values.back());
}

TEST(histogram, count_min_max_mean) {
  histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), UINT64_MAX);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.value_at_quantile(0.5), 0u);

  h.record(10);
  h.record(20);
  h.record_n(3000, 2);
  h.record_n(5, 0);  // n == 0 must not move min
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.min(), 10u);
  EXPECT_EQ(h.max(), 3000u);
  EXPECT_DOUBLE_EQ(h.mean(), (10.0 + 20.0 + 3000.0 * 2) / 4);
  EXPECT_EQ(h.overflows(), 0u);
}

TEST(histogram, values_above_highest_trackable_are_counted_as_overflows) {
  histogram h;
  h.record(histogram::highest_trackable);
  EXPECT_EQ(h.overflows(), 0u);
  h.record(histogram::highest_trackable + 1);
  h.record_n(uint64_t(1) << 50, 3);
  EXPECT_EQ(h.overflows(), 4u);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.max(), uint64_t(1) << 50);
  // All land in the top bucket; the quantile reports the bucket's ceiling.
  EXPECT_EQ(buckets_of(h), (bucket_list{{histogram::bucket_count - 1, 5}}));
  EXPECT_EQ(h.value_at_quantile(1.0), histogram::highest_trackable);
}

TEST(histogram, add_equals_recording_everything_into_one) {
  histogram a, b, all;
  for (uint64_t v : boundary_sweep()) {
    a.record(v);
    all.record(v);
  }
  for (uint64_t v = 0; v < 5000; v += 7) {
    b.record_n(v, 2);
    all.record_n(v, 2);
  }
  b.record(histogram::highest_trackable + 99);
  all.record(histogram::highest_trackable + 99);

  a.add(b);
  EXPECT_EQ(buckets_of(a), buckets_of(all));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  EXPECT_EQ(a.overflows(), all.overflows());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 1.0}) {
    EXPECT_EQ(a.value_at_quantile(q), all.value_at_quantile(q)) << q;
  }

  // Merging an empty histogram must not disturb min (empty min is UINT64_MAX).
  histogram empty;
  a.add(empty);
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.count(), all.count());
}

TEST(histogram, snapshot_and_copy_are_identical) {
  histogram live;
  for (uint64_t v : boundary_sweep())
    live.record(v);
  live.record(3);
  live.record(histogram::highest_trackable + 1);

  histogram snap;
  snap.record(12345);  // stale content must be replaced, not merged
  snap.snapshot_from(live);
  const histogram copied(live);
  histogram assigned;
  assigned = live;

  for (const histogram* h : std::vector<const histogram*>{&snap, &copied, &assigned}) {
    EXPECT_EQ(buckets_of(*h), buckets_of(live));
    EXPECT_EQ(h->count(), live.count());
    EXPECT_EQ(h->min(), live.min());
    EXPECT_EQ(h->max(), live.max());
    EXPECT_DOUBLE_EQ(h->mean(), live.mean());
    EXPECT_EQ(h->overflows(), live.overflows());
  }

  // The copy owns its buckets: recording into the source leaves it alone.
  const bucket_list before = buckets_of(copied);
  live.record(7);
  EXPECT_EQ(buckets_of(copied), before);
}

TEST(histogram, add_bucket_round_trips_for_each_bucket) {
  histogram source;
  for (uint64_t v : boundary_sweep())
    source.record(v);
  for (uint64_t v = 0; v < 3000; v += 11)
    source.record_n(v, v % 5 + 1);

  histogram rebuilt;
  source.for_each_bucket([&](uint32_t index, uint64_t n) { rebuilt.add_bucket(index, n); });
  EXPECT_EQ(buckets_of(rebuilt), buckets_of(source));
  EXPECT_EQ(rebuilt.count(), source.count());
  // Only bucket bounds survive the trip, so min and max widen to them.
  EXPECT_EQ(rebuilt.min(), histogram::lowest_in(histogram::index_of(source.min())));
  EXPECT_EQ(rebuilt.max(), histogram::highest_in(histogram::index_of(source.max())));
  for (double q : {0.0, 0.5, 0.9, 0.99, 0.999}) {
    EXPECT_EQ(rebuilt.value_at_quantile(q), source.value_at_quantile(q)) << q;
  }

  // Out-of-range indices and zero counts (e.g. from a corrupt file) are ignored.
  const uint64_t count = rebuilt.count();
  rebuilt.add_bucket(histogram::bucket_count, 5);
  rebuilt.add_bucket(10, 0);
  EXPECT_EQ(rebuilt.count(), count);
  EXPECT_EQ(buckets_of(rebuilt), buckets_of(source));
}

TEST(histogram, reset_empties) {
  histogram h;
  for (uint64_t v : boundary_sweep())
    h.record(v);
  h.record(histogram::highest_trackable + 1);
  h.reset();
  EXPECT_TRUE(buckets_of(h).empty());
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), UINT64_MAX);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.overflows(), 0u);
  EXPECT_EQ(h.value_at_quantile(0.99), 0u);

  // Usable again afterwards, with no residue from before.
  h.record(42);
  EXPECT_EQ(buckets_of(h), (bucket_list{{42, 1}}));
  EXPECT_EQ(h.min(), 42u);
  EXPECT_EQ(h.max(), 42u);
}

// An interval histogram: a later snapshot minus an earlier one holds
// exactly what was recorded in between, so a late spike shows in its
// interval however long the run before it.
TEST(histogram, subtract_leaves_what_was_recorded_between_two_snapshots) {
  histogram live;
  for (uint64_t v = 1; v <= 1000; ++v)
    live.record(v * 1000);  // 1 us .. 1 ms
  const histogram earlier = live;
  histogram between;
  for (uint64_t v : {5'000'000ull, 7'000'000ull, 9'000'000ull, 3000ull})
    between.record(v);
  live.add(between);

  histogram interval = live;
  interval.subtract(earlier);
  EXPECT_EQ(buckets_of(interval), buckets_of(between));
  EXPECT_EQ(interval.count(), 4u);
  EXPECT_EQ(interval.value_at_quantile(0.5), between.value_at_quantile(0.5));
  EXPECT_EQ(interval.value_at_quantile(0.99), between.value_at_quantile(0.99));
  EXPECT_EQ(interval.max(), 9'000'000ull);  // the live max, inside the top bucket left
  EXPECT_LE(interval.min(), 3000u);
  EXPECT_GE(histogram::index_of(interval.min()), histogram::index_of(3000));
  EXPECT_DOUBLE_EQ(interval.mean(), between.mean());
}

TEST(histogram, subtract_of_itself_is_empty_and_never_goes_below_zero) {
  histogram h;
  for (uint64_t v : boundary_sweep())
    h.record(v);
  histogram same = h;
  same.subtract(h);
  EXPECT_TRUE(buckets_of(same).empty());
  EXPECT_EQ(same.count(), 0u);
  EXPECT_EQ(same.max(), 0u);
  EXPECT_EQ(same.min(), UINT64_MAX);
  EXPECT_EQ(same.value_at_quantile(0.99), 0u);

  // A snapshot a few records behind the "earlier" one (a torn read) leaves
  // no negative bucket.
  histogram behind;
  behind.record(10);
  histogram ahead;
  ahead.record(10);
  ahead.record(10);
  behind.subtract(ahead);
  EXPECT_EQ(behind.count(), 0u);
  EXPECT_TRUE(buckets_of(behind).empty());
}

}  // namespace
}  // namespace horde::core

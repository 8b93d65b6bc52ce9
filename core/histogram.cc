#include "core/histogram.hh"

#include <algorithm>
#include <bit>
#include <cmath>

namespace horde::core {

histogram::histogram() : _buckets(new std::atomic<uint64_t>[bucket_count]) {
  reset();
}

histogram::histogram(const histogram& other) : histogram() {
  snapshot_from(other);
}

histogram& histogram::operator=(const histogram& other) {
  if (this != &other) snapshot_from(other);
  return *this;
}

uint32_t histogram::index_of(uint64_t value) noexcept {
  if (value < linear_buckets) return uint32_t(value);
  if (value > highest_trackable) value = highest_trackable;
  const uint32_t exponent = 63 - uint32_t(std::countl_zero(value));  // 11 .. 37
  const uint32_t shift = exponent - 10;
  return linear_buckets + (exponent - 11) * sub_buckets + uint32_t((value >> shift) - sub_buckets);
}

uint64_t histogram::lowest_in(uint32_t index) noexcept {
  if (index < linear_buckets) return index;
  const uint32_t exponent = 11 + (index - linear_buckets) / sub_buckets;
  const uint64_t sub = (index - linear_buckets) % sub_buckets;
  return (sub_buckets + sub) << (exponent - 10);
}

uint64_t histogram::highest_in(uint32_t index) noexcept {
  if (index < linear_buckets) return index;
  const uint32_t exponent = 11 + (index - linear_buckets) / sub_buckets;
  return lowest_in(index) + (uint64_t(1) << (exponent - 10)) - 1;
}

void histogram::record_n(uint64_t value, uint64_t n) noexcept {
  if (n == 0) return;
  if (value > highest_trackable) store(_overflows, load(_overflows) + n);
  auto& bucket = _buckets[index_of(value)];
  store(bucket, load(bucket) + n);
  store(_count, load(_count) + n);
  store(_sum, load(_sum) + value * n);
  if (value < load(_min)) store(_min, value);
  if (value > load(_max)) store(_max, value);
}

void histogram::add(const histogram& other) noexcept {
  for (uint32_t i = 0; i < bucket_count; ++i) {
    const uint64_t n = load(other._buckets[i]);
    if (n != 0) store(_buckets[i], load(_buckets[i]) + n);
  }
  store(_count, load(_count) + other.count());
  store(_sum, load(_sum) + load(other._sum));
  store(_overflows, load(_overflows) + other.overflows());
  if (other.min() < min()) store(_min, other.min());
  if (other.max() > max()) store(_max, other.max());
}

void histogram::subtract(const histogram& earlier) noexcept {
  uint64_t left = 0, lowest = UINT64_MAX, highest = 0;
  for (uint32_t i = 0; i < bucket_count; ++i) {
    const uint64_t now = load(_buckets[i]), before = load(earlier._buckets[i]);
    const uint64_t n = now > before ? now - before : 0;
    store(_buckets[i], n);
    if (n == 0) continue;
    left += n;
    if (lowest == UINT64_MAX) lowest = lowest_in(i);
    highest = highest_in(i);
  }
  const uint64_t sum = load(_sum), earlier_sum = load(earlier._sum);
  store(_sum, left == 0 || sum < earlier_sum ? 0 : sum - earlier_sum);
  const uint64_t over = overflows(), earlier_over = earlier.overflows();
  store(_overflows, over > earlier_over ? over - earlier_over : 0);
  store(_count, left);
  store(_min, left == 0 ? UINT64_MAX : std::max(lowest, min()));
  store(_max, left == 0 ? 0 : std::min(highest, max()));
}

void histogram::snapshot_from(const histogram& live) noexcept {
  reset();
  add(live);
}

void histogram::add_bucket(uint32_t index, uint64_t count) noexcept {
  if (index >= bucket_count || count == 0) return;
  store(_buckets[index], load(_buckets[index]) + count);
  store(_count, load(_count) + count);
  const uint64_t low = lowest_in(index), high = highest_in(index);
  store(_sum, load(_sum) + (low + (high - low) / 2) * count);
  if (low < min()) store(_min, low);
  if (high > max()) store(_max, high);
}

void histogram::restore(uint64_t min, uint64_t max, uint64_t sum) noexcept {
  if (count() == 0 || min > max) return;
  store(_min, min);
  store(_max, max);
  store(_sum, sum);
}

void histogram::reset() noexcept {
  for (uint32_t i = 0; i < bucket_count; ++i)
    store(_buckets[i], 0);
  store(_count, 0);
  store(_sum, 0);
  store(_min, UINT64_MAX);
  store(_max, 0);
  store(_overflows, 0);
}

double histogram::mean() const noexcept {
  const uint64_t n = count();
  return n == 0 ? 0.0 : double(load(_sum)) / double(n);
}

uint64_t histogram::value_at_quantile(double q) const noexcept {
  const uint64_t n = count();
  if (n == 0) return 0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  // The rank of the value at q, 1-based: at least one value is always counted.
  uint64_t rank = uint64_t(std::ceil(q * double(n)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (uint32_t i = 0; i < bucket_count; ++i) {
    seen += load(_buckets[i]);
    if (seen >= rank) {
      const uint64_t high = highest_in(i);
      return high < max() ? high : max();
    }
  }
  return max();
}

}  // namespace horde::core

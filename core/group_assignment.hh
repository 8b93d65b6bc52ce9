// Which groups a connection subscribes to, and which connection publishes to
// a group: pure functions of the plan, so every shard (and a test) computes
// the same answer without sharing anything.
//
// Uniform: connection c takes groups (c*k + j) mod G for j < k, so every
// group gets floor(C*k/G) or one more subscribers. Zipf(s): k distinct
// groups drawn by rank (rank 1 = group 0, the most popular), so a few groups
// are huge and most are small, as in real chat systems.
#pragma once

#include <cstdint>
#include <span>

namespace horde::core {

enum class popularity : uint8_t { uniform, zipf };

struct group_layout {
  uint64_t groups = 0;          // G
  uint32_t per_connection = 1;  // k
  popularity spread = popularity::uniform;
  double zipf_exponent = 1.0;  // s, for popularity::zipf
  uint64_t seed = 1;
  uint64_t publishers = 1;  // P: connections 0..P-1 publish
};

// Draws ranks 1..n with P(r) proportional to r^-s, in O(1) expected time and
// no table (rejection-inversion, Hörmann and Derflinger 1996), so 10M groups
// cost nothing to set up.
class zipf_sampler {
 public:
  zipf_sampler(uint64_t n, double exponent) noexcept;
  // u01: a uniform draw in [0, 1) for each attempt; returns a rank in [1, n].
  template <typename UniformSource>
  uint64_t sample(UniformSource&& u01) const noexcept {
    for (;;) {
      const double u = _h_integral_n + u01() * (_h_integral_x1 - _h_integral_n);
      const double x = h_integral_inverse(u);
      uint64_t k = uint64_t(x + 0.5);
      if (k < 1) k = 1;
      if (k > _n) k = _n;
      if (double(k) - x <= _squeeze || u >= h_integral(double(k) + 0.5) - h(double(k))) return k;
    }
  }

 private:
  double h(double x) const noexcept;
  double h_integral(double x) const noexcept;
  double h_integral_inverse(double x) const noexcept;

  uint64_t _n;
  double _exponent;
  double _h_integral_x1;
  double _h_integral_n;
  double _squeeze;
};

// Fills out (size = layout.per_connection, at most layout.groups) with the
// distinct groups connection `conn` subscribes to.
void groups_of_connection(uint64_t conn, const group_layout& layout,
                          std::span<uint32_t> out) noexcept;

// The connection that publishes to `group` (its owner), and whether `conn`
// is a publisher at all.
inline uint64_t owner_of_group(uint64_t group, const group_layout& layout) noexcept {
  return group % layout.publishers;
}
// How many groups publisher p owns: those g < G with g mod P == p.
inline uint64_t groups_owned(uint64_t publisher, const group_layout& layout) noexcept {
  if (publisher >= layout.groups) return 0;
  return (layout.groups - publisher + layout.publishers - 1) / layout.publishers;
}
// The m-th group publisher p owns.
inline uint64_t owned_group(uint64_t publisher, uint64_t m, const group_layout& layout) noexcept {
  return publisher + m * layout.publishers;
}

}  // namespace horde::core

#include "core/group_assignment.hh"

#include <algorithm>
#include <cmath>

namespace horde::core {
namespace {

// log1p(x)/x and expm1(x)/x, exact near 0 where the plain formulas lose digits.
double log1p_over_x(double x) noexcept {
  return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x / 2.0 + x * x / 3.0;
}
double expm1_over_x(double x) noexcept {
  return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1.0 + x / 2.0 + x * x / 6.0;
}

uint64_t splitmix64(uint64_t& state) noexcept {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

zipf_sampler::zipf_sampler(uint64_t n, double exponent) noexcept
    : _n(std::max<uint64_t>(n, 1)), _exponent(exponent) {
  _h_integral_x1 = h_integral(1.5) - 1.0;
  _h_integral_n = h_integral(double(_n) + 0.5);
  _squeeze = 2.0 - h_integral_inverse(h_integral(2.5) - h(2.0));
}

double zipf_sampler::h(double x) const noexcept {
  return std::exp(-_exponent * std::log(x));
}

// The integral of h from 1 to x, shifted so it is continuous in the exponent.
double zipf_sampler::h_integral(double x) const noexcept {
  const double log_x = std::log(x);
  return expm1_over_x((1.0 - _exponent) * log_x) * log_x;
}

double zipf_sampler::h_integral_inverse(double x) const noexcept {
  double t = x * (1.0 - _exponent);
  if (t < -1.0) t = -1.0;  // rounding at the far end of the range
  return std::exp(log1p_over_x(t) * x);
}

void groups_of_connection(uint64_t conn, const group_layout& layout,
                          std::span<uint32_t> out) noexcept {
  const uint64_t k = std::min<uint64_t>(out.size(), layout.groups);
  if (layout.spread == popularity::uniform || k == layout.groups) {
    for (uint64_t j = 0; j < k; ++j)
      out[j] = uint32_t((conn * layout.per_connection + j) % layout.groups);
    return;
  }
  zipf_sampler zipf(layout.groups, layout.zipf_exponent);
  uint64_t state = layout.seed * 0x2545f4914f6cdd1dull + conn;
  auto u01 = [&] { return double(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0); };
  uint64_t filled = 0;
  // Distinct draws: a repeat is drawn again. With k near G the popular ranks
  // repeat often, so after a bounded number of tries the rest are filled with
  // the least popular groups not yet taken (walking down from the last).
  for (uint64_t tries = 0; filled < k && tries < 64 * k; ++tries) {
    const uint32_t g = uint32_t(zipf.sample(u01) - 1);
    if (std::find(out.begin(), out.begin() + long(filled), g) == out.begin() + long(filled))
      out[filled++] = g;
  }
  for (uint64_t g = layout.groups; filled < k && g-- > 0;) {
    if (std::find(out.begin(), out.begin() + long(filled), uint32_t(g)) ==
        out.begin() + long(filled))
      out[filled++] = uint32_t(g);
  }
}

}  // namespace horde::core

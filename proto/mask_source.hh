// A fast per-shard source of random 64-bit words for masking keys, handshake
// keys and send schedules (xoshiro256** — small state, no lock, unlike
// rand()). Seeded from getrandom(2) so two runs, or two shards, never mask
// alike. Not for secrets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace horde::proto {

class mask_source {
 public:
  mask_source() noexcept;                        // seeded from getrandom
  explicit mask_source(uint64_t seed) noexcept;  // repeatable, for tests

  uint64_t next() noexcept {
    const uint64_t result = rotl(_s[1] * 5, 7) * 9;
    const uint64_t t = _s[1] << 17;
    _s[2] ^= _s[0];
    _s[3] ^= _s[1];
    _s[1] ^= _s[2];
    _s[0] ^= _s[3];
    _s[2] ^= t;
    _s[3] = rotl(_s[3], 45);
    return result;
  }

  void fill(void* out, size_t n) noexcept;

 private:
  static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  void seed_from(uint64_t seed) noexcept;

  uint64_t _s[4];
};

}  // namespace horde::proto

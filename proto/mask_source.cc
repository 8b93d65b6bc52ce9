#include "proto/mask_source.hh"

#include <sys/random.h>

#include <chrono>
#include <cstring>

namespace horde::proto {

mask_source::mask_source() noexcept {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != ssize_t(sizeof seed)) {
    // getrandom only fails before the pool is ready at boot; the clock still
    // keeps two shards apart.
    seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           uint64_t(reinterpret_cast<uintptr_t>(this));
  }
  seed_from(seed);
}

mask_source::mask_source(uint64_t seed) noexcept {
  seed_from(seed);
}

void mask_source::seed_from(uint64_t seed) noexcept {
  // splitmix64 spreads one word over the four of state (never all zero).
  for (auto& word : _s) {
    seed += 0x9e3779b97f4a7c15ull;
    uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    word = z ^ (z >> 31);
  }
}

void mask_source::fill(void* out, size_t n) noexcept {
  auto* bytes = static_cast<uint8_t*>(out);
  while (n >= 8) {
    const uint64_t word = next();
    std::memcpy(bytes, &word, 8);
    bytes += 8;
    n -= 8;
  }
  if (n > 0) {
    const uint64_t word = next();
    std::memcpy(bytes, &word, n);
  }
}

}  // namespace horde::proto

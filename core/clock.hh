// The one clock horde measures with: CLOCK_MONOTONIC in nanoseconds, the same
// in every thread, so a stamp written by one shard is read by another.
#pragma once

#include <time.h>

#include <cstdint>

namespace horde::core {

inline uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

// Wall-clock time, for what the server reads as a date ({now} in templates,
// a JWT's exp): never for measuring.
inline uint64_t realtime_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

}  // namespace horde::core

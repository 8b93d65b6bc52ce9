// Helpers shared by the fuzz targets in this folder (header only: CMake
// builds one executable per *_fuzz.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

// A broken invariant: name it on stderr, then trap, so libFuzzer (or the
// replay driver under g++) stops on the input that broke it.
#define HORDE_FUZZ_CHECK(condition)                                                            \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      __builtin_trap();                                                                        \
    }                                                                                          \
  } while (0)

namespace horde::fuzz {

// Splits an input into the pieces a parser is fed, the way uWebSockets'
// fuzzers do, so the fuzzer picks every boundary: each piece is a length byte
// and then that many bytes (fewer at the end of the input); a length byte of
// 0 means "all that is left". A seed of 0x00 and then a message feeds the
// message whole; a length byte at the very end is an empty feed.
class chunks {
 public:
  chunks(const uint8_t* data, size_t size) noexcept
      : _rest(reinterpret_cast<const char*>(data), size) {}

  // False when the input is spent.
  bool next(std::string_view& chunk) noexcept {
    if (_rest.empty()) return false;
    const size_t length = uint8_t(_rest.front());
    _rest.remove_prefix(1);
    const size_t n = length == 0 || length > _rest.size() ? _rest.size() : length;
    chunk = _rest.substr(0, n);
    _rest.remove_prefix(n);
    return true;
  }

 private:
  std::string_view _rest;
};

// splitmix64: spreads a few input bits into a schedule of choices.
inline uint64_t mix(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace horde::fuzz

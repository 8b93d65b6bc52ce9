// Helpers shared by the fuzz targets in this folder (header only: CMake
// builds one executable per *_fuzz.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "proto/parse_status.hh"

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

// What every incremental header parser owes, whatever the split: it is fed
// the input's pieces one by one, then the same bytes whole, and
//  - a feed never claims more than it was given, and need_more takes it all;
//  - check(parser, status) holds after every feed;
//  - the whole feed gives read(parser, status) equal to the split one and
//    consumes the same bytes;
//  - once done or invalid, further feeds (the leftovers, then an empty one)
//    return the same status, consume nothing and change nothing.
// reset(parser) readies a parser for a new input.
template <class Parser, class Reset, class Read, class Check>
void check_incremental_parser(const uint8_t* data, size_t size, Parser& chunked, Parser& whole,
                              Reset reset, Read read, Check check) {
  using proto::parse_status;
  reset(chunked);
  std::string all;                          // every piece's bytes, in order
  std::vector<std::string_view> leftovers;  // bytes after the end, not consumed
  size_t taken = 0;
  parse_status status = parse_status::need_more;
  chunks pieces(data, size);
  std::string_view piece;
  while (pieces.next(piece)) {
    all.append(piece);
    if (status != parse_status::need_more) {
      leftovers.push_back(piece);
      continue;
    }
    size_t consumed = size_t(-1);
    status = chunked.feed(piece, consumed);
    HORDE_FUZZ_CHECK(consumed <= piece.size());
    if (status == parse_status::need_more) HORDE_FUZZ_CHECK(consumed == piece.size());
    taken += consumed;
    check(chunked, status);
    if (consumed < piece.size()) leftovers.push_back(piece.substr(consumed));
  }
  const auto split_result = read(chunked, status);

  reset(whole);
  size_t whole_consumed = size_t(-1);
  const parse_status whole_status = whole.feed(all, whole_consumed);
  HORDE_FUZZ_CHECK(whole_consumed <= all.size());
  HORDE_FUZZ_CHECK(whole_consumed == taken);
  HORDE_FUZZ_CHECK(read(whole, whole_status) == split_result);

  // What follows a finished header is the first WebSocket frames, never the
  // parser's.
  if (status == parse_status::need_more) return;
  leftovers.push_back({});
  for (std::string_view rest : leftovers) {
    size_t consumed = size_t(-1);
    HORDE_FUZZ_CHECK(chunked.feed(rest, consumed) == status);
    HORDE_FUZZ_CHECK(consumed == 0);
    HORDE_FUZZ_CHECK(read(chunked, status) == split_result);
  }
}

}  // namespace horde::fuzz

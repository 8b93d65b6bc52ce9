// Fuzzes the client's handshake-answer parser (proto/upgrade_response.hh).
//
// Input: pieces as fuzz::chunks describes (a length byte, then the bytes),
// fed one by one to a parser that expects the accept value of RFC 6455's
// sample key and offered the subprotocols {"chat", "v2"}. Checked:
//  - a feed never claims more than it was given, and need_more takes it all;
//  - the result is consistent: accepted() means failure() none and status
//    101, done means accepted or not_101, a subprotocol is one we offered;
//  - feeding the same bytes in one piece gives the same result and consumes
//    the same bytes (the split never matters);
//  - once done or invalid, further feeds (the rest of the input, then an
//    empty one) return the same status, consume nothing, change nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/accept_key.hh"
#include "proto/upgrade_response.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

constexpr std::string_view sample_key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 1.3

const std::vector<std::string>& offered() {
  static const std::vector<std::string> protocols = {"chat", "v2"};
  return protocols;
}

const std::string& expected_accept() {
  static const std::string accept = accept_key_for(sample_key);
  return accept;
}

struct result {
  parse_status status;
  bool accepted;
  upgrade_failure failure;
  int status_code;
  std::string subprotocol;
  uint32_t retry_after;

  friend bool operator==(const result&, const result&) = default;
};

result read_result(const upgrade_response_parser& parser, parse_status status) {
  return {status,
          parser.accepted(),
          parser.failure(),
          parser.status_code(),
          std::string(parser.subprotocol()),
          parser.retry_after_seconds()};
}

// What holds after any feed.
void check_consistent(const result& r) {
  if (r.accepted) {
    HORDE_FUZZ_CHECK(r.status == parse_status::done);
    HORDE_FUZZ_CHECK(r.failure == upgrade_failure::none);
    HORDE_FUZZ_CHECK(r.status_code == 101);
  }
  if (!r.subprotocol.empty()) {
    HORDE_FUZZ_CHECK(r.accepted);
    const auto& ours = offered();
    HORDE_FUZZ_CHECK(std::find(ours.begin(), ours.end(), r.subprotocol) != ours.end());
  }
  switch (r.status) {
    case parse_status::need_more:
      HORDE_FUZZ_CHECK(!r.accepted && r.failure == upgrade_failure::none);
      break;
    case parse_status::done:
      HORDE_FUZZ_CHECK(r.accepted || r.failure == upgrade_failure::not_101);
      break;
    case parse_status::invalid:
      HORDE_FUZZ_CHECK(!r.accepted);
      HORDE_FUZZ_CHECK(r.failure != upgrade_failure::none && r.failure != upgrade_failure::not_101);
      break;
  }
  if (r.failure == upgrade_failure::not_101) {
    HORDE_FUZZ_CHECK(r.status_code >= 100 && r.status_code <= 999 && r.status_code != 101);
  }
  HORDE_FUZZ_CHECK(r.retry_after <= 86400u * 365);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A parser holds an 8 KB block: keep the two off the stack.
  static upgrade_response_parser chunked, whole;
  chunked.reset(expected_accept(), &offered());

  std::string all;                          // every piece's bytes, in order
  std::vector<std::string_view> leftovers;  // bytes after the end, not consumed
  size_t taken = 0;
  parse_status status = parse_status::need_more;
  horde::fuzz::chunks pieces(data, size);
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
    check_consistent(read_result(chunked, status));
    if (consumed < piece.size()) leftovers.push_back(piece.substr(consumed));
  }
  const result split_result = read_result(chunked, status);

  // The split must not matter.
  whole.reset(expected_accept(), &offered());
  size_t whole_consumed = size_t(-1);
  const parse_status whole_status = whole.feed(all, whole_consumed);
  HORDE_FUZZ_CHECK(whole_consumed <= all.size());
  HORDE_FUZZ_CHECK(whole_consumed == taken);
  HORDE_FUZZ_CHECK(read_result(whole, whole_status) == split_result);

  // A finished parser stays finished: what follows the header is the first
  // WebSocket frames, never the parser's.
  if (status != parse_status::need_more) {
    leftovers.push_back({});
    for (std::string_view rest : leftovers) {
      size_t consumed = size_t(-1);
      HORDE_FUZZ_CHECK(chunked.feed(rest, consumed) == status);
      HORDE_FUZZ_CHECK(consumed == 0);
      HORDE_FUZZ_CHECK(read_result(chunked, status) == split_result);
    }
  }
  return 0;
}

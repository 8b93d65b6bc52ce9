// Fuzzes the reference server's handshake-request parser
// (proto/upgrade_server.hh).
//
// Input: pieces as fuzz::chunks describes (a length byte, then the bytes),
// fed one by one. Checked:
//  - a feed never claims more than it was given, and need_more takes it all;
//  - done carries no failure or a semantic one (the request was complete),
//    invalid carries malformed or too_large;
//  - a request accepted (done, failure none) has a 24-character key and a
//    path, and the 101 answer built for it starts "HTTP/1.1 101" and is
//    accepted by our own client's parser (with and without a subprotocol);
//  - feeding the same bytes in one piece gives the same result and consumes
//    the same bytes;
//  - once done or invalid, further feeds (the rest of the input, then an
//    empty one) return the same status, consume nothing, change nothing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/accept_key.hh"
#include "proto/upgrade_response.hh"
#include "proto/upgrade_server.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

struct result {
  parse_status status;
  upgrade_request_failure failure;
  std::string key, path, subprotocols;

  friend bool operator==(const result&, const result&) = default;
};

result read_result(const upgrade_request_parser& parser, parse_status status) {
  return {status, parser.failure(), std::string(parser.key()), std::string(parser.path()),
          std::string(parser.subprotocols())};
}

// Our client must take the server's answer to `key` in one feed.
void check_answer_accepted(std::string_view key, std::string_view subprotocol) {
  static upgrade_response_parser client;
  static const std::vector<std::string> offered = {"chat"};
  const std::string answer = build_upgrade_response(key, subprotocol);
  HORDE_FUZZ_CHECK(answer.starts_with("HTTP/1.1 101"));
  client.reset(accept_key_for(key), &offered);
  size_t consumed = size_t(-1);
  HORDE_FUZZ_CHECK(client.feed(answer, consumed) == parse_status::done);
  HORDE_FUZZ_CHECK(consumed == answer.size());
  HORDE_FUZZ_CHECK(client.accepted());
  HORDE_FUZZ_CHECK(client.subprotocol() == subprotocol);
}

// What holds after any feed.
void check_consistent(const upgrade_request_parser& parser, parse_status status) {
  const upgrade_request_failure failure = parser.failure();
  const bool unreadable = failure == upgrade_request_failure::malformed ||
                          failure == upgrade_request_failure::too_large;
  switch (status) {
    case parse_status::need_more:
      HORDE_FUZZ_CHECK(failure == upgrade_request_failure::none);
      break;
    case parse_status::done:
      HORDE_FUZZ_CHECK(!unreadable);
      break;
    case parse_status::invalid:
      HORDE_FUZZ_CHECK(unreadable);
      break;
  }
  if (status == parse_status::done && failure == upgrade_request_failure::none) {
    HORDE_FUZZ_CHECK(parser.key().size() == 24);
    HORDE_FUZZ_CHECK(!parser.path().empty());
    check_answer_accepted(parser.key(), {});
    check_answer_accepted(parser.key(), "chat");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A parser holds an 8 KB block: keep the two off the stack.
  static upgrade_request_parser chunked, whole;
  chunked.reset();

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
    check_consistent(chunked, status);
    if (consumed < piece.size()) leftovers.push_back(piece.substr(consumed));
  }
  const result split_result = read_result(chunked, status);

  // The split must not matter.
  whole.reset();
  size_t whole_consumed = size_t(-1);
  const parse_status whole_status = whole.feed(all, whole_consumed);
  HORDE_FUZZ_CHECK(whole_consumed <= all.size());
  HORDE_FUZZ_CHECK(whole_consumed == taken);
  HORDE_FUZZ_CHECK(read_result(whole, whole_status) == split_result);

  // A finished parser stays finished: what follows the request is the
  // client's first WebSocket frames, never the parser's.
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

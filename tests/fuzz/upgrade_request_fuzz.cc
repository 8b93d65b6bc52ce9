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
//    empty one) return the same status, consume nothing, change nothing;
//  - the same, reading bodies (as `horde serve` does for POST /sessions
//    and POST /publish/G) under a small limit: a done request's body is
//    its whole Content-Length, never over the limit, whatever the split.
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

constexpr size_t body_limit = 64;  // the bodies read: small, so the limit is met

struct result {
  parse_status status;
  upgrade_request_failure failure;
  std::string key, path, subprotocols, body;

  friend bool operator==(const result&, const result&) = default;
};

result read_result(const upgrade_request_parser& parser, parse_status status) {
  return {status,
          parser.failure(),
          std::string(parser.key()),
          std::string(parser.path()),
          std::string(parser.subprotocols()),
          std::string(parser.body())};
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
  HORDE_FUZZ_CHECK(parser.body().size() <= body_limit);
  if (status == parse_status::done)
    HORDE_FUZZ_CHECK(parser.body().size() == parser.content_length() || parser.body().empty());
  if (status == parse_status::done && failure == upgrade_request_failure::none) {
    HORDE_FUZZ_CHECK(parser.key().size() == 24);
    HORDE_FUZZ_CHECK(!parser.path().empty());
    check_answer_accepted(parser.key(), {});
    check_answer_accepted(parser.key(), "chat");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static upgrade_request_parser chunked, whole;  // reused across inputs, as the engine pools them
  horde::fuzz::check_incremental_parser(
      data, size, chunked, whole, [](upgrade_request_parser& p) { p.reset(); },
      [](const upgrade_request_parser& parser, parse_status status) {
        return read_result(parser, status);
      },
      [](const upgrade_request_parser& parser, parse_status status) {
        check_consistent(parser, status);
      });
  static upgrade_request_parser chunked_body, whole_body;
  horde::fuzz::check_incremental_parser(
      data, size, chunked_body, whole_body,
      [](upgrade_request_parser& p) { p.reset(8192, 64, body_limit); },
      [](const upgrade_request_parser& parser, parse_status status) {
        return read_result(parser, status);
      },
      [](const upgrade_request_parser& parser, parse_status status) {
        check_consistent(parser, status);
      });
  return 0;
}

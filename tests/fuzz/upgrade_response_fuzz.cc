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
  static upgrade_response_parser chunked, whole;  // reused across inputs, as the engine pools them
  horde::fuzz::check_incremental_parser(
      data, size, chunked, whole,
      [](upgrade_response_parser& p) { p.reset(expected_accept(), &offered()); },
      [](const upgrade_response_parser& parser, parse_status status) {
        return read_result(parser, status);
      },
      [](const upgrade_response_parser& parser, parse_status status) {
        check_consistent(read_result(parser, status));
      });
  return 0;
}

// Fuzzes what `horde serve --sessions` reads from a peer: the request parser
// with bodies on (proto/upgrade_server.hh, Content-Length framed, 64 KiB at
// most) and the Bearer check of proto/session_issuer.hh.
//
// Input: pieces as fuzz::chunks describes (a length byte, then the bytes),
// fed one by one. Checked:
//  - the incremental-parser contract of fuzz::check_incremental_parser (a
//    feed takes no more than it was given, need_more takes all, one piece or
//    many give the same request and consume the same bytes, a decided
//    request stays decided);
//  - a complete request read a body no longer than the limit, and its
//    views (method, path, authorization) stay readable after the pieces that
//    held them;
//  - the request's Authorization and path, and the raw input as a token,
//    never make authorize() accept: only this secret's tokens pass, and the
//    fuzzer cannot forge an HMAC.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/session_issuer.hh"
#include "proto/upgrade_server.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

struct result {
  parse_status status;
  upgrade_request_failure failure;
  std::string method, path, authorization;
  size_t content_length;
  bool keep_alive;

  friend bool operator==(const result&, const result&) = default;
};

result read_result(const upgrade_request_parser& p, parse_status status) {
  return {status,
          p.failure(),
          std::string(p.method()),
          std::string(p.path()),
          std::string(p.authorization()),
          p.content_length(),
          p.keep_alive()};
}

session_issuer& issuer() {
  static std::optional<session_issuer> made;
  if (!made) {
    auto issuer = session_issuer::make("fuzz-secret");
    HORDE_FUZZ_CHECK(issuer.has_value());
    made.emplace(std::move(issuer.value()));
  }
  return *made;
}

void check_consistent(const upgrade_request_parser& p, parse_status status) {
  if (status != parse_status::done) return;
  HORDE_FUZZ_CHECK(p.content_length() <= max_request_body_bytes);
  HORDE_FUZZ_CHECK(!p.path().empty());
  HORDE_FUZZ_CHECK(issuer().authorize(p.authorization(), p.path(), 0) != session_auth::ok);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static upgrade_request_parser chunked, whole;
  horde::fuzz::check_incremental_parser(
      data, size, chunked, whole,
      [](upgrade_request_parser& p) { p.reset(8192, 64, max_request_body_bytes); },
      [](const upgrade_request_parser& p, parse_status status) { return read_result(p, status); },
      [](const upgrade_request_parser& p, parse_status status) { check_consistent(p, status); });
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  HORDE_FUZZ_CHECK(issuer().authorize(raw, "/ws/s1", 0) != session_auth::ok);
  HORDE_FUZZ_CHECK(issuer().authorize(std::string("Bearer ") + std::string(raw), "/x", 0) !=
                   session_auth::ok);
  return 0;
}

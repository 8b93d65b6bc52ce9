// Fuzzes the plain HTTP/1.1 response parser (proto/http_response.hh) used by
// the REST setup calls of a pub/sub run.
//
// Input: pieces as fuzz::chunks describes, fed one by one to a parser with
// small limits (so the fuzzer reaches them), then whole to another. Checked
// (fuzz::check_incremental_parser): the split never matters, a feed never
// claims more than it was given, and once done or invalid nothing changes.
// Also: done means a final status (not 1xx) and a body within the limit;
// invalid names a failure; a close ends only a body that runs to the close.
// Then again with `keep` and a kept-body cap below the body limit: the kept
// body is the same whatever the split, never over the cap, and once done it
// is body_bytes() long; header() never reads outside what was kept.
#include <cstddef>
#include <cstdint>
#include <string>

#include "proto/http_response.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

struct result {
  parse_status status;
  int code;
  bool keep_alive;
  uint64_t body;
  http_failure failure;

  friend bool operator==(const result&, const result&) = default;
};

struct kept_result {
  result common;
  std::string body;
  std::string header;  // Content-Type, when present

  friend bool operator==(const kept_result&, const kept_result&) = default;
};

constexpr uint64_t kept_cap = 1024;

http_response_limits small_limits() {
  http_response_limits limits;
  limits.max_header_bytes = 512;
  limits.max_headers = 8;
  limits.max_body_bytes = 4096;
  return limits;
}

http_response_limits keep_limits() {
  http_response_limits limits = small_limits();
  limits.keep = true;
  limits.max_kept_body_bytes = kept_cap;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http_response_parser chunked, whole;
  horde::fuzz::check_incremental_parser(
      data, size, chunked, whole, [](http_response_parser& p) { p.reset(small_limits()); },
      [](const http_response_parser& p, parse_status status) {
        return result{status, p.status_code(), p.keep_alive(), p.body_bytes(), p.failure()};
      },
      [](const http_response_parser& p, parse_status status) {
        if (status == parse_status::done) {
          HORDE_FUZZ_CHECK(p.status_code() >= 100 && p.status_code() <= 999);
          HORDE_FUZZ_CHECK(p.status_code() >= 200 || p.status_code() == 101);
          HORDE_FUZZ_CHECK(p.body_bytes() <= small_limits().max_body_bytes);
          HORDE_FUZZ_CHECK(p.failure() == http_failure::none);
        }
        if (status == parse_status::invalid) HORDE_FUZZ_CHECK(p.failure() != http_failure::none);
      });
  // Whatever state it is in, a close either completes the response or not;
  // it never crashes, and a done response stays done.
  const parse_status before =
      whole.failure() == http_failure::none ? parse_status::need_more : parse_status::invalid;
  const parse_status at_close = whole.finish_at_close();
  if (before == parse_status::invalid) HORDE_FUZZ_CHECK(at_close == parse_status::invalid);

  http_response_parser kept_chunked, kept_whole;
  horde::fuzz::check_incremental_parser(
      data, size, kept_chunked, kept_whole, [](http_response_parser& p) { p.reset(keep_limits()); },
      [](const http_response_parser& p, parse_status status) {
        const auto type = p.header("content-type");
        return kept_result{{status, p.status_code(), p.keep_alive(), p.body_bytes(), p.failure()},
                           std::string(p.body()),
                           type ? std::string(*type) : std::string("(none)")};
      },
      [](const http_response_parser& p, parse_status status) {
        HORDE_FUZZ_CHECK(p.body().size() <= kept_cap);
        HORDE_FUZZ_CHECK(p.body().size() <= p.body_bytes());
        if (status == parse_status::done) {
          HORDE_FUZZ_CHECK(p.body().size() == p.body_bytes());
          HORDE_FUZZ_CHECK(p.failure() == http_failure::none);
        }
        if (status == parse_status::invalid) HORDE_FUZZ_CHECK(p.failure() != http_failure::none);
      });
  if (kept_whole.finish_at_close() == parse_status::done) {
    HORDE_FUZZ_CHECK(kept_whole.body().size() == kept_whole.body_bytes());
  }
  return 0;
}

#include "proto/http_response.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace horde::proto {
namespace {

struct outcome {
  parse_status status;
  size_t consumed;  // of the whole input
  int code;
  bool keep_alive;
  uint64_t body;
};

// Feeds `input` split at `split` (two pieces), as a socket might deliver it.
outcome feed_split(std::string_view input, size_t split, http_response_limits limits = {}) {
  http_response_parser parser;
  parser.reset(limits);
  size_t used = 0;
  parse_status status = parser.feed(input.substr(0, split), used);
  size_t total = used;
  if (status == parse_status::need_more) {
    EXPECT_EQ(used, split);
    status = parser.feed(input.substr(split), used);
    total += used;
  }
  return {status, total, parser.status_code(), parser.keep_alive(), parser.body_bytes()};
}

void expect_every_split(std::string_view input, parse_status status, size_t consumed, int code,
                        bool keep_alive, uint64_t body) {
  for (size_t split = 0; split <= input.size(); ++split) {
    const outcome o = feed_split(input, split);
    ASSERT_EQ(o.status, status) << "split at " << split;
    if (status != parse_status::done) continue;
    EXPECT_EQ(o.consumed, consumed) << "split at " << split;
    EXPECT_EQ(o.code, code);
    EXPECT_EQ(o.keep_alive, keep_alive);
    EXPECT_EQ(o.body, body);
  }
}

TEST(HttpResponse, ContentLengthBodyAtEverySplitLeavesTheNextResponse) {
  const std::string one =
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
      "Content-Length: 13\r\n\r\n{\"id\":\"g-1\"}\n";
  expect_every_split(one + "HTTP/1.1 200 OK\r\n", parse_status::done, one.size(), 201, true, 13);
}

TEST(HttpResponse, ChunkedBodyWithExtensionsAndTrailer) {
  const std::string r =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "5;note=x\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n"
      "X-Trailer: 1\r\n\r\n";
  expect_every_split(r, parse_status::done, r.size(), 200, true, 31);
}

TEST(HttpResponse, NoBodyStatusesAndInterimAnswers) {
  const std::string no_content = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
  expect_every_split(no_content, parse_status::done, no_content.size(), 204, true, 0);
  const std::string r =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n"
      "Connection: close\r\n\r\nno";
  expect_every_split(r, parse_status::done, r.size(), 409, false, 2);
}

TEST(HttpResponse, BodyUntilCloseEndsOnlyAtTheClose) {
  http_response_parser parser;
  parser.reset();
  size_t used = 0;
  EXPECT_EQ(parser.feed("HTTP/1.0 200 OK\r\n\r\nabc", used), parse_status::need_more);
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_EQ(parser.finish_at_close(), parse_status::done);
  EXPECT_EQ(parser.body_bytes(), 3u);
  parser.reset();
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", used),
            parse_status::need_more);
  EXPECT_EQ(parser.finish_at_close(), parse_status::invalid);  // cut short
}

TEST(HttpResponse, RefusesWhatItCannotFrameOrHold) {
  struct bad {
    const char* input;
    http_failure why;
  };
  const std::vector<bad> cases = {
      {"SSH-2.0-OpenSSH\r\n\r\n", http_failure::malformed},
      {"HTTP/2 200\r\n\r\n", http_failure::malformed},
      {"HTTP/1.1 2x0 OK\r\n\r\n", http_failure::malformed},
      {"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", http_failure::malformed},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", http_failure::bad_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       http_failure::bad_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       http_failure::too_large},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", http_failure::bad_framing},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
       http_failure::bad_framing},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", http_failure::malformed},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", http_failure::malformed},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY", http_failure::malformed},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n",
       http_failure::too_large},
  };
  for (const auto& c : cases) {
    http_response_parser parser;
    parser.reset();
    size_t used = 0;
    EXPECT_EQ(parser.feed(c.input, used), parse_status::invalid) << c.input;
    EXPECT_EQ(parser.failure(), c.why) << c.input << " " << to_string(parser.failure());
    EXPECT_EQ(parser.feed("more", used), parse_status::invalid);
    EXPECT_EQ(used, 0u);
  }
}

TEST(HttpResponse, LimitsOnHeaderBodyAndChunkLines) {
  http_response_limits small;
  small.max_header_bytes = 64;
  small.max_body_bytes = 10;
  const std::string long_header = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
  EXPECT_EQ(feed_split(long_header, 5, small).status, parse_status::invalid);
  EXPECT_EQ(feed_split("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 3, small).status,
            parse_status::invalid);
  EXPECT_EQ(feed_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\naaaaaa\r\n6\r\n",
                       20, small)
                .status,
            parse_status::invalid);
  const std::string long_extension =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + std::string(2000, 'e');
  EXPECT_EQ(feed_split(long_extension, 50).status, parse_status::invalid);
  http_response_parser parser;
  parser.reset(small);
  size_t used = 0;
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\n\r\n0123456789", used), parse_status::need_more);
  EXPECT_EQ(parser.feed("x", used), parse_status::invalid);  // until close, over the limit
}

http_response_limits keep_limits(uint64_t cap = 64 * 1024) {
  http_response_limits limits;
  limits.keep = true;
  limits.max_kept_body_bytes = cap;
  return limits;
}

// Feeds `input` split at `split`, from a buffer overwritten after each feed
// (as a socket's receive buffer is), and returns the kept body and a header.
struct kept {
  parse_status status;
  std::string body;
  std::optional<std::string> header;
};

kept feed_kept_split(std::string_view input, size_t split, std::string_view name,
                     http_response_limits limits = keep_limits()) {
  http_response_parser parser;
  parser.reset(limits);
  std::string buffer(input.substr(0, split));
  size_t used = 0;
  parse_status status = parser.feed(buffer, used);
  std::fill(buffer.begin(), buffer.end(), '#');
  if (status == parse_status::need_more) {
    buffer.assign(input.substr(split));
    status = parser.feed(buffer, used);
    std::fill(buffer.begin(), buffer.end(), '#');
  }
  kept k{status, std::string(parser.body()), std::nullopt};
  if (status == parse_status::done) {
    EXPECT_EQ(parser.body().size(), parser.body_bytes());
  }
  if (auto value = parser.header(name)) k.header = std::string(*value);
  return k;
}

TEST(HttpResponse, KeepsTheBodyAndHeadersAtEverySplit) {
  const std::string r =
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Token: abc.def\r\n"
      "x-token: second\r\nContent-Length: 28\r\n\r\n{\"session_id\":\"s-1\",\"n\":2}\r\n";
  for (size_t split = 0; split <= r.size(); ++split) {
    const kept k = feed_kept_split(r, split, "x-TOKEN");
    ASSERT_EQ(k.status, parse_status::done) << "split at " << split;
    EXPECT_EQ(k.body, "{\"session_id\":\"s-1\",\"n\":2}\r\n") << "split at " << split;
    EXPECT_EQ(k.header, "abc.def") << "split at " << split;  // the first one
  }
}

TEST(HttpResponse, KeptChunkedBodyIsDechunked) {
  const std::string r =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;note=x\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (size_t split = 0; split <= r.size(); ++split) {
    const kept k = feed_kept_split(r, split, "transfer-encoding");
    ASSERT_EQ(k.status, parse_status::done) << "split at " << split;
    EXPECT_EQ(k.body, "helloabcdefghijklmnopqrstuvwxyz") << "split at " << split;
    EXPECT_EQ(k.header, "chunked");
  }
  // Trailer fields are not header fields.
  EXPECT_EQ(feed_kept_split(r, 3, "x-trailer").header, std::nullopt);
}

TEST(HttpResponse, KeptBodyUntilCloseAndInterimHeadersAreNotKept) {
  http_response_parser parser;
  parser.reset(keep_limits());
  size_t used = 0;
  EXPECT_EQ(parser.header("server"), std::nullopt);  // nothing read yet
  EXPECT_EQ(parser.feed("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.0 200 OK\r\n", used),
            parse_status::need_more);
  EXPECT_EQ(parser.header("x-interim"), std::nullopt);
  EXPECT_EQ(parser.feed("Server:  t  \r\n\r\nab", used), parse_status::need_more);
  EXPECT_EQ(parser.feed("cd", used), parse_status::need_more);
  EXPECT_EQ(parser.finish_at_close(), parse_status::done);
  EXPECT_EQ(parser.body(), "abcd");
  EXPECT_EQ(parser.header("server"), "t");
  EXPECT_EQ(parser.header("x-interim"), std::nullopt);
  parser.reset(keep_limits());
  EXPECT_EQ(parser.body(), "");
  EXPECT_EQ(parser.header("server"), std::nullopt);
}

TEST(HttpResponse, KeptBodyOverTheCapIsTooLarge) {
  const std::string over_length = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
  const std::string over_chunks =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\naaaaaa\r\n5\r\n";
  const std::string over_close = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789x";
  for (const std::string& r : {over_length, over_chunks, over_close}) {
    http_response_parser parser;
    parser.reset(keep_limits(10));
    size_t used = 0;
    EXPECT_EQ(parser.feed(r, used), parse_status::invalid) << r;
    EXPECT_EQ(parser.failure(), http_failure::too_large) << r;
  }
  // At the cap exactly is fine; the default cap is 64 KiB.
  EXPECT_EQ(feed_kept_split("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 7, "x",
                            keep_limits(10))
                .status,
            parse_status::done);
  const std::string big = "HTTP/1.1 200 OK\r\nContent-Length: 65537\r\n\r\n";
  EXPECT_EQ(feed_kept_split(big, 0, "x").status, parse_status::invalid);
  EXPECT_EQ(feed_split(big, 0).status, parse_status::need_more);  // not kept: 1 MiB limit
}

TEST(HttpResponse, HeaderWithoutKeepAndNoBodyKept) {
  http_response_parser parser;
  parser.reset();
  size_t used = 0;
  const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nETag: \"x\"\r\n\r\nok";
  EXPECT_EQ(parser.feed(r, used), parse_status::done);
  EXPECT_EQ(parser.header("etag"), "\"x\"");  // views `r`, still alive
  EXPECT_EQ(parser.header("content-length"), "2");
  EXPECT_EQ(parser.header("content"), std::nullopt);
  EXPECT_EQ(parser.body(), "");
  EXPECT_EQ(parser.body_bytes(), 2u);
}

}  // namespace
}  // namespace horde::proto

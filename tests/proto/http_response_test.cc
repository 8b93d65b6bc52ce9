#include "proto/http_response.hh"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace horde::proto

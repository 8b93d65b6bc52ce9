#include "proto/upgrade_response.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/guard_page.hh"

namespace horde::proto {
namespace {

const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
const std::string accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const std::vector<std::string> offered = {"chat", "v2"};

const std::string good =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

struct outcome {
  parse_status status;
  size_t consumed;  // over all feeds
  upgrade_failure failure;
  int code;
  bool accepted;
};

// Feeds `input` cut at `split` (and whole if split >= size), each piece placed
// against a guard page so any over-read crashes.
outcome parse(const std::string& input, size_t split, upgrade_response_parser& p,
              upgrade_limits limits = {}) {
  test::guard_page_buffer guard(input.size() + 1);
  p.reset(accept, &offered, limits);
  size_t total = 0;
  parse_status status = parse_status::need_more;
  std::string_view rest = input;
  std::vector<std::string_view> pieces;
  if (split < input.size()) {
    pieces = {rest.substr(0, split), rest.substr(split)};
  } else {
    pieces = {rest};
  }
  for (auto piece : pieces) {
    size_t consumed = 0;
    status = p.feed(guard.place(piece), consumed);
    EXPECT_LE(consumed, piece.size());
    total += consumed;
    if (status != parse_status::need_more) break;
  }
  return {status, total, p.failure(), p.status_code(), p.accepted()};
}

TEST(upgrade_response, accepts_a_valid_101_at_every_split_point) {
  upgrade_response_parser p;
  for (size_t split = 0; split <= good.size(); ++split) {
    auto o = parse(good, split, p);
    ASSERT_EQ(o.status, parse_status::done) << split;
    EXPECT_TRUE(o.accepted) << split;
    EXPECT_EQ(o.code, 101);
    EXPECT_EQ(o.consumed, good.size());
  }
}

TEST(upgrade_response, leaves_frame_bytes_after_the_header_unconsumed) {
  upgrade_response_parser p;
  const std::string with_frame = good + "\x81\x05Hello";
  for (size_t split = 0; split <= with_frame.size(); ++split) {
    auto o = parse(with_frame, split, p);
    ASSERT_EQ(o.status, parse_status::done) << split;
    EXPECT_EQ(o.consumed, good.size()) << split;
  }
}

TEST(upgrade_response, every_prefix_needs_more_and_never_overreads) {
  upgrade_response_parser p;
  test::guard_page_buffer guard(good.size());
  for (size_t n = 0; n < good.size(); ++n) {
    p.reset(accept, &offered);
    size_t consumed = 0;
    EXPECT_EQ(p.feed(guard.place(std::string_view(good).substr(0, n)), consumed),
              parse_status::need_more)
        << n;
    EXPECT_EQ(consumed, n);
  }
}

TEST(upgrade_response, tokens_are_case_insensitive_and_lists_are_read) {
  upgrade_response_parser p;
  const std::string odd =
      "HTTP/1.1 101 OK\r\nupgrade:   WebSocket  \r\nCONNECTION: keep-alive, UPGRADE\r\n"
      "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Other: y\r\n\r\n";
  auto o = parse(odd, odd.size(), p);
  EXPECT_TRUE(o.accepted) << to_string(o.failure);
}

TEST(upgrade_response, a_bare_lf_ends_lines_too) {
  upgrade_response_parser p;
  const std::string lf =
      "HTTP/1.1 101 x\nUpgrade: websocket\nConnection: upgrade\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n";
  EXPECT_TRUE(parse(lf, lf.size(), p).accepted);
}

TEST(upgrade_response, non_101_is_a_result_with_status_and_retry_after) {
  upgrade_response_parser p;
  const std::string limited =
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n";
  auto o = parse(limited, 5, p);
  EXPECT_EQ(o.status, parse_status::done);
  EXPECT_FALSE(o.accepted);
  EXPECT_EQ(o.failure, upgrade_failure::not_101);
  EXPECT_EQ(o.code, 429);
  EXPECT_EQ(p.retry_after_seconds(), 7u);
  for (int code : {401, 403, 404, 500, 503}) {
    const std::string answer = "HTTP/1.1 " + std::to_string(code) + " No\r\n\r\n";
    auto r = parse(answer, answer.size(), p);
    EXPECT_EQ(r.failure, upgrade_failure::not_101);
    EXPECT_EQ(r.code, code);
    EXPECT_EQ(p.retry_after_seconds(), 0u);
  }
}

TEST(upgrade_response, each_missing_or_wrong_header_has_its_own_category) {
  struct bad_case {
    std::string text;
    upgrade_failure expected;
  };
  const std::string accept_line = "Sec-WebSocket-Accept: " + accept + "\r\n";
  const std::vector<bad_case> cases = {
      {"HTTP/1.1 101 x\r\nConnection: Upgrade\r\n" + accept_line + "\r\n",
       upgrade_failure::missing_upgrade},
      {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\n" + accept_line + "\r\n",
       upgrade_failure::missing_connection},
      {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
       upgrade_failure::bad_accept},
      {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
       upgrade_failure::bad_accept},
      {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + accept_line +
           accept_line + "\r\n",
       upgrade_failure::bad_accept},
      {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + accept_line +
           "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
       upgrade_failure::unexpected_subprotocol},
      {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + accept_line +
           "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
       upgrade_failure::unexpected_extension},
      {"HTTP/1.1 1O1 x\r\n\r\n", upgrade_failure::malformed},
      {"SSH-2.0-OpenSSH\r\n\r\n", upgrade_failure::malformed},
      {"HTTP/1.1 101 x\r\nno colon here\r\n\r\n", upgrade_failure::malformed},
      {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\n folded\r\n\r\n", upgrade_failure::malformed},
  };
  upgrade_response_parser p;
  for (const auto& c : cases) {
    auto o = parse(c.text, c.text.size(), p);
    EXPECT_EQ(o.status, parse_status::invalid) << c.text;
    EXPECT_EQ(o.failure, c.expected) << c.text << " got " << to_string(o.failure);
    EXPECT_FALSE(o.accepted);
  }
}

TEST(upgrade_response, offered_subprotocol_is_reported) {
  upgrade_response_parser p;
  const std::string text =
      "HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      accept + "\r\nSec-WebSocket-Protocol: v2\r\n\r\n";
  auto o = parse(text, 17, p);
  ASSERT_TRUE(o.accepted) << to_string(o.failure);
  EXPECT_EQ(p.subprotocol(), "v2");
}

TEST(upgrade_response, limits_bound_header_bytes_and_count) {
  upgrade_response_parser p;
  const std::string huge = "HTTP/1.1 101 x\r\nX-Pad: " + std::string(10000, 'a') + "\r\n\r\n";
  auto o = parse(huge, 100, p);
  EXPECT_EQ(o.status, parse_status::invalid);
  EXPECT_EQ(o.failure, upgrade_failure::too_large);
  std::string many = "HTTP/1.1 101 x\r\n";
  for (int i = 0; i < 100; ++i)
    many += "X-H: 1\r\n";
  many += "\r\n";
  auto m = parse(many, many.size(), p, upgrade_limits{8192, 64});
  EXPECT_EQ(m.failure, upgrade_failure::too_large);
  // A small byte limit applies even though the buffer could hold more.
  auto small = parse(good, good.size(), p, upgrade_limits{40, 64});
  EXPECT_EQ(small.failure, upgrade_failure::too_large);
}

TEST(upgrade_response, a_finished_parser_stays_finished) {
  upgrade_response_parser p;
  auto o = parse(good, good.size(), p);
  ASSERT_TRUE(o.accepted);
  size_t consumed = 99;
  EXPECT_EQ(p.feed("more", consumed), parse_status::done);
  EXPECT_EQ(consumed, 0u);
}

// RFC 7692 7.1: the answer may accept our permessage-deflate offer (in one
// header or spread over two), decline it by saying nothing, or be refused.
TEST(upgrade_response, takes_the_permessage_deflate_answer_against_the_offer) {
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  const deflate_offer offer{12, 0, false, false};
  struct answer_case {
    std::string headers;
    bool ok;
    bool accepted;
  };
  const std::vector<answer_case> cases = {
      {"", true, false},
      {"Sec-WebSocket-Extensions: \r\n", true, false},
      {"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n", true, true},
      {"Sec-WebSocket-Extensions: \r\nsec-websocket-extensions: permessage-deflate\r\n", true,
       true},
      {"Sec-WebSocket-Extensions: permessage-deflate\r\n"
       "Sec-WebSocket-Extensions: permessage-deflate\r\n",
       false, false},
      {"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=13\r\n", false, false},
      {"Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n", false, false},
  };
  for (const auto& c : cases) {
    const std::string text = head + c.headers + "\r\n";
    for (size_t split = 0; split <= text.size(); ++split) {
      upgrade_response_parser p;
      test::guard_page_buffer guard(text.size() + 1);
      p.reset(accept, &offered, {}, &offer);
      size_t consumed = 0;
      if (p.feed(guard.place(std::string_view(text).substr(0, split)), consumed) ==
          parse_status::need_more) {
        size_t more = 0;
        p.feed(guard.place(std::string_view(text).substr(consumed)), more);
      }
      ASSERT_EQ(p.accepted(), c.ok) << c.headers << " split " << split;
      if (c.ok) {
        EXPECT_EQ(p.deflate_accepted(), c.accepted) << c.headers;
      } else {
        EXPECT_EQ(p.failure(), upgrade_failure::unexpected_extension) << c.headers;
      }
    }
  }
  upgrade_response_parser p;
  p.reset(accept, &offered, {}, &offer);
  const std::string text = head + cases[2].headers + "\r\n";
  size_t consumed = 0;
  ASSERT_EQ(p.feed(text, consumed), parse_status::done);
  EXPECT_EQ(p.deflate_agreed().client_max_window_bits, 10);
  EXPECT_EQ(p.deflate_agreed().server_max_window_bits, 15);
}

}  // namespace
}  // namespace horde::proto

#include "proto/upgrade_server.hh"

#include <gtest/gtest.h>

#include <string>

#include "proto/upgrade_request.hh"
#include "proto/upgrade_response.hh"
#include "tests/support/guard_page.hh"

namespace horde::proto {
namespace {

const std::string rfc_request =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

TEST(upgrade_server, parses_the_rfc_request_at_every_split) {
  test::guard_page_buffer guard(rfc_request.size());
  upgrade_request_parser p;
  for (size_t split = 0; split <= rfc_request.size(); ++split) {
    p.reset();
    size_t a = 0, b = 0;
    auto status = p.feed(guard.place(std::string_view(rfc_request).substr(0, split)), a);
    if (status == parse_status::need_more) {
      status = p.feed(guard.place(std::string_view(rfc_request).substr(split)), b);
    }
    ASSERT_EQ(status, parse_status::done) << split;
    EXPECT_EQ(p.failure(), upgrade_request_failure::none);
    EXPECT_EQ(a + b, rfc_request.size());
    EXPECT_EQ(p.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(p.path(), "/chat");
    EXPECT_EQ(p.subprotocols(), "chat, superchat");
  }
}

TEST(upgrade_server, answers_with_the_rfc_accept_value) {
  const std::string answer = build_upgrade_response("dGhlIHNhbXBsZSBub25jZQ==", "chat");
  EXPECT_EQ(answer,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n\r\n");
}

TEST(upgrade_server, client_template_and_server_parser_and_client_parser_agree) {
  auto t = upgrade_request_template::make({"127.0.0.1", 9000, false, "/x?y=1"}, {});
  ASSERT_TRUE(t);
  const std::string key = "x3JJHMbDL1EzLkh9GBhXDw==";
  const std::string request = t->render(key);
  upgrade_request_parser server;
  server.reset();
  size_t consumed = 0;
  ASSERT_EQ(server.feed(request, consumed), parse_status::done);
  ASSERT_EQ(server.failure(), upgrade_request_failure::none);
  EXPECT_EQ(server.path(), "/x?y=1");
  const std::string answer = build_upgrade_response(server.key());
  upgrade_response_parser client;
  client.reset(accept_key_for(key), nullptr);
  ASSERT_EQ(client.feed(answer, consumed), parse_status::done);
  EXPECT_TRUE(client.accepted());
}

TEST(upgrade_server, categorises_bad_requests) {
  struct bad_case {
    std::string text;
    upgrade_request_failure expected;
  };
  const std::string key_line = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  const std::string rest =
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
  const std::vector<bad_case> cases = {
      {"POST / HTTP/1.1\r\nHost: h\r\n" + rest + key_line + "\r\n",
       upgrade_request_failure::not_get},
      {"GET / HTTP/1.0\r\nHost: h\r\n" + rest + key_line + "\r\n",
       upgrade_request_failure::not_get},
      {"GET / HTTP/1.1\r\n" + rest + key_line + "\r\n", upgrade_request_failure::missing_host},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
           key_line + "\r\n",
       upgrade_request_failure::missing_upgrade},
      {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
           key_line + "\r\n",
       upgrade_request_failure::missing_connection},
      {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 8\r\n" +
           key_line + "\r\n",
       upgrade_request_failure::bad_version},
      {"GET / HTTP/1.1\r\nHost: h\r\n" + rest + "\r\n", upgrade_request_failure::bad_key},
      {"GET / HTTP/1.1\r\nHost: h\r\n" + rest + "Sec-WebSocket-Key: short\r\n\r\n",
       upgrade_request_failure::bad_key},
      {"GET\r\n\r\n", upgrade_request_failure::malformed},
      {"GET / HTTP/1.1\r\nbroken line\r\n\r\n", upgrade_request_failure::malformed},
  };
  upgrade_request_parser p;
  for (const auto& c : cases) {
    p.reset();
    size_t consumed = 0;
    auto status = p.feed(c.text, consumed);
    EXPECT_NE(status, parse_status::need_more) << c.text;
    EXPECT_EQ(p.failure(), c.expected) << c.text << " got " << to_string(p.failure());
  }
}

TEST(upgrade_server, oversize_requests_are_cut_off) {
  upgrade_request_parser p;
  p.reset(1024, 64);
  const std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(5000, 'a');
  size_t consumed = 0;
  EXPECT_EQ(p.feed(huge, consumed), parse_status::invalid);
  EXPECT_EQ(p.failure(), upgrade_request_failure::too_large);
  EXPECT_LE(consumed, 1024u);
}

TEST(upgrade_server, error_response_closes_and_carries_extra_headers) {
  const std::string answer = build_error_response(429, "Too Many Requests", "Retry-After: 5\r\n");
  upgrade_response_parser p;
  p.reset("", nullptr);
  size_t consumed = 0;
  ASSERT_EQ(p.feed(answer, consumed), parse_status::done);
  EXPECT_EQ(p.status_code(), 429);
  EXPECT_EQ(p.retry_after_seconds(), 5u);
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos);
}

TEST(upgrade_server, keeps_the_body_it_reads_at_every_split) {
  const std::string request =
      "POST /publish/g1 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello worldGET";
  for (size_t split = 0; split <= request.size(); ++split) {
    upgrade_request_parser p;
    p.reset(8192, 64, 64);
    size_t a = 0, b = 0;
    auto status = p.feed(std::string_view(request).substr(0, split), a);
    if (status == parse_status::need_more) status = p.feed(std::string_view(request).substr(a), b);
    ASSERT_EQ(status, parse_status::done) << split;
    EXPECT_EQ(p.body(), "hello world") << split;
    EXPECT_EQ(a + b, request.size() - 3) << split;  // "GET" is the next request's
    EXPECT_EQ(p.path(), "/publish/g1");
  }
}

TEST(upgrade_server, refuses_a_body_over_its_limit) {
  upgrade_request_parser p;
  p.reset(8192, 64, 4);
  size_t used = 0;
  EXPECT_EQ(p.feed("POST /publish/g HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", used),
            parse_status::invalid);
  EXPECT_EQ(p.failure(), upgrade_request_failure::too_large);
  EXPECT_TRUE(p.body().empty());
}

}  // namespace
}  // namespace horde::proto

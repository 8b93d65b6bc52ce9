#include "proto/upgrade_request.hh"

#include <gtest/gtest.h>

#include <string>

namespace horde::proto {
namespace {

constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";

TEST(upgrade_request, renders_the_rfc_handshake_with_host_port_and_key) {
  auto t = upgrade_request_template::make({"example.com", 8080, false, "/chat?room=7"}, {});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->render(key),
            "GET /chat?room=7 HTTP/1.1\r\n"
            "Host: example.com:8080\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n");
  EXPECT_EQ(t->size(), t->render(key).size());
}

TEST(upgrade_request, default_ports_are_left_out_and_ipv6_is_bracketed) {
  auto plain = upgrade_request_template::make({"example.com", 80, false, ""}, {});
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->render(key).find("GET / HTTP/1.1\r\nHost: example.com\r\n"), std::string::npos);
  auto secure = upgrade_request_template::make({"example.com", 443, true, "/"}, {});
  ASSERT_TRUE(secure);
  EXPECT_NE(secure->render(key).find("Host: example.com\r\n"), std::string::npos);
  auto v6 = upgrade_request_template::make({"::1", 9000, false, "/"}, {});
  ASSERT_TRUE(v6);
  EXPECT_NE(v6->render(key).find("Host: [::1]:9000\r\n"), std::string::npos);
}

TEST(upgrade_request, carries_subprotocols_origin_and_extra_headers) {
  upgrade_options options;
  options.subprotocols = {"chat", "superchat"};
  options.origin = "https://app.example";
  options.headers = {{"Authorization", "Bearer eyJhbGciOi.x.y"}, {"X-Tenant", "42"}};
  auto t = upgrade_request_template::make({"h", 1234, false, "/ws"}, options);
  ASSERT_TRUE(t) << t.error().message;
  const std::string text = t->render(key);
  EXPECT_NE(text.find("Sec-WebSocket-Protocol: chat, superchat\r\n"), std::string::npos);
  EXPECT_NE(text.find("Origin: https://app.example\r\n"), std::string::npos);
  EXPECT_NE(text.find("Authorization: Bearer eyJhbGciOi.x.y\r\n"), std::string::npos);
  EXPECT_NE(text.find("X-Tenant: 42\r\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
}

TEST(upgrade_request, write_puts_each_key_in_place_without_touching_the_rest) {
  auto t = upgrade_request_template::make({"h", 1, false, "/"}, {});
  ASSERT_TRUE(t);
  std::string a(t->size(), '\0'), b(t->size(), '\0');
  t->write(a.data(), "AAAAAAAAAAAAAAAAAAAAAA==");
  t->write(b.data(), "BBBBBBBBBBBBBBBBBBBBBB==");
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i)
    differing += a[i] != b[i];
  EXPECT_EQ(differing, 22u);
}

TEST(upgrade_request, refuses_header_injection_and_reserved_headers) {
  upgrade_options crlf;
  crlf.headers = {{"X-Evil", "a\r\nHost: other"}};
  EXPECT_FALSE(upgrade_request_template::make({"h", 1, false, "/"}, crlf));
  upgrade_options reserved;
  reserved.headers = {{"sec-websocket-key", "abc"}};
  auto r = upgrade_request_template::make({"h", 1, false, "/"}, reserved);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("written by horde"), std::string::npos);
  upgrade_options bad_name;
  bad_name.headers = {{"Bad Name", "x"}};
  EXPECT_FALSE(upgrade_request_template::make({"h", 1, false, "/"}, bad_name));
  upgrade_options bad_protocol;
  bad_protocol.subprotocols = {"a b"};
  EXPECT_FALSE(upgrade_request_template::make({"h", 1, false, "/"}, bad_protocol));
  EXPECT_FALSE(upgrade_request_template::make({"", 1, false, "/"}, {}));
  EXPECT_FALSE(upgrade_request_template::make({"h", 1, false, "/a b"}, {}));
}

}  // namespace
}  // namespace horde::proto

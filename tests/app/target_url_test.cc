#include "app/target_url.hh"

#include <gtest/gtest.h>

namespace horde::app {
namespace {

TEST(TargetUrl, DefaultsPortAndPathByScheme) {
  auto plain = parse_target_url("ws://example.test");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->secure);
  EXPECT_EQ(plain->host, "example.test");
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->path_and_query, "/");
  auto secure = parse_target_url("wss://example.test/feed");
  ASSERT_TRUE(secure);
  EXPECT_TRUE(secure->secure);
  EXPECT_EQ(secure->port, 443);
  EXPECT_EQ(secure->path_and_query, "/feed");
}

TEST(TargetUrl, KeepsPathAndQuery) {
  auto url = parse_target_url("ws://127.0.0.1:9000/chat/room?token=abc&x=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->path_and_query, "/chat/room?token=abc&x=1");
  auto query_only = parse_target_url("ws://h:1?q=2");
  ASSERT_TRUE(query_only);
  EXPECT_EQ(query_only->path_and_query, "/?q=2");
}

TEST(TargetUrl, Ipv6LiteralsInBrackets) {
  auto url = parse_target_url("ws://[::1]:8080/x");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8080);
}

TEST(TargetUrl, RejectsWhatIsNotAWebSocketUrl) {
  for (const char* bad : {"http://h/", "h:80", "ws://", "ws://h:0/", "ws://h:65536/", "ws://h:8x/",
                          "ws://h/#frag", "ws://[::1/", "ws://user:pw@h/"}) {
    EXPECT_FALSE(parse_target_url(bad)) << bad;
  }
}

}  // namespace
}  // namespace horde::app

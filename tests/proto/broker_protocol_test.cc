#include "proto/broker_protocol.hh"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace horde::proto {
namespace {

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST(http_publish_route, takes_the_group_of_post_publish) {
  auto t = route_http_publish("POST", "/publish/room-7");
  EXPECT_EQ(t.route, http_publish_route::publish);
  EXPECT_EQ(t.group, "room-7");
  t = route_http_publish("POST", "/publish/g1?token=x");
  EXPECT_EQ(t.route, http_publish_route::publish);
  EXPECT_EQ(t.group, "g1");
}

TEST(http_publish_route, leaves_other_requests_to_the_other_routes) {
  EXPECT_EQ(route_http_publish("GET", "/publish/g1").route, http_publish_route::other);
  EXPECT_EQ(route_http_publish("PUT", "/publish/g1").route, http_publish_route::other);
  EXPECT_EQ(route_http_publish("POST", "/sessions").route, http_publish_route::other);
  EXPECT_EQ(route_http_publish("POST", "/publish").route, http_publish_route::other);
}

TEST(http_publish_route, refuses_a_path_that_names_no_group) {
  EXPECT_EQ(route_http_publish("POST", "/publish/").route, http_publish_route::bad_group);
  EXPECT_EQ(route_http_publish("POST", "/publish/?x=1").route, http_publish_route::bad_group);
  EXPECT_EQ(route_http_publish("POST", "/publish/" + std::string(201, 'g')).route,
            http_publish_route::bad_group);
}

TEST(is_utf8, accepts_text_and_refuses_what_rfc_3629_forbids) {
  EXPECT_TRUE(is_utf8(bytes("")));
  EXPECT_TRUE(is_utf8(bytes("{\"id\":1} caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")));
  EXPECT_FALSE(is_utf8(bytes("\xc0\xaf")));          // overlong '/'
  EXPECT_FALSE(is_utf8(bytes("\xe0\x80\xaf")));      // overlong, 3 bytes
  EXPECT_FALSE(is_utf8(bytes("\xed\xa0\x80")));      // a surrogate
  EXPECT_FALSE(is_utf8(bytes("\xf4\x90\x80\x80")));  // above U+10FFFF
  EXPECT_FALSE(is_utf8(bytes("\xe2\x82")));          // cut short
  EXPECT_FALSE(is_utf8(bytes("\x80")));              // a lone continuation
  EXPECT_FALSE(is_utf8(bytes("\xff")));
}

}  // namespace
}  // namespace horde::proto

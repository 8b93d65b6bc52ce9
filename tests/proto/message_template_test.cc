#include "proto/message_template.hh"

#include <gtest/gtest.h>

namespace horde::proto {
namespace {

const std::vector<std::string_view> group_payload = {"group", "payload"};

TEST(message_template, expands_the_reference_protocol_and_json) {
  auto sub = message_template::parse("sub {group}", group_payload);
  ASSERT_TRUE(sub) << sub.error().message;
  std::string out;
  sub->expand(out, {"room-7", ""});
  EXPECT_EQ(out, "sub room-7");

  auto pub = message_template::parse(R"({"room":"{group}","text":"{payload}"})", group_payload);
  ASSERT_TRUE(pub) << pub.error().message;
  out.clear();
  pub->expand(out, {"r1", "hello"});
  EXPECT_EQ(out, R"({"room":"r1","text":"hello"})");
  EXPECT_TRUE(pub->has("payload"));
  EXPECT_EQ(pub->literal_size(), std::string(R"({"room":"","text":""})").size());
}

TEST(message_template, bad_templates_say_what_is_wrong) {
  auto unknown = message_template::parse("sub {room}", group_payload);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown {room}"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("{group}"), std::string::npos);
  // Braces that do not make a hole are literal.
  auto literal = message_template::parse("sub {group {} }{x-y}", group_payload);
  ASSERT_TRUE(literal);
  EXPECT_FALSE(literal->has("group"));
  std::string out;
  literal->expand(out, {"g", ""});
  EXPECT_EQ(out, "sub {group {} }{x-y}");
}

TEST(message_template, matches_an_acknowledgement_and_returns_the_group) {
  auto ack = message_template::parse("ok sub {group}", {"group"});
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->match_one("ok sub g42"), "g42");
  EXPECT_FALSE(ack->match_one("ok sub "));  // empty group
  EXPECT_FALSE(ack->match_one("ok unsub g42"));
  EXPECT_FALSE(ack->match_one("msg g42 x"));
  auto json = message_template::parse(R"({"joined":"{group}"})", {"group"});
  ASSERT_TRUE(json);
  EXPECT_EQ(json->match_one(R"({"joined":"room-3"})"), "room-3");
  EXPECT_FALSE(json->match_one(R"({"joined":"room-3"} )"));
}

TEST(group_names, round_trip_and_refuse_strangers) {
  auto names = group_names::make("room-{n}");
  ASSERT_TRUE(names) << names.error().message;
  EXPECT_EQ(names->name(0), "room-0");
  EXPECT_EQ(names->name(2999999), "room-2999999");
  EXPECT_EQ(names->number_of("room-2999999"), 2999999u);
  EXPECT_FALSE(names->number_of("room-"));
  EXPECT_FALSE(names->number_of("room-01"));
  EXPECT_FALSE(names->number_of("room-1x"));
  EXPECT_FALSE(names->number_of("lobby-1"));
  EXPECT_FALSE(group_names::make("room"));
  EXPECT_FALSE(group_names::make("{n}-{n}"));
}

}  // namespace
}  // namespace horde::proto

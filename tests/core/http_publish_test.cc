// --publish-http without sockets: a publish rendered as an HTTP/1.1 request
// (templates filled, Content-Length exact, a value that would inject a line
// refused), and its answer judged by status.
#include "core/http_publish.hh"

#include <gtest/gtest.h>

#include <string>

namespace horde::core {
namespace {

proto::message_template make(const std::string& text) {
  auto t = proto::message_template::parse(text, {"group", "payload"});
  EXPECT_TRUE(t.has_value()) << text;
  return t ? std::move(*t) : proto::message_template{};
}

http_publish_plan json_plan() {
  http_publish_plan plan;
  http_publish_origin& origin = plan.origins.emplace_back();
  origin.method = "POST";
  origin.path = make("/api/publish/{group}");
  origin.host = "127.0.0.1:8080";
  plan.headers.push_back(make("Content-Type: application/json"));
  plan.headers.push_back(make("X-Channel: {group}"));
  plan.body = make(R"({"channel":"{group}","data":"{payload}"})");
  return plan;
}

TEST(HttpPublish, RendersTheRequestWithItsExactLength) {
  std::string out = "left alone|";
  ASSERT_TRUE(render_http_publish(json_plan(), json_plan().origins[0], "g7", "STAMPxx", out));
  const std::string body = R"({"channel":"g7","data":"STAMPxx"})";
  EXPECT_EQ(out,
            "left alone|POST /api/publish/g7 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
            "Content-Type: application/json\r\nX-Channel: g7\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
}

TEST(HttpPublish, AnEmptyBodyStillSaysItsLength) {
  http_publish_plan plan = json_plan();
  plan.origins[0].method = "PUT";
  plan.headers.clear();
  plan.body = make("");
  std::string out;
  ASSERT_TRUE(render_http_publish(plan, plan.origins[0], "g", "p", out));
  EXPECT_EQ(out,
            "PUT /api/publish/g HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpPublish, RefusesAValueThatWouldBreakTheRequest) {
  std::string out;
  EXPECT_FALSE(render_http_publish(json_plan(), json_plan().origins[0], "a b", "p",
                                   out));  // a space in the target
  out.clear();
  EXPECT_FALSE(render_http_publish(json_plan(), json_plan().origins[0], "a\r\nX: y", "p", out));
  http_publish_plan plan = json_plan();
  plan.origins[0].path = make("/publish");
  plan.headers = {make("X-Data: {payload}")};
  out.clear();
  EXPECT_FALSE(render_http_publish(plan, plan.origins[0], "g", "line\nbreak", out));
  out.clear();
  EXPECT_TRUE(render_http_publish(plan, plan.origins[0], "g", "fine", out));
}

TEST(HttpPublish, AcceptsAny2xxOrTheListedStatuses) {
  http_publish_plan plan = json_plan();
  EXPECT_TRUE(http_publish_accepted(plan, 200));
  EXPECT_TRUE(http_publish_accepted(plan, 204));
  EXPECT_FALSE(http_publish_accepted(plan, 199));
  EXPECT_FALSE(http_publish_accepted(plan, 301));
  EXPECT_FALSE(http_publish_accepted(plan, 503));
  plan.expect = {200, 409};
  EXPECT_TRUE(http_publish_accepted(plan, 409));
  EXPECT_FALSE(http_publish_accepted(plan, 202));
}

TEST(HttpPublish, PublishersTakeTheOriginsInTurn) {
  http_publish_plan plan = json_plan();
  http_publish_origin second = plan.origins[0];
  second.host = "127.0.0.1:8081";
  second.target = 3;
  plan.origins.push_back(std::move(second));
  EXPECT_EQ(&plan.origin_of(0), &plan.origins[0]);
  EXPECT_EQ(&plan.origin_of(1), &plan.origins[1]);
  EXPECT_EQ(&plan.origin_of(6), &plan.origins[0]);
  std::string out;
  ASSERT_TRUE(render_http_publish(plan, plan.origin_of(5), "g", "p", out));
  EXPECT_NE(out.find("Host: 127.0.0.1:8081\r\n"), std::string::npos) << out;
}

TEST(HttpPublish, RunLevelVariablesFillTheirHoles) {
  const std::vector<std::string_view> holes{"group", "payload", "token", "room"};
  http_publish_plan plan;
  http_publish_origin& origin = plan.origins.emplace_back();
  origin.method = "POST";
  origin.path = *proto::message_template::parse("/rooms/{room}/publish/{group}", holes);
  origin.host = "h";
  plan.headers.push_back(*proto::message_template::parse("Authorization: Bearer {token}", holes));
  plan.body = *proto::message_template::parse("{payload}", holes);
  const std::vector<std::string> run_values{"adm-1", "r7"};
  std::string out;
  ASSERT_TRUE(render_http_publish(plan, origin, "g", "P", out, run_values));
  EXPECT_EQ(out,
            "POST /rooms/r7/publish/g HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer adm-1\r\n"
            "Content-Length: 1\r\n\r\nP");
}

}  // namespace
}  // namespace horde::core

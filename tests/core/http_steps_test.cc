// The HTTP steps before an upgrade, without sockets: a step's request
// rendered from a connection's variables (and refused when a value would
// inject a line), its answer judged by status, its captures stored.
#include "core/http_steps.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde::core {
namespace {

struct steps_fixture : testing::Test {
  client_plan plan;
  shard_metrics metrics;
  std::vector<uint32_t> ids = {41};
  std::unique_ptr<connection_vars> vars;

  proto::var_template compile(const std::string& text) {
    auto t = proto::var_template::parse(text, plan.vars.names);
    EXPECT_TRUE(t) << t.error().message;
    return std::move(*t);
  }
  // POST /sessions?u={conn} capturing /token and the X-Session header.
  void one_step() {
    plan.vars.names = {"token", "sid"};
    http_step_plan step;
    step.name = "login";
    step.method = "POST";
    step.target = compile("/sessions?u={conn}");
    step.host = "127.0.0.1:8000";
    step.headers.push_back(compile("Content-Type: application/json"));
    step.body = compile(R"({"user":"u{conn}"})");
    step.expect = {201};
    http_capture token;
    token.stored_index = 0;
    token.json = *proto::json_pointer::parse("/token");
    http_capture sid;
    sid.stored_index = 1;
    sid.from_header = true;
    sid.header = "X-Session";
    step.captures = {token, sid};
    step.ok = plan.named.counter("ok");
    step.failed = plan.named.counter("failed");
    step.status_class = plan.named.counter("1xx");
    for (const char* c : {"2xx", "3xx", "4xx", "5xx"})
      plan.named.counter(c);
    step.latency = plan.named.histogram("login");
    plan.http_steps.push_back(std::move(step));
    metrics.declare(plan.named.counters.size(), plan.named.histograms.size());
    vars = std::make_unique<connection_vars>(plan.vars, ids);
  }
  proto::http_response_parser answer(const std::string& text) {
    proto::http_response_parser p;
    proto::http_response_limits limits;
    limits.keep = true;
    p.reset(limits);
    size_t consumed = 0;
    EXPECT_EQ(p.feed(text, consumed), proto::parse_status::done);
    return p;
  }
  uint64_t named(size_t i) const { return metrics.counters.named[i].get(); }
};

TEST_F(steps_fixture, RendersTheRequestFromTheConnectionsVariables) {
  one_step();
  http_steps steps(plan, metrics, *vars);
  std::string out;
  ASSERT_TRUE(steps.render(0, 0, out));
  EXPECT_EQ(out,
            "POST /sessions?u=41 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: "
            "application/json\r\nContent-Length: 14\r\nConnection: keep-alive\r\n\r\n"
            R"({"user":"u41"})");
}

TEST_F(steps_fixture, CapturesTheJsonFieldAndTheHeaderIntoVariables) {
  one_step();
  http_steps steps(plan, metrics, *vars);
  const auto good = answer(
      "HTTP/1.1 201 Created\r\nX-Session: s-9\r\nContent-Length: 17\r\n\r\n{\"token\":\"ey.J\"}\n");
  EXPECT_FALSE(steps.judge(0, 0, good, 3'000'000));
  const auto values = vars->values(0);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0], "ey.J");
  EXPECT_EQ(values[1], "s-9");
  EXPECT_EQ(named(0), 1u);      // ok
  EXPECT_EQ(named(2 + 1), 1u);  // 2xx
  EXPECT_EQ(metrics.latency.named[0].count(), 1u);
}

TEST_F(steps_fixture, AnUnexpectedStatusOrAMissingCaptureFailsTheConnection) {
  one_step();
  http_steps steps(plan, metrics, *vars);
  const auto refused = answer("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(steps.judge(0, 0, refused, 1), failure_reason::http_step_status);
  const auto no_token =
      answer("HTTP/1.1 201 Created\r\nX-Session: s\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(steps.judge(0, 0, no_token, 1), failure_reason::http_capture_missing);
  EXPECT_EQ(named(1), 2u);      // failed
  EXPECT_EQ(named(2 + 3), 1u);  // 4xx
}

TEST_F(steps_fixture, AValueWithALineBreakIsRefusedNotInjected) {
  one_step();
  plan.http_steps[0].headers.push_back(compile("X-Token: {token}"));
  http_steps steps(plan, metrics, *vars);
  vars->set(0, 0, "abc\r\nX-Admin: yes");
  std::string out;
  EXPECT_FALSE(steps.render(0, 0, out));
  vars->set(0, 0, "abc");
  out.clear();
  EXPECT_TRUE(steps.render(0, 0, out));
}

TEST(ConnectionVars, FeederRowsByConnectionAndStoredValuesPerSlot) {
  auto table = proto::csv_table::parse("user,password\nann,a1\nbob,b2\n");
  ASSERT_TRUE(table);
  vars_plan plan;
  plan.names = table->columns();
  plan.names.push_back("jwt");
  plan.feeder = std::make_shared<proto::csv_table>(std::move(*table));
  const std::vector<uint32_t> ids = {0, 1, 2};
  connection_vars vars(plan, ids);
  EXPECT_EQ(vars.values(1)[0], "bob");
  EXPECT_EQ(vars.values(2)[0], "ann");  // cycles
  vars.set(2, 0, "token-2");
  EXPECT_EQ(vars.values(2)[2], "token-2");
  EXPECT_EQ(vars.values(1)[2], "");
  vars.clear(2);
  EXPECT_EQ(vars.values(2)[2], "");
}

}  // namespace
}  // namespace horde::core

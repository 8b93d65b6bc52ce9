// Requests, streams, heartbeats and listen-only connections without
// sockets: a fake port records what the scenario sends, the test plays the
// server (answers out of order, errors, silence, frames, pushes) and checks
// each count and latency.
#include "core/request_scenario.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde::core {
namespace {

struct recording_port final : scenario_port {
  std::vector<std::string> sent;
  bool send(proto::ws_opcode, std::span<const uint8_t> body) noexcept override {
    sent.emplace_back(reinterpret_cast<const char*>(body.data()), body.size());
    return true;
  }
  void close(uint16_t) noexcept override {}
  void fail(failure_reason) noexcept override {}
};

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

proto::var_template compile(const std::string& text) {
  auto t = proto::var_template::parse(text, {});
  EXPECT_TRUE(t) << t.error().message;
  return std::move(*t);
}

struct request_fixture : testing::Test {
  client_plan plan;
  shard_metrics metrics;
  proto::mask_source random;
  std::vector<uint32_t> ids = {3};
  recording_port port;
  std::unique_ptr<connection_vars> vars;

  // One request kind named "add", JSON-RPC shaped, `rate` per second.
  request_kind& add_kind(double rate, bool stream = false) {
    request_kind k;
    k.name = "add";
    k.send = compile(R"({"jsonrpc":"2.0","method":"add","id":{seq}})");
    k.match_value = compile("{seq}");
    k.match = *proto::json_pointer::parse("/id");
    k.has_error = true;
    k.error = *proto::json_pointer::parse("/error/code");
    k.rate = rate;
    k.timeout_ns = 50'000'000;
    k.stream = stream;
    if (stream) {
      k.has_end = true;
      k.end = *proto::json_predicate::parse(R"(/type == "done")");
      k.first_frame = plan.named.histogram("first");
      k.frame_gap = plan.named.histogram("gap");
      k.frames = plan.named.counter("frames");
    }
    k.latency = plan.named.histogram("latency");
    k.sent = plan.named.counter("sent");
    k.answered = plan.named.counter("answered");
    k.errors = plan.named.counter("errors");
    k.timeouts = plan.named.counter("timeouts");
    k.lost = plan.named.counter("lost");
    plan.steps.requests.push_back(std::move(k));
    return plan.steps.requests.back();
  }
  std::unique_ptr<request_scenario> make() {
    metrics.declare(plan.named.counters.size(), plan.named.histograms.size());
    vars = std::make_unique<connection_vars>(plan.vars, ids);
    return std::make_unique<request_scenario>(plan, metrics, random, ids, *vars, 10'000'000'000);
  }
  uint64_t named(const char* name) const {
    for (size_t i = 0; i < plan.named.counters.size(); ++i)
      if (plan.named.counters[i] == name) return metrics.counters.named[i].get();
    return ~uint64_t(0);
  }
  const histogram& timed(const char* name) const {
    for (size_t i = 0; i < plan.named.histograms.size(); ++i)
      if (plan.named.histograms[i] == name) return metrics.latency.named[i];
    static histogram none;
    return none;
  }
};

TEST_F(request_fixture, RepliesOutOfOrderAreMatchedByIdAndTimedFromTheSchedule) {
  add_kind(100);  // every 10 ms
  plan.steps.unmatched = plan.named.counter("unmatched");
  auto s = make();
  s->on_open(0, port, 0);
  s->on_due(0, port, 40'000'000);
  ASSERT_GE(port.sent.size(), 4u);
  EXPECT_EQ(port.sent[0], R"({"jsonrpc":"2.0","method":"add","id":1})");  // {seq} from 1
  // Answered last to first, ids as numbers and as strings; one error reply.
  for (size_t i = port.sent.size(); i-- > 0;) {
    const std::string id = std::to_string(i + 1);
    const std::string reply =
        i == 1  ? R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"no"},"id":)" + id + "}"
        : i % 2 ? R"({"jsonrpc":"2.0","result":3,"id":")" + id + "\"}"
                : R"({"jsonrpc":"2.0","result":3,"id":)" + id + "}";
    s->on_message(0, port, proto::ws_opcode::text, bytes(reply), 45'000'000);
  }
  s->on_message(0, port, proto::ws_opcode::text, bytes(R"({"id":999})"), 45'000'000);
  EXPECT_EQ(named("sent"), port.sent.size());
  EXPECT_EQ(named("answered"), port.sent.size() - 1);
  EXPECT_EQ(named("errors"), 1u);
  EXPECT_EQ(named("unmatched"), 1u);
  EXPECT_TRUE(s->all_answered());
  // The first request was scheduled before 10 ms: timed from then, not from 40 ms.
  EXPECT_GT(timed("latency").max(), 35'000'000u);
}

TEST_F(request_fixture, SilenceIsATimeoutAndAGoneConnectionLosesWhatItAwaited) {
  add_kind(100);
  auto s = make();
  s->on_open(0, port, 0);
  s->on_due(0, port, 20'000'000);
  const size_t first = port.sent.size();
  ASSERT_GE(first, 1u);
  s->on_due(0, port, 200'000'000);  // 50 ms timeout long past for the first ones
  EXPECT_EQ(named("timeouts"), first);
  const size_t waiting = port.sent.size() - first;
  s->on_gone(0);
  EXPECT_EQ(named("lost"), waiting);
  EXPECT_TRUE(s->all_answered());
  EXPECT_EQ(s->next_due_ns(0), 0u);
}

TEST_F(request_fixture, AStreamIsTimedToItsFirstFrameBetweenFramesAndToItsEnd) {
  add_kind(1, true);
  auto s = make();
  s->on_open(0, port, 0);
  s->on_due(0, port, 1'000'000'000);
  ASSERT_EQ(port.sent.size(), 1u);
  const uint64_t t0 = 1'000'000'000;
  for (int k = 0; k < 5; ++k) {
    const std::string frame = R"({"type":"token","id":1,"i":)" + std::to_string(k) + "}";
    s->on_message(0, port, proto::ws_opcode::text, bytes(frame), t0 + 5'000'000 + k * 20'000'000);
  }
  EXPECT_FALSE(s->all_answered());
  s->on_message(0, port, proto::ws_opcode::text, bytes(R"({"type":"done","id":1})"),
                t0 + 100'000'000);
  EXPECT_TRUE(s->all_answered());
  EXPECT_EQ(named("frames"), 6u);
  EXPECT_EQ(named("answered"), 1u);
  EXPECT_EQ(timed("gap").count(), 5u);
  EXPECT_NEAR(double(timed("gap").value_at_quantile(0.5)), 20e6, 0.1e6);
  EXPECT_GE(timed("first").max(), 5'000'000u);  // from the scheduled send, at most 1 s before
  EXPECT_LE(timed("first").max(), 1'005'010'000u);
}

TEST_F(request_fixture, HeartbeatsAreAnsweredOrMissedAndPushesAreTimed) {
  plan.steps.heartbeat.every_ns = 100'000'000;
  plan.steps.heartbeat.send = compile(R"({"type":"ping"})");
  plan.steps.heartbeat.has_expect = true;
  plan.steps.heartbeat.expect = *proto::json_predicate::parse(R"(/type == "pong")");
  plan.steps.heartbeat.timeout_ns = 30'000'000;
  plan.steps.heartbeat.sent = plan.named.counter("hb.sent");
  plan.steps.heartbeat.answered = plan.named.counter("hb.answered");
  plan.steps.heartbeat.missed = plan.named.counter("hb.missed");
  plan.steps.heartbeat.latency = plan.named.histogram("hb");
  plan.steps.unmatched = plan.named.counter("unmatched");
  auto s = make();
  s->on_open(0, port, 0);
  const uint64_t first = s->next_due_ns(0);
  s->on_due(0, port, first);
  ASSERT_EQ(port.sent.size(), 1u);
  s->on_message(0, port, proto::ws_opcode::text, bytes(R"({"type":"news"})"), first + 1'000'000);
  s->on_message(0, port, proto::ws_opcode::text, bytes(R"({"type":"pong"})"), first + 2'000'000);
  const uint64_t second = s->next_due_ns(0);
  EXPECT_EQ(second, first + 100'000'000);
  s->on_due(0, port, second);  // never answered
  s->on_due(0, port, second + 31'000'000);
  EXPECT_EQ(named("hb.sent"), 2u);
  EXPECT_EQ(named("hb.answered"), 1u);
  EXPECT_EQ(named("hb.missed"), 1u);
  EXPECT_EQ(named("unmatched"), 1u);
}

TEST_F(request_fixture, ListenOnlyNeverSendsAndTimesTheGapsBetweenPushes) {
  plan.steps.listen_only = true;
  plan.steps.pushes = plan.named.counter("pushes");
  plan.steps.push_gap = plan.named.histogram("gap");
  auto s = make();
  s->on_open(0, port, 0);
  for (int k = 0; k < 4; ++k)
    s->on_message(0, port, proto::ws_opcode::text, bytes("tick"), uint64_t(k) * 50'000'000 + 1);
  s->on_due(0, port, 1'000'000'000);
  EXPECT_TRUE(port.sent.empty());
  EXPECT_EQ(named("pushes"), 4u);
  EXPECT_EQ(timed("gap").count(), 3u);
  EXPECT_NEAR(double(timed("gap").value_at_quantile(0.5)), 50e6, 0.1e6);
}

}  // namespace
}  // namespace horde::core

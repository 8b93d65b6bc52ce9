// The graphql-transport-ws codec without sockets: its handshake and its
// deadline, keep-alives both ways, every message kind in and out, ids it
// assigns to publishes, and what a hostile server's bytes make of it.
#include "proto/codec_graphql_ws.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace horde::proto {
namespace {

namespace m = graphql_ws_metric;
using kind = codec_event::kind;

constexpr uint64_t second = 1'000'000'000;
constexpr uint64_t t0 = 1000 * second;  // a monotonic clock far from 0

struct recording_output final : codec_output {
  std::vector<std::string> sent;
  bool alive = true;
  bool send(ws_opcode opcode, std::span<const uint8_t> body) noexcept override {
    EXPECT_EQ(opcode, ws_opcode::text);
    if (!alive) return false;
    sent.emplace_back(reinterpret_cast<const char*>(body.data()), body.size());
    return true;
  }
};

struct recording_stats final : codec_stats {
  std::vector<uint64_t> counts = std::vector<uint64_t>(m::counter_count);
  std::vector<std::vector<uint64_t>> times = std::vector<std::vector<uint64_t>>(m::histogram_count);
  void count(uint32_t counter, uint64_t n) noexcept override { counts.at(counter) += n; }
  void time(uint32_t histogram, uint64_t ns) noexcept override {
    times.at(histogram).push_back(ns);
  }
};

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string text_of(const codec_event& e) {
  return {reinterpret_cast<const char*>(e.body.data()), e.body.size()};
}

struct fixture {
  codec_options options;
  std::vector<uint32_t> ids{7, 8};
  recording_stats stats;
  recording_output out;
  std::unique_ptr<codec> c;

  explicit fixture(codec_options o = {}) : options(std::move(o)) {
    auto made = make_graphql_ws_codec({options, ids, stats, 1});
    EXPECT_TRUE(made) << made.error().message;
    if (made) c = std::move(*made);
  }
  codec_event in(std::string_view text, uint64_t now = t0, uint32_t slot = 0) {
    return c->receive(slot, ws_opcode::text, bytes(text), now);
  }
  // Opens slot 0 and completes its handshake at t0 + 5 ms.
  void ready() {
    c->open(0, out, t0);
    ASSERT_EQ(in(R"({"type":"connection_ack"})", t0 + 5'000'000).what, kind::ready);
  }
  bool send(std::string_view text, uint64_t now = t0) {
    return c->send(0, out, ws_opcode::text, bytes(text), now);
  }
};

TEST(CodecGraphqlWs, RegistryNamesItWithItsDefaults) {
  const codec_info* info = find_codec("graphql-ws");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->counters.size(), size_t(m::counter_count));
  EXPECT_EQ(info->histograms.size(), size_t(m::histogram_count));
  EXPECT_EQ(info->defaults.subprotocols, std::vector<std::string>{"graphql-transport-ws"});
  EXPECT_EQ(info->defaults.path, "/graphql");
  EXPECT_TRUE(info->defaults.subscribe_ack.empty());  // no ack in the protocol: settle
  EXPECT_NE(info->defaults.subscribe.find("\"id\":\"{group}\""), std::string::npos);
  EXPECT_EQ(info->defaults.publish.find("\"id\""), std::string::npos);  // the codec assigns it
}

TEST(CodecGraphqlWs, HandshakeSendsInitAndIsReadyOnAck) {
  fixture f;
  EXPECT_EQ(f.c->open(0, f.out, t0).what, kind::consumed);
  ASSERT_EQ(f.out.sent.size(), 1u);
  EXPECT_EQ(f.out.sent[0], R"({"type":"connection_init"})");
  EXPECT_EQ(f.c->next_due_ns(0), t0 + 10 * second);  // the default ack-timeout
  EXPECT_EQ(f.in(R"({"type":"connection_ack","payload":{"x":1}})", t0 + 3'000'000).what,
            kind::ready);
  EXPECT_EQ(f.stats.counts[m::acks], 1u);
  EXPECT_EQ(f.stats.times[m::ack_latency], std::vector<uint64_t>{3'000'000});
  EXPECT_EQ(f.c->next_due_ns(0), 0u);  // no client pings by default
}

TEST(CodecGraphqlWs, InitPayloadIsSentAsGiven) {
  fixture f(codec_options{{"init-payload", R"({"token":"abc"})"}});
  f.c->open(1, f.out, t0);
  EXPECT_EQ(f.out.sent.at(0), R"({"type":"connection_init","payload":{"token":"abc"}})");
}

TEST(CodecGraphqlWs, AckDeadlineFailsTheConnection) {
  fixture f(codec_options{{"ack-timeout", "500ms"}});
  f.c->open(0, f.out, t0);
  EXPECT_EQ(f.c->next_due_ns(0), t0 + second / 2);
  const codec_event e = f.c->on_due(0, f.out, t0 + second / 2);
  EXPECT_EQ(e.what, kind::failed);
  EXPECT_EQ(e.why, "no connection_ack within ack-timeout");
}

TEST(CodecGraphqlWs, BadOptionsAreRefusedWithTheirName) {
  recording_stats stats;
  auto bad = [&](codec_options o) {
    auto made = make_graphql_ws_codec({o, {}, stats, 1});
    return made ? std::string() : made.error().message;
  };
  EXPECT_NE(bad({{"init-payload", "[1]"}}).find("init-payload"), std::string::npos);
  EXPECT_NE(bad({{"init-payload", "{oops"}}).find("JSON object"), std::string::npos);
  EXPECT_NE(bad({{"ack-timeout", "10"}}).find("ack-timeout=10"), std::string::npos);
  EXPECT_NE(bad({{"ack-timeout", "0"}}).find("over 0"), std::string::npos);
  EXPECT_NE(bad({{"ping-interval", "fast"}}).find("duration"), std::string::npos);
  EXPECT_EQ(bad({{"ping-interval", "0"}, {"ack-timeout", "2m"}}), "");
}

TEST(CodecGraphqlWs, ServerPingIsAnsweredByFlushNotFromReceive) {
  fixture f;
  f.c->open(0, f.out, t0);
  // Allowed before the ack too: a ping may come at any time.
  codec_event e = f.in(R"({"type":"ping","payload":{"k":1}})");
  EXPECT_EQ(e.what, kind::consumed);
  EXPECT_TRUE(e.reply);
  EXPECT_TRUE(f.in(R"({"type":"ping"})").reply);
  EXPECT_EQ(f.out.sent.size(), 1u);  // only the init so far
  EXPECT_TRUE(f.c->flush(0, f.out, t0));
  ASSERT_EQ(f.out.sent.size(), 3u);
  EXPECT_EQ(f.out.sent[1], R"({"type":"pong"})");
  EXPECT_EQ(f.out.sent[2], R"({"type":"pong"})");
  EXPECT_EQ(f.stats.counts[m::pings_answered], 2u);
  EXPECT_TRUE(f.c->flush(0, f.out, t0));  // nothing more owed
  EXPECT_EQ(f.out.sent.size(), 3u);
}

TEST(CodecGraphqlWs, ClientPingsOnItsIntervalAndTimesThePong) {
  fixture f(codec_options{{"ping-interval", "2s"}});
  f.ready();
  const uint64_t due = f.c->next_due_ns(0);
  EXPECT_EQ(due, t0 + 5'000'000 + 2 * second);
  EXPECT_EQ(f.c->on_due(0, f.out, due).what, kind::consumed);
  EXPECT_EQ(f.out.sent.back(), R"({"type":"ping"})");
  EXPECT_EQ(f.stats.counts[m::pings_sent], 1u);
  EXPECT_EQ(f.in(R"({"type":"pong"})", due + 700).what, kind::consumed);
  EXPECT_EQ(f.stats.counts[m::pongs], 1u);
  EXPECT_EQ(f.stats.times[m::pong_latency], std::vector<uint64_t>{700});
  // The next ping goes out; unanswered by the one after, the connection fails.
  const uint64_t next = f.c->next_due_ns(0);
  EXPECT_EQ(next, due + 2 * second);
  EXPECT_EQ(f.c->on_due(0, f.out, next).what, kind::consumed);
  const codec_event e = f.c->on_due(0, f.out, f.c->next_due_ns(0));
  EXPECT_EQ(e.what, kind::failed);
  EXPECT_EQ(e.why, "no pong within ping-interval");
}

TEST(CodecGraphqlWs, UnsolicitedPongIsAHeartbeat) {
  fixture f;
  f.ready();
  EXPECT_EQ(f.in(R"({"type":"pong"})").what, kind::consumed);
  EXPECT_EQ(f.stats.counts[m::pongs], 0u);
}

TEST(CodecGraphqlWs, ScenarioMessagesWithIdsPassUnchanged) {
  fixture f;
  f.ready();
  const std::string sub =
      R"({"id":"g1","type":"subscribe","payload":{"query":"subscription{messages(group:\"g1\")}"}})";
  EXPECT_TRUE(f.send(sub));
  EXPECT_EQ(f.out.sent.back(), sub);
  EXPECT_TRUE(f.send(R"({"id":"g1","type":"complete"})"));
  EXPECT_EQ(f.out.sent.back(), R"({"id":"g1","type":"complete"})");
  EXPECT_EQ(f.stats.counts[m::assigned_sent], 0u);
}

TEST(CodecGraphqlWs, NextAndErrorForScenarioIdsAreHandedUpCompleteIsCounted) {
  fixture f;
  f.ready();
  const std::string next = R"({"id":"g1","type":"next","payload":{"data":{"messages":"hs1.x"}}})";
  codec_event e = f.in(next);
  ASSERT_EQ(e.what, kind::message);
  EXPECT_EQ(text_of(e), next);
  EXPECT_FALSE(e.binary);
  const std::string error = R"({"id":"q1","type":"error","payload":[{"message":"no"}]})";
  e = f.in(error);
  ASSERT_EQ(e.what, kind::message);
  EXPECT_EQ(text_of(e), error);
  EXPECT_EQ(f.in(R"({"id":"g1","type":"complete"})").what, kind::consumed);
  EXPECT_EQ(f.stats.counts[m::nexts], 1u);
  EXPECT_EQ(f.stats.counts[m::errors], 1u);
  EXPECT_EQ(f.stats.counts[m::completes], 1u);
}

TEST(CodecGraphqlWs, SubscribeWithoutIdGetsAUniqueIdAndItsAnswersAreConsumed) {
  fixture f;
  f.ready();
  const std::string publish = R"({"type":"subscribe","payload":{"query":"mutation{publish}"}})";
  ASSERT_TRUE(f.send(publish, t0 + 100));
  ASSERT_TRUE(f.send(publish, t0 + 100));       // same instant: the id still differs
  ASSERT_TRUE(f.send(" " + publish, t0 + 50));  // clock read earlier: still after the last
  ASSERT_EQ(f.out.sent.size(), 4u);
  EXPECT_EQ(f.out.sent[1], R"({"id":"~)" + std::to_string(t0 + 100) +
                               R"(","type":"subscribe","payload":{"query":"mutation{publish}"}})");
  EXPECT_NE(f.out.sent[2].find(R"("id":"~)" + std::to_string(t0 + 101) + "\""), std::string::npos);
  EXPECT_EQ(f.out.sent[3].rfind(R"( {"id":"~)" + std::to_string(t0 + 102) + "\",", 0), 0u);
  EXPECT_EQ(f.stats.counts[m::assigned_sent], 3u);
  const std::string id = "~" + std::to_string(t0 + 100);
  EXPECT_EQ(f.in(R"({"id":")" + id + R"(","type":"next","payload":{"data":{"publish":3}}})").what,
            kind::consumed);
  EXPECT_EQ(f.in(R"({"id":")" + id + R"(","type":"complete"})", t0 + 900).what, kind::consumed);
  EXPECT_EQ(f.in(R"({"id":"~)" + std::to_string(t0 + 101) + R"(","type":"error","payload":[]})",
                 t0 + 1100)
                .what,
            kind::consumed);
  EXPECT_EQ(f.stats.counts[m::assigned_nexts], 1u);
  EXPECT_EQ(f.stats.counts[m::nexts], 0u);
  EXPECT_EQ(f.stats.times[m::assigned_latency], (std::vector<uint64_t>{800, 999}));
  // A forged id (not a time, or a time to come) is consumed, never timed.
  EXPECT_EQ(f.in(R"({"id":"~abc","type":"complete"})").what, kind::consumed);
  EXPECT_EQ(f.in(R"({"id":"~99999999999999999999","type":"complete"})").what, kind::consumed);
  EXPECT_EQ(f.stats.times[m::assigned_latency].size(), 2u);
}

// A subscription the scenario started is a stream: the server's complete
// ends it and is handed up. A query's complete follows its one answer and
// stays the codec's, so a request/response sees only that answer.
TEST(CodecGraphqlWs, SubscriptionCompleteIsHandedUpQueryCompleteIsNot) {
  fixture f;
  f.ready();
  ASSERT_TRUE(f.send(
      R"({"id":"s1","type":"subscribe","payload":{"query":" # a stream\n subscription($n:Int!){countdown(from:$n)}"}})"));
  ASSERT_TRUE(f.send(R"({"id":"q1","type":"subscribe","payload":{"query":"query{echo}"}})"));
  ASSERT_TRUE(f.send(R"({"id":"q2","type":"subscribe","payload":{"query":"subscriptions{x}"}})"));
  EXPECT_EQ(f.in(R"({"id":"s1","type":"next","payload":{"data":{"countdown":1}}})").what,
            kind::message);
  const std::string complete = R"({"id":"s1","type":"complete"})";
  const codec_event e = f.in(complete);
  ASSERT_EQ(e.what, kind::message);
  EXPECT_EQ(text_of(e), complete);
  // Once: a second complete for the same id is the server's mistake, not a stream's end.
  EXPECT_EQ(f.in(complete).what, kind::consumed);
  EXPECT_EQ(f.in(R"({"id":"q1","type":"complete"})").what, kind::consumed);
  EXPECT_EQ(f.in(R"({"id":"q2","type":"complete"})").what, kind::consumed);
  EXPECT_EQ(f.stats.counts[m::completes], 4u);
  EXPECT_EQ(f.stats.counts[m::streams_ended], 1u);
}

TEST(CodecGraphqlWs, ASubscriptionEndedByTheClientAnErrorOrTheConnectionIsForgotten) {
  fixture f;
  f.ready();
  const auto subscribe = [&](const std::string& id) {
    return f.send(R"({"id":")" + id +
                  R"(","type":"subscribe","payload":{"query":"subscription{x}"}})");
  };
  ASSERT_TRUE(subscribe("a"));
  ASSERT_TRUE(f.send(R"({"id":"a","type":"complete"})"));  // the client stopped it
  EXPECT_EQ(f.in(R"({"id":"a","type":"complete"})").what, kind::consumed);
  ASSERT_TRUE(subscribe("b"));
  EXPECT_EQ(f.in(R"({"id":"b","type":"error","payload":[{"message":"no"}]})").what, kind::message);
  EXPECT_EQ(f.in(R"({"id":"b","type":"complete"})").what, kind::consumed);
  ASSERT_TRUE(subscribe("c"));
  f.c->gone(0);
  f.ready();
  EXPECT_EQ(f.in(R"({"id":"c","type":"complete"})").what, kind::consumed);
  // Bounded: past 256 live subscriptions the oldest is forgotten.
  for (int i = 0; i < 257; ++i)
    ASSERT_TRUE(subscribe("n" + std::to_string(i)));
  EXPECT_EQ(f.in(R"({"id":"n0","type":"complete"})").what, kind::consumed);
  EXPECT_EQ(f.in(R"({"id":"n1","type":"complete"})").what, kind::message);
  EXPECT_EQ(f.in(R"({"id":"n256","type":"complete"})").what, kind::message);
  EXPECT_EQ(f.stats.counts[m::streams_ended], 2u);
}

const codec_options echo_options = {{"echo-query", "query($t:String!){echo(text:$t)}"}};
const std::string echo_head =
    R"({"type":"subscribe","payload":{"query":"query($t:String!){echo(text:$t)}","variables":{"t":")";

// With echo-query, the stamped echo's messages travel as a query's
// variable and come back byte for byte from the next that answers it.
TEST(CodecGraphqlWs, EchoQueryCarriesBinaryAndTextMessagesThereAndBack) {
  fixture f(echo_options);
  f.ready();
  const std::string binary("\x00\x01\xff\"HRD1", 8);
  ASSERT_TRUE(f.c->send(0, f.out, ws_opcode::binary, bytes(binary), t0 + 7));
  const std::string binary_id = "~b" + std::to_string(t0 + 7);
  EXPECT_EQ(f.out.sent.back(), echo_head + R"(AAH_IkhSRDE"}},"id":")" + binary_id + R"("})");
  ASSERT_TRUE(f.send("hs1.\"quoted\"\n", t0 + 7));
  const std::string text_id = "~t" + std::to_string(t0 + 8);
  EXPECT_EQ(f.out.sent.back(), echo_head + R"(hs1.\"quoted\"\u000a"}},"id":")" + text_id + R"("})");
  EXPECT_EQ(f.stats.counts[m::echoes_sent], 2u);
  EXPECT_EQ(f.stats.counts[m::refused_sends], 0u);

  codec_event e = f.in(R"({"id":")" + text_id +
                       R"(","type":"next","payload":{"data":{"echo":"hs1.\"quoted\"\n"}}})");
  ASSERT_EQ(e.what, kind::message);
  EXPECT_FALSE(e.binary);
  EXPECT_EQ(text_of(e), "hs1.\"quoted\"\n");
  e = f.in(R"({"id":")" + binary_id +
           R"(","type":"next","payload":{"data":{"echo":"AAH_IkhSRDE"}}})");
  ASSERT_EQ(e.what, kind::message);
  EXPECT_TRUE(e.binary);
  EXPECT_EQ(text_of(e), binary);
  EXPECT_EQ(f.in(R"({"id":")" + binary_id + R"(","type":"complete"})").what, kind::consumed);
  EXPECT_EQ(f.stats.counts[m::echoes], 2u);
  EXPECT_EQ(f.stats.counts[m::nexts], 0u);
  EXPECT_EQ(f.stats.counts[m::streams_ended], 0u);
  // Protocol messages still pass as written.
  ASSERT_TRUE(f.send(R"({"id":"q","type":"complete"})"));
  EXPECT_EQ(f.out.sent.back(), R"({"id":"q","type":"complete"})");
}

TEST(CodecGraphqlWs, EchoAnswersWithoutTheMessageAreConsumedAndCounted) {
  fixture f(echo_options);
  f.ready();
  for (const std::string next : {
           R"({"id":"~b1","type":"next","payload":{"data":{"echo":"not base64!"}}})",
           R"({"id":"~b2","type":"next","payload":{"data":{"echo":"A"}}})",
           R"({"id":"~t3","type":"next","payload":{"data":{"other":"x"}}})",
           R"({"id":"~t4","type":"next","payload":{"data":{"echo":7}}})",
           R"({"id":"~t5","type":"next","payload":{"data":null,"errors":[{"message":"no"}]}})",
       })
    EXPECT_EQ(f.in(next).what, kind::consumed) << next;
  EXPECT_EQ(f.in(R"({"id":"~t6","type":"error","payload":[{"message":"no"}]})").what,
            kind::consumed);
  EXPECT_EQ(f.stats.counts[m::echo_unreadable], 5u);
  EXPECT_EQ(f.stats.counts[m::errors], 1u);
  EXPECT_EQ(f.stats.counts[m::echoes], 0u);
}

TEST(CodecGraphqlWs, EchoFieldPointsWhereAnotherSchemaAnswers) {
  fixture f({{"echo-query", "mutation($msg:String!){say(msg:$msg){text}}"},
             {"echo-field", "/payload/data/say/text"}});
  f.ready();
  ASSERT_TRUE(f.send("hs1.x", t0));
  EXPECT_NE(f.out.sent.back().find(R"("variables":{"msg":"hs1.x"})"), std::string::npos);
  const codec_event e =
      f.in(R"({"id":"~t1","type":"next","payload":{"data":{"say":{"text":"hs1.x"}}}})");
  ASSERT_EQ(e.what, kind::message);
  EXPECT_EQ(text_of(e), "hs1.x");
}

TEST(CodecGraphqlWs, BadEchoOptionsAreRefusedWithTheirName) {
  recording_stats stats;
  const std::vector<uint32_t> ids{1};
  for (const codec_options& bad : {codec_options{{"echo-query", "query{echo(text:\"x\")}"}},
                                   codec_options{{"echo-query", "query($1:String!){x}"}},
                                   codec_options{{"echo-field", "payload/data"}}}) {
    auto made = make_graphql_ws_codec({bad, ids, stats, 1});
    ASSERT_FALSE(made) << bad[0].second;
    EXPECT_NE(made.error().message.find(bad[0].first + "="), std::string::npos)
        << made.error().message;
  }
}

TEST(CodecGraphqlWs, UnsendableScenarioMessagesAreRefusedAndCounted) {
  fixture f;
  f.ready();
  const size_t before = f.out.sent.size();
  EXPECT_FALSE(f.send("sub g1"));
  EXPECT_FALSE(f.send(R"({"id":"x"})"));
  EXPECT_FALSE(f.send("[1,2]"));
  EXPECT_FALSE(f.c->send(0, f.out, ws_opcode::binary, bytes(R"({"type":"subscribe"})"), t0));
  EXPECT_EQ(f.out.sent.size(), before);
  EXPECT_EQ(f.stats.counts[m::refused_sends], 4u);
}

TEST(CodecGraphqlWs, SendOnAGoneConnectionIsFalse) {
  fixture f;
  f.ready();
  f.out.alive = false;
  EXPECT_FALSE(f.send(R"({"id":"a","type":"complete"})"));
  EXPECT_FALSE(f.send(R"({"type":"subscribe","payload":{}})"));
  f.in(R"({"type":"ping"})");
  EXPECT_FALSE(f.c->flush(0, f.out, t0));
}

TEST(CodecGraphqlWs, OutOfOrderOrUnknownMessagesFailWithAReason) {
  struct bad_case {
    std::string text;
    bool acked;
    std::string_view why;
  };
  const std::vector<bad_case> cases = {
      {R"({"id":"a","type":"next","payload":{}})", false, "a message before connection_ack"},
      {R"({"type":"connection_ack"})", true, "a second connection_ack"},
      {R"({"type":"connection_init"})", true, "a message of a type a server may not send"},
      {R"({"id":"a","type":"subscribe"})", true, "a message of a type a server may not send"},
      {R"({"type":"next","payload":{}})", true, "a next, error or complete without a string"},
      {R"({"id":7,"type":"next"})", true, "a next, error or complete without a string"},
      {R"({"id":"","type":"complete"})", true, "a next, error or complete without a string"},
      {R"({"type":5})", true, "a message without a string \"type\""},
      {R"({"id":"a"})", true, "a message without a string \"type\""},
      {R"(["ping"])", true, "a message without a string \"type\""},
      {"not json", true, "a message that is not JSON"},
      {"", true, "a message that is not JSON"},
      {R"({"type":"ping")", true, "a message that is not JSON"},
  };
  for (const bad_case& b : cases) {
    fixture f;
    if (b.acked) {
      f.ready();
    } else {
      f.c->open(0, f.out, t0);
    }
    const codec_event e = f.in(b.text);
    EXPECT_EQ(e.what, kind::failed) << b.text;
    EXPECT_EQ(e.why.substr(0, b.why.size()), b.why) << b.text << " -> " << e.why;
  }
}

TEST(CodecGraphqlWs, BinaryMessagesFail) {
  fixture f;
  f.ready();
  const codec_event e = f.c->receive(0, ws_opcode::binary, bytes(R"({"type":"ping"})"), t0);
  EXPECT_EQ(e.what, kind::failed);
  EXPECT_EQ(e.why, "a binary message: graphql-transport-ws is text only");
}

TEST(CodecGraphqlWs, PingFloodFailsInsteadOfGrowing) {
  fixture f;
  f.ready();
  for (int i = 0; i < 1024; ++i)
    ASSERT_TRUE(f.in(R"({"type":"ping"})").reply);
  EXPECT_EQ(f.in(R"({"type":"ping"})").what, kind::failed);
}

TEST(CodecGraphqlWs, SlotsAreIndependentAndGoneForgets) {
  fixture f;
  f.c->open(0, f.out, t0);
  f.c->open(1, f.out, t0);
  EXPECT_EQ(f.in(R"({"type":"connection_ack"})", t0, 1).what, kind::ready);
  // Slot 0 still waits for its ack.
  EXPECT_EQ(f.in(R"({"id":"a","type":"next"})", t0, 0).what, kind::failed);
  EXPECT_EQ(f.in(R"({"id":"a","type":"next"})", t0, 1).what, kind::message);
  f.c->gone(1);
  EXPECT_EQ(f.c->next_due_ns(1), 0u);
  EXPECT_EQ(f.in(R"({"id":"a","type":"next"})", t0, 1).what, kind::failed);
  // Reopened, it handshakes again.
  f.c->open(1, f.out, t0);
  EXPECT_EQ(f.in(R"({"type":"connection_ack"})", t0, 1).what, kind::ready);
}

}  // namespace
}  // namespace horde::proto

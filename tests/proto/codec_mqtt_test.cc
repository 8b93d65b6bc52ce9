#include "proto/codec_mqtt.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/codec.hh"

namespace horde::proto {
namespace {

using bytes = std::vector<uint8_t>;
constexpr uint64_t s = 1'000'000'000;

bytes of(std::string_view text) {
  return bytes(text.begin(), text.end());
}
std::string text_of(std::span<const uint8_t> body) {
  return std::string(body.begin(), body.end());
}
bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const bytes& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct sent_log final : codec_output {
  std::vector<bytes> messages;
  bool send(ws_opcode opcode, std::span<const uint8_t> body) noexcept override {
    EXPECT_EQ(opcode, ws_opcode::binary);
    messages.emplace_back(body.begin(), body.end());
    return true;
  }
};

struct stats_log final : codec_stats {
  std::vector<uint64_t> counts = std::vector<uint64_t>(32);
  std::vector<std::vector<uint64_t>> times = std::vector<std::vector<uint64_t>>(8);
  void count(uint32_t c, uint64_t n) noexcept override { counts[c] += n; }
  void time(uint32_t h, uint64_t ns) noexcept override { times[h].push_back(ns); }
};

// A metric's index in the codec's declaration.
size_t index_of(const std::vector<std::string_view>& names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return i;
  ADD_FAILURE() << "no metric " << name;
  return 0;
}
size_t counter(std::string_view name) {
  return index_of(mqtt_codec_info().counters, name);
}
size_t histogram(std::string_view name) {
  return index_of(mqtt_codec_info().histograms, name);
}

// One codec for two connections (run-wide ids 7 and 8), with what it sent
// and counted.
struct fixture {
  codec_options options;
  std::vector<uint32_t> ids{7, 8};
  stats_log stats;
  sent_log out;
  std::unique_ptr<codec> c;

  explicit fixture(codec_options o = {}) : options(std::move(o)) {
    auto made = mqtt_codec_info().make({options, ids, stats, 1});
    EXPECT_TRUE(made) << made.error().message;
    if (made) c = std::move(*made);
  }
  codec_event feed(const bytes& b, uint64_t now = 1 * s, uint32_t slot = 0) {
    return c->receive(slot, ws_opcode::binary, b, now);
  }
  uint64_t count(std::string_view name) { return stats.counts[counter(name)]; }
  // open + CONNACK accepted at 1 s.
  void connect(uint32_t slot = 0) {
    c->open(slot, out, 0);
    ASSERT_EQ(feed({0x20, 2, 0, 0}, 1 * s, slot).what, codec_event::kind::ready);
    out.messages.clear();
  }
  // The same in MQTT 5 (the CONNACK's empty property list).
  void connect5(uint32_t slot = 0) {
    c->open(slot, out, 0);
    ASSERT_EQ(feed({0x20, 3, 0, 0, 0}, 1 * s, slot).what, codec_event::kind::ready);
    out.messages.clear();
  }
  bool send(std::string_view text, uint64_t now = 2 * s, uint32_t slot = 0) {
    const bytes b = of(text);
    return c->send(slot, out, ws_opcode::text, b, now);
  }
};

TEST(CodecMqtt, RegisteredWithItsDefaults) {
  const codec_info* info = find_codec("mqtt");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->defaults.subprotocols, std::vector<std::string>{"mqtt"});
  EXPECT_EQ(info->defaults.subscribe, "SUB {group}");
  EXPECT_EQ(info->defaults.subscribe_ack, "SUBACK {group}");
  EXPECT_EQ(info->defaults.publish, "PUB {group} {payload}");
  EXPECT_EQ(info->defaults.unsubscribe_ack, "UNSUBACK {group}");
}

TEST(CodecMqtt, Connect311ThenConnackMakesReady) {
  fixture f;
  EXPECT_EQ(f.c->open(0, f.out, 0).what, codec_event::kind::consumed);
  ASSERT_EQ(f.out.messages.size(), 1u);
  const bytes expected = cat({{0x10, 19, 0, 4}, of("MQTT"), {4, 0x02, 0, 60, 0, 7}, of("horde-7")});
  EXPECT_EQ(f.out.messages[0], expected);
  EXPECT_EQ(f.c->next_due_ns(0), 10 * s);  // the CONNACK's deadline
  EXPECT_EQ(f.feed({0x20, 2, 0, 0}, 3 * s).what, codec_event::kind::ready);
  EXPECT_EQ(f.count("connacks"), 1u);
  EXPECT_EQ(f.stats.times[histogram("connack")], std::vector<uint64_t>{3 * s});
  EXPECT_EQ(f.c->next_due_ns(0), 63 * s);  // a PINGREQ after 60 s idle
}

TEST(CodecMqtt, Connect5AnnouncesMaxPacketAndTakesTheBrokersLimits) {
  fixture f(codec_options{{"version", "5"},
                          {"qos", "1"},
                          {"client-id", "c{conn}x"},
                          {"username", "u"},
                          {"password", "p"}});
  f.c->open(1, f.out, 0);
  const bytes expected = cat({{0x10, 27, 0, 4},
                              of("MQTT"),
                              {5, 0xc2, 0, 60, 5, 0x27, 0, 0x10, 0, 0, 0, 3},
                              of("c8x"),
                              {0, 1, 'u', 0, 1, 'p'}});
  EXPECT_EQ(f.out.messages.at(0), expected);
  // Receive Maximum 2, Server Keep Alive 5 s.
  const bytes connack = {0x20, 9, 0, 0, 6, 0x21, 0, 2, 0x13, 0, 5};
  ASSERT_EQ(f.feed(connack, 1 * s, 1).what, codec_event::kind::ready);
  EXPECT_EQ(f.c->next_due_ns(1), 6 * s);
  f.out.messages.clear();
  EXPECT_TRUE(f.send("PUB t a", 2 * s, 1));
  EXPECT_TRUE(f.send("PUB t b", 2 * s, 1));
  // The broker's window is full: held, in order, not refused.
  EXPECT_TRUE(f.send("PUB t c", 2 * s, 1));
  EXPECT_TRUE(f.send("PUB t d", 2 * s, 1));
  EXPECT_EQ(f.out.messages.size(), 2u);
  EXPECT_EQ(f.count("publishes"), 4u);
  EXPECT_EQ(f.count("publishes_held"), 2u);
  // An MQTT 5 PUBACK with reason code 0x10 (no subscribers) and properties:
  // the window opens, and flush() sends the first held publish.
  const codec_event acked = f.feed({0x40, 4, 0, 1, 0x10, 0}, 3 * s, 1);
  EXPECT_EQ(acked.what, codec_event::kind::consumed);
  EXPECT_TRUE(acked.reply);
  EXPECT_EQ(f.count("pubacks"), 1u);
  EXPECT_TRUE(f.c->flush(1, f.out, 3 * s));
  ASSERT_EQ(f.out.messages.size(), 3u);
  EXPECT_EQ(f.out.messages[2], cat({{0x32, 7, 0, 1}, of("t"), {0, 3, 0}, of("c")}));
  // Timed from the scenario's send, the wait for the window included.
  f.feed({0x40, 2, 0, 3}, 5 * s, 1);
  EXPECT_EQ(f.stats.times[histogram("puback")].back(), 3 * s);
  f.c->flush(1, f.out, 5 * s);
  EXPECT_EQ(f.out.messages.size(), 4u);  // "d"
  // At the end: "b" and "d" never acknowledged.
  f.c->gone(1);
  EXPECT_EQ(f.count("publishes_unacked"), 2u);
}

TEST(CodecMqtt, APublisherFarPastItsWindowIsRefused) {
  fixture f(codec_options{{"qos", "1"}, {"version", "5"}});
  f.c->open(0, f.out, 0);
  ASSERT_EQ(f.feed({0x20, 6, 0, 0, 3, 0x21, 0, 1}).what, codec_event::kind::ready);
  int accepted = 0;
  while (accepted < 10'000 && f.send("PUB t x"))
    ++accepted;
  EXPECT_EQ(accepted, 1 + 4096);  // one in flight, 4096 held
  EXPECT_EQ(f.count("publishes_window_full"), 1u);
}

TEST(CodecMqtt, RefusedConnectFailsWithTheReason) {
  fixture f;
  f.c->open(0, f.out, 0);
  const codec_event e = f.feed({0x20, 2, 0, 5});
  ASSERT_EQ(e.what, codec_event::kind::failed);
  EXPECT_NE(e.why.find("not authorized"), std::string_view::npos);
  EXPECT_EQ(f.count("connects_refused"), 1u);
}

TEST(CodecMqtt, NoConnackInTimeFails) {
  fixture f(codec_options{{"connect-timeout", "2"}});
  f.c->open(0, f.out, 0);
  EXPECT_EQ(f.c->on_due(0, f.out, 1 * s).what, codec_event::kind::consumed);
  EXPECT_EQ(f.c->on_due(0, f.out, 2 * s).what, codec_event::kind::failed);
}

TEST(CodecMqtt, PingreqWhenIdleAndPingrespInTime) {
  fixture f(codec_options{{"keepalive", "10"}});
  f.connect();
  EXPECT_EQ(f.c->next_due_ns(0), 11 * s);
  f.send("SUB a", 5 * s);  // a packet sent restarts the idle time
  EXPECT_EQ(f.c->next_due_ns(0), 15 * s);
  f.out.messages.clear();
  EXPECT_EQ(f.c->on_due(0, f.out, 15 * s).what, codec_event::kind::consumed);
  EXPECT_EQ(f.out.messages, (std::vector<bytes>{bytes{0xc0, 0}}));
  EXPECT_EQ(f.c->next_due_ns(0), 25 * s);  // the PINGRESP's deadline
  EXPECT_EQ(f.feed({0xd0, 0}, 16 * s).what, codec_event::kind::consumed);
  EXPECT_EQ(f.stats.times[histogram("pingresp")], std::vector<uint64_t>{1 * s});
  EXPECT_EQ(f.c->next_due_ns(0), 26 * s);
  EXPECT_EQ(f.count("pingreqs"), 1u);
  EXPECT_EQ(f.count("pingresps"), 1u);
  f.c->on_due(0, f.out, 26 * s);
  const codec_event late = f.c->on_due(0, f.out, 36 * s);
  ASSERT_EQ(late.what, codec_event::kind::failed);
  EXPECT_NE(late.why.find("PINGRESP"), std::string_view::npos);
}

TEST(CodecMqtt, KeepaliveZeroSendsNoPings) {
  fixture f(codec_options{{"keepalive", "0"}});
  f.connect();
  EXPECT_EQ(f.c->next_due_ns(0), 0u);
}

TEST(CodecMqtt, SubscribeAckedAsTextWithTheTopic) {
  fixture f(codec_options{{"qos", "1"}});
  f.connect();
  ASSERT_TRUE(f.send("SUB g1"));
  EXPECT_EQ(f.out.messages.at(0), cat({{0x82, 7, 0, 1, 0, 2}, of("g1"), {1}}));
  ASSERT_TRUE(f.send("SUB room/+"));
  const codec_event ok = f.feed({0x90, 3, 0, 1, 1}, 3 * s);
  ASSERT_EQ(ok.what, codec_event::kind::message);
  EXPECT_EQ(text_of(ok.body), "SUBACK g1");
  EXPECT_EQ(f.stats.times[histogram("suback")], std::vector<uint64_t>{1 * s});
  const codec_event refused = f.feed({0x90, 3, 0, 2, 0x80});
  ASSERT_EQ(refused.what, codec_event::kind::message);
  EXPECT_EQ(text_of(refused.body), "SUBFAIL room/+");
  EXPECT_EQ(f.count("subacks"), 1u);
  EXPECT_EQ(f.count("subscribes_refused"), 1u);
  // The same id again: nothing awaits it any more.
  EXPECT_EQ(f.feed({0x90, 3, 0, 2, 0}).what, codec_event::kind::failed);
}

TEST(CodecMqtt, UnsubscribeAckedAsText) {
  fixture f;
  f.connect();
  ASSERT_TRUE(f.send("UNSUB g1"));
  EXPECT_EQ(f.out.messages.at(0), cat({{0xa2, 6, 0, 1, 0, 2}, of("g1")}));
  const codec_event e = f.feed({0xb0, 2, 0, 1});
  ASSERT_EQ(e.what, codec_event::kind::message);
  EXPECT_EQ(text_of(e.body), "UNSUBACK g1");
  EXPECT_EQ(f.count("unsubacks"), 1u);
}

TEST(CodecMqtt, PublishQos0CarriesThePayloadWithItsSpaces) {
  fixture f;
  f.connect();
  ASSERT_TRUE(f.send("PUB g1 hello world"));
  EXPECT_EQ(f.out.messages.at(0), cat({{0x30, 15, 0, 2}, of("g1"), of("hello world")}));
  ASSERT_TRUE(f.send("PUB g1"));  // an empty payload
  EXPECT_EQ(f.out.messages.at(1), cat({{0x30, 4, 0, 2}, of("g1")}));
  EXPECT_EQ(f.count("publishes"), 2u);
}

TEST(CodecMqtt, PublishQos1IsTimedUntilItsPuback) {
  fixture f(codec_options{{"qos", "1"}, {"version", "5"}});
  f.connect5();
  ASSERT_TRUE(f.send("PUB g1 x", 2 * s));
  EXPECT_EQ(f.out.messages.at(0), cat({{0x32, 8, 0, 2}, of("g1"), {0, 1, 0}, of("x")}));
  EXPECT_EQ(f.feed({0x40, 2, 0, 1}, 2 * s + 5).what, codec_event::kind::consumed);
  EXPECT_EQ(f.stats.times[histogram("puback")], std::vector<uint64_t>{5});
  EXPECT_EQ(f.feed({0x40, 2, 0, 1}).what, codec_event::kind::failed);  // acked twice
}

TEST(CodecMqtt, PublishesUnackedAtTheEndAreCounted) {
  fixture f(codec_options{{"qos", "1"}});
  f.connect();
  f.send("PUB a 1");
  f.send("PUB a 2");
  f.c->gone(0);
  EXPECT_EQ(f.count("publishes_unacked"), 2u);
  f.c->gone(0);
  EXPECT_EQ(f.count("publishes_unacked"), 2u);
}

TEST(CodecMqtt, DeliveriesAreHandedUpAsTheirPayloadAndQos1IsAcked) {
  fixture f;
  f.connect();
  // The body handed up lies in the message: kept alive here.
  const bytes m0 = cat({{0x30, 7, 0, 2}, of("g1"), of("abc")});
  const codec_event q0 = f.feed(m0);
  ASSERT_EQ(q0.what, codec_event::kind::message);
  EXPECT_EQ(text_of(q0.body), "abc");
  EXPECT_FALSE(q0.reply);
  const bytes m1 = cat({{0x32, 9, 0, 2}, of("g1"), {0, 5}, of("abc")});
  const codec_event q1 = f.feed(m1);
  ASSERT_EQ(q1.what, codec_event::kind::message);
  EXPECT_EQ(text_of(q1.body), "abc");
  EXPECT_TRUE(q1.reply);
  f.feed(cat({{0x32, 9, 0, 2}, of("g1"), {0, 6}, of("def")}));
  EXPECT_TRUE(f.c->flush(0, f.out, 2 * s));
  // Both PUBACKs in one message (MQTT over WebSocket allows it).
  EXPECT_EQ(f.out.messages, (std::vector<bytes>{bytes{0x40, 2, 0, 5, 0x40, 2, 0, 6}}));
  EXPECT_EQ(f.count("deliveries"), 3u);
  EXPECT_EQ(f.count("pubacks_sent"), 2u);
}

TEST(CodecMqtt, SeveralPacketsInOneMessageComeOutOneByOne) {
  fixture f;
  f.connect();
  ASSERT_TRUE(f.send("SUB g1"));
  const bytes message = cat({{0x90, 3, 0, 1, 0, 0xd0, 0},
                             {0x30, 5, 0, 2},
                             of("g1"),
                             of("A"),
                             {0x30, 5, 0, 2},
                             of("g1"),
                             of("B"),
                             {0x30, 4, 0, 1}});
  const codec_event first = f.feed(message);
  ASSERT_EQ(first.what, codec_event::kind::message);
  EXPECT_EQ(text_of(first.body), "SUBACK g1");
  EXPECT_TRUE(first.more);
  const codec_event second = f.c->next(0, 1 * s);
  EXPECT_EQ(text_of(second.body), "A");
  EXPECT_TRUE(second.more);
  const codec_event third = f.c->next(0, 1 * s);
  EXPECT_EQ(text_of(third.body), "B");
  EXPECT_TRUE(third.more);  // a partial packet follows
  EXPECT_EQ(f.c->next(0, 1 * s).what, codec_event::kind::consumed);
  const bytes end = cat({of("g"), of("C")});
  const codec_event rest = f.feed(end);
  ASSERT_EQ(rest.what, codec_event::kind::message);
  EXPECT_EQ(text_of(rest.body), "C");
  EXPECT_FALSE(rest.more);
}

TEST(CodecMqtt, APacketSplitAtEveryPointIsReassembled) {
  const bytes packet = cat({{0x30, 13, 0, 4}, of("room"), of("payload")});
  for (size_t cut = 1; cut < packet.size(); ++cut) {
    fixture f;
    f.connect();
    const bytes head(packet.begin(), packet.begin() + ptrdiff_t(cut));
    const bytes tail(packet.begin() + ptrdiff_t(cut), packet.end());
    EXPECT_EQ(f.feed(head).what, codec_event::kind::consumed) << cut;
    const codec_event e = f.feed(tail);
    ASSERT_EQ(e.what, codec_event::kind::message) << cut;
    EXPECT_EQ(text_of(e.body), "payload");
  }
}

TEST(CodecMqtt, TheTextViewRefusesWhatItCannotEncode) {
  fixture f(codec_options{{"echo-topic", "none"}});
  f.c->open(0, f.out, 0);
  EXPECT_FALSE(f.send("SUB g1"));  // before the CONNACK
  f.feed({0x20, 2, 0, 0});
  EXPECT_FALSE(f.send("hello"));
  EXPECT_FALSE(f.send("SUB "));
  EXPECT_FALSE(f.send("PUB a/# x"));  // no wildcard in a topic name
  EXPECT_EQ(f.count("unencodable"), 4u);
}

// The echo of a message outside the text view: the PUBLISH of `payload` to
// `topic` at QoS 0, as a broker delivers it.
bytes delivery(std::string_view topic, std::string_view payload) {
  bytes b = {0x30, uint8_t(2 + topic.size() + payload.size()), 0, uint8_t(topic.size())};
  return cat({b, of(topic), of(payload)});
}

TEST(CodecMqtt, AMessageOutsideTheTextViewSubscribesToItsOwnTopicFirst) {
  fixture f;
  f.connect();
  // The first: a SUBSCRIBE to the connection's own topic; the message waits
  // for its SUBACK, so it cannot reach the broker before the subscription.
  ASSERT_TRUE(f.send("hs1.stamp-one", 2 * s));
  ASSERT_TRUE(f.send("hs1.stamp-two", 3 * s));
  ASSERT_EQ(f.out.messages.size(), 1u);
  EXPECT_EQ(f.out.messages[0], cat({{0x82, 17, 0, 1, 0, 12}, of("horde/echo/7"), {0}}));
  EXPECT_EQ(f.count("echo_subscribes"), 1u);
  EXPECT_EQ(f.count("subscribes"), 0u);  // the pub/sub figures stay the scenario's
  EXPECT_EQ(f.count("echo_held"), 2u);
  // The SUBACK is the codec's own: nothing for the scenario, both messages
  // go out from flush(), in order, as one WebSocket message.
  const codec_event acked = f.feed({0x90, 3, 0, 1, 0}, 4 * s);
  EXPECT_EQ(acked.what, codec_event::kind::consumed);
  EXPECT_TRUE(acked.reply);
  EXPECT_EQ(f.stats.times[histogram("echo_suback")], std::vector<uint64_t>{2 * s});
  EXPECT_TRUE(f.c->flush(0, f.out, 4 * s));
  ASSERT_EQ(f.out.messages.size(), 2u);
  EXPECT_EQ(f.out.messages[1], cat({delivery("horde/echo/7", "hs1.stamp-one"),
                                    delivery("horde/echo/7", "hs1.stamp-two")}));
  // Later ones go at once, with no second SUBSCRIBE.
  ASSERT_TRUE(f.send("hs1.stamp-three", 5 * s));
  ASSERT_EQ(f.out.messages.size(), 3u);
  EXPECT_EQ(f.out.messages[2], delivery("horde/echo/7", "hs1.stamp-three"));
  EXPECT_EQ(f.count("echo_subscribes"), 1u);
  EXPECT_EQ(f.count("echo_publishes"), 3u);
  EXPECT_EQ(f.count("publishes"), 3u);
  EXPECT_EQ(f.count("unencodable"), 0u);
}

TEST(CodecMqtt, TheEchoIsHandedUpAsItWasSent) {
  fixture f(codec_options{{"echo-topic", "load/{conn}/echo"}});
  f.connect(1);
  const bytes stamp = {'H', 'R', 'D', '1', 0, 0xff, 1};
  ASSERT_TRUE(f.c->send(1, f.out, ws_opcode::binary, stamp, 2 * s));
  EXPECT_EQ(f.out.messages.at(0), cat({{0x82, 16, 0, 1, 0, 11}, of("load/8/echo"), {0}}));
  f.feed({0x90, 3, 0, 1, 0}, 3 * s, 1);
  f.c->flush(1, f.out, 3 * s);
  // Back from the broker on the connection's own topic: handed up as the
  // binary message it was sent as; any other topic's delivery stays text.
  const bytes echoed = cat({{0x30, uint8_t(13 + stamp.size()), 0, 11}, of("load/8/echo"), stamp});
  const codec_event e = f.feed(echoed, 4 * s, 1);
  ASSERT_EQ(e.what, codec_event::kind::message);
  EXPECT_EQ(e.body.size(), stamp.size());
  EXPECT_TRUE(std::equal(e.body.begin(), e.body.end(), stamp.begin()));
  EXPECT_TRUE(e.binary);
  const bytes other = delivery("load/7/echo", "x");
  const codec_event o = f.feed(other, 4 * s, 1);
  ASSERT_EQ(o.what, codec_event::kind::message);
  EXPECT_FALSE(o.binary);
  EXPECT_EQ(f.count("echo_deliveries"), 1u);
  EXPECT_EQ(f.count("deliveries"), 2u);
}

TEST(CodecMqtt, EchoAtQos1IsAcknowledgedAndTimedFromTheScenariosSend) {
  fixture f(codec_options{{"qos", "1"}});
  f.connect();
  ASSERT_TRUE(f.send("{\"id\":1}", 2 * s));
  EXPECT_EQ(f.out.messages.at(0), cat({{0x82, 17, 0, 1, 0, 12}, of("horde/echo/7"), {1}}));
  f.feed({0x90, 3, 0, 1, 1}, 3 * s);
  f.c->flush(0, f.out, 3 * s);
  EXPECT_EQ(f.out.messages.at(1),
            cat({{0x32, 24, 0, 12}, of("horde/echo/7"), {0, 2}, of("{\"id\":1}")}));
  f.feed({0x40, 2, 0, 2}, 5 * s);
  EXPECT_EQ(f.stats.times[histogram("puback")], std::vector<uint64_t>{3 * s});
  // The delivery at QoS 1: handed up, and PUBACKed.
  const bytes echoed = cat({{0x32, 24, 0, 12}, of("horde/echo/7"), {0, 9}, of("{\"id\":1}")});
  const codec_event e = f.feed(echoed, 5 * s);
  ASSERT_EQ(e.what, codec_event::kind::message);
  EXPECT_EQ(text_of(e.body), "{\"id\":1}");
  EXPECT_TRUE(e.reply);
  f.c->flush(0, f.out, 5 * s);
  EXPECT_EQ(f.out.messages.back(), (bytes{0x40, 2, 0, 9}));
}

TEST(CodecMqtt, ARequestTopicSendsToAServiceThatAnswersOnTheEchoTopic) {
  fixture f(codec_options{{"version", "5"}, {"request-topic", "svc/{conn}"}});
  f.connect5();
  ASSERT_TRUE(f.send("q1", 2 * s));
  // The replies' topic is subscribed first, as for an echo.
  EXPECT_EQ(f.out.messages.at(0), cat({{0x82, 18, 0, 1, 0, 0, 12}, of("horde/echo/7"), {0}}));
  f.feed({0x90, 4, 0, 1, 0, 0}, 3 * s);
  f.c->flush(0, f.out, 3 * s);
  // To the service's topic, with the echo topic as the Response Topic.
  EXPECT_EQ(f.out.messages.at(1),
            cat({{0x30, 25, 0, 5}, of("svc/7"), {15, 0x08, 0, 12}, of("horde/echo/7"), of("q1")}));
  // Its answer on the echo topic is handed up.
  const bytes answer = cat({{0x30, 20, 0, 12}, of("horde/echo/7"), {0}, of("a1 ok")});
  const codec_event e = f.feed(answer, 4 * s);
  ASSERT_EQ(e.what, codec_event::kind::message);
  EXPECT_EQ(text_of(e.body), "a1 ok");
  EXPECT_EQ(f.count("echo_deliveries"), 1u);
  EXPECT_EQ(f.count("echo_publishes"), 1u);
}

TEST(CodecMqtt, ARefusedEchoSubscriptionFailsTheConnection) {
  fixture f;
  f.connect();
  ASSERT_TRUE(f.send("hello"));
  const codec_event e = f.feed({0x90, 3, 0, 1, 0x80});
  ASSERT_EQ(e.what, codec_event::kind::failed);
  EXPECT_NE(e.why.find("echo"), std::string_view::npos);
  EXPECT_EQ(f.count("subscribes_refused"), 1u);
}

TEST(CodecMqtt, PubSubSendsNoEchoSubscribe) {
  fixture f;
  f.connect();
  ASSERT_TRUE(f.send("SUB g1"));
  ASSERT_TRUE(f.send("PUB g1 hs1.x"));
  f.feed({0x90, 3, 0, 1, 0});
  EXPECT_EQ(f.out.messages.size(), 2u);
  EXPECT_EQ(f.count("echo_subscribes"), 0u);
  // A delivery is text, as before.
  const codec_event e = f.feed(delivery("g1", "hs1.x"));
  EXPECT_FALSE(e.binary);
  EXPECT_EQ(f.count("echo_deliveries"), 0u);
}

TEST(CodecMqtt, WaitingEchoesAreBoundedAndDroppedWithTheConnection) {
  fixture f;
  f.connect();
  int accepted = 0;
  while (accepted < 10'000 && f.send("m"))
    ++accepted;
  EXPECT_EQ(accepted, 4096);
  EXPECT_EQ(f.count("publishes_window_full"), 1u);
  f.c->gone(0);
  // And by bytes: 1 MiB in all, or one message whatever its size.
  f.connect();
  EXPECT_TRUE(f.c->send(0, f.out, ws_opcode::binary, bytes(1'000'000, 'x'), 2 * s));
  EXPECT_TRUE(f.c->send(0, f.out, ws_opcode::binary, bytes(48'576, 'x'), 2 * s));
  EXPECT_FALSE(f.c->send(0, f.out, ws_opcode::binary, bytes(1, 'x'), 2 * s));
  EXPECT_EQ(f.count("publishes_window_full"), 2u);
  f.c->gone(0);
  // A new connection in the slot starts over: a SUBSCRIBE again.
  f.connect();
  ASSERT_TRUE(f.send("m"));
  EXPECT_EQ(f.count("echo_subscribes"), 3u);
}

struct bad_input {
  const char* name;
  bytes message;
};

TEST(CodecMqtt, MalformedInputFailsTheConnectionWithAReason) {
  const bad_input cases[] = {
      {"five length bytes", {0x30, 0xff, 0xff, 0xff, 0xff, 0x01}},
      {"over max-packet", {0x30, 0x80, 0x80, 0x80, 0x01}},
      {"topic longer than the packet", {0x30, 3, 0, 9, 'a'}},
      {"QoS 1 without its id", {0x32, 3, 0, 1, 'a'}},
      {"QoS 2", {0x34, 5, 0, 1, 'a', 0, 1}},
      {"QoS 3", {0x36, 5, 0, 1, 'a', 0, 1}},
      {"a second CONNACK", {0x20, 2, 0, 0}},
      {"SUBSCRIBE from the broker", {0x82, 5, 0, 1, 0, 0, 0}},
      {"PUBACK of nothing", {0x40, 2, 0, 9}},
      {"PUBACK with reserved flags", {0x42, 2, 0, 1}},
      {"DISCONNECT", {0xe0, 0}},
      {"AUTH", {0xf0, 0}},
      {"SUBACK too short", {0x90, 1, 0}},
  };
  for (const bad_input& c : cases) {
    fixture f;
    f.connect();
    const codec_event e = f.feed(c.message);
    EXPECT_EQ(e.what, codec_event::kind::failed) << c.name;
    EXPECT_FALSE(e.why.empty()) << c.name;
    // Nothing more is read on it.
    EXPECT_EQ(f.feed({0x30, 3, 0, 1, 'a'}).what, codec_event::kind::consumed) << c.name;
  }
  fixture text;
  text.connect();
  EXPECT_EQ(text.c->receive(0, ws_opcode::text, of("hi"), 1).what, codec_event::kind::failed);
  fixture early;
  early.c->open(0, early.out, 0);
  EXPECT_EQ(early.feed({0x30, 3, 0, 1, 'a'}).what, codec_event::kind::failed);
  fixture bad_connack;
  bad_connack.c->open(0, bad_connack.out, 0);
  EXPECT_EQ(bad_connack.feed({0x20, 3, 0, 0, 0}).what, codec_event::kind::failed);
}

TEST(CodecMqtt, OptionsAreChecked) {
  stats_log stats;
  for (const codec_options& bad :
       std::vector<codec_options>{{{"version", "3"}},
                                  {{"echo-topic", "a/#/{conn}"}},
                                  {{"echo-topic", ""}},
                                  {{"echo-topic", "none"}, {"request-topic", "svc"}},
                                  {{"request-topic", "a/+"}},
                                  {{"qos", "2"}},
                                  {{"keepalive", "-1"}},
                                  {{"clean", "yes"}},
                                  {{"password", "p"}},
                                  {{"max-packet", "10"}}}) {
    auto made = mqtt_codec_info().make({bad, {}, stats, 0});
    EXPECT_FALSE(made) << bad[0].first;
  }
}

}  // namespace
}  // namespace horde::proto

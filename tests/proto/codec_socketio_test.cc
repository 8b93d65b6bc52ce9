// The Socket.IO codec without sockets: the Engine.IO handshake and the
// namespace connect, pings answered through flush(), the text view of events
// and acks, sends in every form, attachments skipped, deadlines, and a
// hostile server's packets refused with a reason.
#include "proto/codec_socketio.hh"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace horde::proto {
namespace {

constexpr uint64_t ms = 1'000'000;
const std::string open_packet =
    R"(0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000})";

struct recorder final : codec_output, codec_stats {
  bool send(ws_opcode opcode, std::span<const uint8_t> body) noexcept override {
    sent.emplace_back(opcode, std::string(body.begin(), body.end()));
    return alive;
  }
  void count(uint32_t counter, uint64_t n) noexcept override { counters[counter] += n; }
  void time(uint32_t histogram, uint64_t ns) noexcept override { times[histogram].push_back(ns); }
  std::vector<std::pair<ws_opcode, std::string>> sent;
  uint64_t counters[16] = {};
  std::vector<uint64_t> times[4];
  bool alive = true;
};

struct fixture {
  explicit fixture(codec_options options = {}, size_t slots = 2)
      : ids(slots), setup{options_storage = std::move(options), ids, rec, 1} {
    auto made = socketio_codec_info().make(setup);
    EXPECT_TRUE(made) << (made ? "" : made.error().message);
    if (made) sio = std::move(*made);
  }
  // The frame is kept: a message's body may point into it.
  codec_event receive(const std::string& text, uint64_t now, uint32_t slot = 0) {
    frame = text;
    return sio->receive(slot, ws_opcode::text,
                        {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}, now);
  }
  bool send(const std::string& text, uint32_t slot = 0) {
    return sio->send(slot, rec, ws_opcode::text,
                     {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, 0);
  }
  // Open, open packet, connect packet flushed, namespace connected.
  void connect(uint64_t at = 1000 * ms, const std::string& answer = R"(40{"sid":"x"})") {
    EXPECT_EQ(sio->open(0, rec, at).what, codec_event::kind::consumed);
    const codec_event opened = receive(open_packet, at + ms);
    EXPECT_TRUE(opened.reply);
    EXPECT_TRUE(sio->flush(0, rec, at + ms));
    EXPECT_EQ(receive(answer, at + 3 * ms).what, codec_event::kind::ready);
  }
  static std::string text(const codec_event& e) { return {e.body.begin(), e.body.end()}; }

  codec_options options_storage;
  std::vector<uint32_t> ids;
  recorder rec;
  codec_setup setup;
  std::unique_ptr<codec> sio;
  std::string frame;
};

TEST(CodecSocketio, HandshakeSendsConnectAfterOpenPacketAndTimesIt) {
  fixture f;
  f.connect();
  ASSERT_EQ(f.rec.sent.size(), 1u);
  EXPECT_EQ(f.rec.sent[0].second, "40");
  EXPECT_EQ(f.rec.counters[socketio_codec::handshakes], 1u);
  ASSERT_EQ(f.rec.times[socketio_codec::handshake_ns].size(), 1u);
  EXPECT_EQ(f.rec.times[socketio_codec::handshake_ns][0], 3 * ms);
  // Ready: the next ping is due within pingInterval + pingTimeout.
  EXPECT_EQ(f.sio->next_due_ns(0), 1003 * ms + 500 * ms);
}

TEST(CodecSocketio, NamespaceAndAuthRideTheConnectPacket) {
  fixture f(codec_options{{"namespace", "/chat"}, {"auth", R"({"token":"t"})"}});
  f.connect(1000 * ms, R"(40/chat,{"sid":"x"})");
  EXPECT_EQ(f.rec.sent[0].second, R"(40/chat,{"token":"t"})");
  // A send gains the namespace; a plain message too.
  EXPECT_TRUE(f.send(R"(42["a"])"));
  EXPECT_TRUE(f.send("hi"));
  EXPECT_EQ(f.rec.sent[1].second, R"(42/chat,["a"])");
  EXPECT_EQ(f.rec.sent[2].second, R"(42/chat,["message","hi"])");
}

TEST(CodecSocketio, ConnectErrorFailsTheHandshake) {
  fixture f;
  f.sio->open(0, f.rec, 0);
  f.receive(open_packet, 1);
  f.sio->flush(0, f.rec, 1);
  const codec_event e = f.receive(R"(44{"message":"Not authorized"})", 2);
  EXPECT_EQ(e.what, codec_event::kind::failed);
  EXPECT_NE(e.why.find("connect_error"), std::string_view::npos);
  EXPECT_EQ(f.rec.counters[socketio_codec::connect_errors], 1u);
  EXPECT_EQ(f.sio->next_due_ns(0), 0u);
}

TEST(CodecSocketio, PingAnsweredByFlushAndItsDelayTimed) {
  fixture f;
  f.connect();
  const codec_event ping = f.receive("2", 1200 * ms);
  EXPECT_EQ(ping.what, codec_event::kind::consumed);
  EXPECT_TRUE(ping.reply);
  EXPECT_EQ(f.sio->next_due_ns(0), 1700 * ms);  // the deadline moved
  EXPECT_TRUE(f.sio->flush(0, f.rec, 1200 * ms + 50'000));
  EXPECT_EQ(f.rec.sent.back().second, "3");
  EXPECT_EQ(f.rec.counters[socketio_codec::pongs], 1u);
  EXPECT_EQ(f.rec.times[socketio_codec::pong_delay_ns].at(0), 50'000u);
  // Nothing owed: a second flush sends nothing.
  const size_t sent = f.rec.sent.size();
  EXPECT_TRUE(f.sio->flush(0, f.rec, 1300 * ms));
  EXPECT_EQ(f.rec.sent.size(), sent);
}

TEST(CodecSocketio, SilentServerFailsAfterIntervalPlusTimeout) {
  fixture f;
  f.connect();
  const uint64_t due = f.sio->next_due_ns(0);
  EXPECT_EQ(f.sio->on_due(0, f.rec, due - 1).what, codec_event::kind::consumed);
  // Past the deadline: a second look 10 ms on, after the shard's receives.
  EXPECT_EQ(f.sio->on_due(0, f.rec, due).what, codec_event::kind::consumed);
  EXPECT_EQ(f.sio->next_due_ns(0), due + 10 * ms);
  const codec_event e = f.sio->on_due(0, f.rec, due + 10 * ms);
  EXPECT_EQ(e.what, codec_event::kind::failed);
  EXPECT_EQ(f.rec.counters[socketio_codec::server_silent], 1u);
}

TEST(CodecSocketio, PingReadAfterALateWakeClearsTheSuspicion) {
  fixture f;
  f.connect();
  const uint64_t due = f.sio->next_due_ns(0);
  // The shard woke 100 ms late: its timer runs before the ping waiting to be read.
  EXPECT_EQ(f.sio->on_due(0, f.rec, due + 100 * ms).what, codec_event::kind::consumed);
  EXPECT_TRUE(f.receive("2", due + 100 * ms).reply);
  EXPECT_EQ(f.sio->next_due_ns(0), due + 100 * ms + 500 * ms);
  // At the new deadline, suspected afresh, not failed.
  EXPECT_EQ(f.sio->on_due(0, f.rec, due + 600 * ms).what, codec_event::kind::consumed);
  EXPECT_EQ(f.rec.counters[socketio_codec::server_silent], 0u);
}

TEST(CodecSocketio, HandshakeDeadline) {
  fixture f(codec_options{{"connect-timeout", "500ms"}});
  f.sio->open(0, f.rec, 0);
  EXPECT_EQ(f.sio->next_due_ns(0), 500 * ms);
  const codec_event e = f.sio->on_due(0, f.rec, 500 * ms);
  EXPECT_EQ(e.what, codec_event::kind::failed);
  EXPECT_NE(e.why.find("connect-timeout"), std::string_view::npos);
}

TEST(CodecSocketio, EventsHandedUpAsTheirArgumentArray) {
  fixture f;
  f.connect();
  const codec_event e = f.receive(R"(42["joined","room-1"])", 2000 * ms);
  EXPECT_EQ(e.what, codec_event::kind::message);
  EXPECT_FALSE(e.binary);
  EXPECT_EQ(fixture::text(e), R"(["joined","room-1"])");
  EXPECT_EQ(fixture::text(f.receive(R"(42/other,["x",1])", 2001 * ms)), R"(["x",1])");
  EXPECT_EQ(f.rec.counters[socketio_codec::events], 2u);
}

TEST(CodecSocketio, PlainMessageHandedUpAsItsText) {
  fixture f;
  f.connect();
  EXPECT_EQ(fixture::text(f.receive(R"(42["message","hs1.abcxxx"])", 2000 * ms)), "hs1.abcxxx");
  // Escapes or more arguments: the array as it came.
  EXPECT_EQ(fixture::text(f.receive(R"(42["message","a\"b"])", 2000 * ms)),
            R"(["message","a\"b"])");
  EXPECT_EQ(fixture::text(f.receive(R"(42["message","a","b"])", 2000 * ms)),
            R"(["message","a","b"])");
}

TEST(CodecSocketio, AckHandedUpAsObjectAMatchPointerReads) {
  fixture f;
  f.connect();
  EXPECT_TRUE(f.send(R"(4217["echo","x"])"));
  EXPECT_EQ(f.rec.sent.back().second, R"(4217["echo","x"])");
  EXPECT_EQ(f.rec.counters[socketio_codec::acks_requested], 1u);
  const codec_event e = f.receive(R"(4317["x",{"ok":true}])", 2000 * ms);
  EXPECT_EQ(e.what, codec_event::kind::message);
  EXPECT_EQ(fixture::text(e), R"({"ack":17,"args":["x",{"ok":true}]})");
  EXPECT_EQ(f.rec.counters[socketio_codec::acks], 1u);
}

TEST(CodecSocketio, SendForms) {
  fixture f;
  f.connect();
  EXPECT_TRUE(f.send(R"(["join","g1"])"));
  EXPECT_EQ(f.rec.sent.back().second, R"(42["join","g1"])");
  EXPECT_TRUE(f.send("say \"hi\"\n"));
  EXPECT_EQ(f.rec.sent.back().second, R"(42["message","say \"hi\"\u000a"])");
  EXPECT_EQ(f.rec.counters[socketio_codec::acks_requested], 0u);
  // Binary packets cannot be sent from text; nor anything over maxPayload (1000).
  EXPECT_FALSE(f.send(R"(451-["x",{"_placeholder":true,"num":0}])"));
  EXPECT_FALSE(f.send(std::string(1200, 'x')));
  const std::vector<uint8_t> big(1200);
  EXPECT_FALSE(f.sio->send(0, f.rec, ws_opcode::binary, big, 0));
  EXPECT_EQ(f.rec.counters[socketio_codec::refused_sends], 3u);
}

TEST(CodecSocketio, BinaryMessageBothWaysAsSocketSendBuffer) {
  fixture f;
  f.connect();
  const uint8_t bytes[] = {'H', 'R', 'D', '1', 0};
  EXPECT_TRUE(f.sio->send(0, f.rec, ws_opcode::binary, bytes, 0));
  ASSERT_EQ(f.rec.sent.size(), 3u);
  EXPECT_EQ(f.rec.sent[1].first, ws_opcode::text);
  EXPECT_EQ(f.rec.sent[1].second, R"(451-["message",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(f.rec.sent[2].first, ws_opcode::binary);
  EXPECT_EQ(f.rec.sent[2].second, std::string("HRD1\0", 5));
  // The echo: the header is the codec's, the attachment the scenario's.
  EXPECT_EQ(f.receive(R"(451-["message",{"_placeholder":true,"num":0}])", 2000 * ms).what,
            codec_event::kind::consumed);
  const codec_event e = f.sio->receive(0, ws_opcode::binary, bytes, 2001 * ms);
  EXPECT_EQ(e.what, codec_event::kind::message);
  EXPECT_TRUE(e.binary);
  EXPECT_EQ(e.body.data(), bytes);
  EXPECT_EQ(e.body.size(), sizeof bytes);
  EXPECT_EQ(f.rec.counters[socketio_codec::attachments], 1u);
  EXPECT_EQ(f.rec.counters[socketio_codec::events], 1u);
}

TEST(CodecSocketio, BinaryAttachmentsCountedAndSkipped) {
  fixture f;
  f.connect();
  const codec_event e = f.receive(
      R"(452-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", 2000 * ms);
  EXPECT_EQ(e.what, codec_event::kind::message);
  const uint8_t bytes[] = {0, 1, 2};
  EXPECT_EQ(f.sio->receive(0, ws_opcode::binary, bytes, 2001 * ms).what,
            codec_event::kind::consumed);
  EXPECT_EQ(f.sio->receive(0, ws_opcode::binary, bytes, 2002 * ms).what,
            codec_event::kind::consumed);
  EXPECT_EQ(f.rec.counters[socketio_codec::attachments], 2u);
  // A third is announced by nothing.
  EXPECT_EQ(f.sio->receive(0, ws_opcode::binary, bytes, 2003 * ms).what, codec_event::kind::failed);
}

TEST(CodecSocketio, TextWhereAttachmentsWereDueFails) {
  fixture f;
  f.connect();
  f.receive(R"(451-["file",{"_placeholder":true,"num":0}])", 2000 * ms);
  EXPECT_EQ(f.receive(R"(42["x"])", 2001 * ms).what, codec_event::kind::failed);
}

TEST(CodecSocketio, ServerDisconnectsFail) {
  fixture a;
  a.connect();
  EXPECT_EQ(a.receive("41", 2000 * ms).what, codec_event::kind::failed);
  fixture b;
  b.connect();
  EXPECT_EQ(b.receive("1", 2000 * ms).what, codec_event::kind::failed);
  EXPECT_EQ(b.rec.counters[socketio_codec::disconnects], 1u);
}

TEST(CodecSocketio, MalformedPacketsFailWithAReason) {
  const std::vector<std::string> hostile = {
      "",
      "9",
      "4",
      "47",
      "42",
      R"(42"not an array")",
      R"(43["no id"])",
      "45[]",
      "4599999-[]",
      "42/" + std::string(300, 'n') + ",[\"x\"]",
      "421234567890123456[\"x\"]",
      "0{}",  // a second open packet
  };
  for (const std::string& packet : hostile) {
    fixture f;
    f.connect();
    const codec_event e = f.receive(packet, 2000 * ms);
    EXPECT_EQ(e.what, codec_event::kind::failed) << packet;
    EXPECT_FALSE(e.why.empty()) << packet;
    // Failed is final: nothing more is handed up, nothing is due.
    EXPECT_EQ(f.receive(R"(42["x"])", 2001 * ms).what, codec_event::kind::consumed);
    EXPECT_EQ(f.sio->next_due_ns(0), 0u);
  }
}

TEST(CodecSocketio, OpenPacketWithoutTimersFails) {
  for (const std::string& packet :
       {std::string(R"(0{"sid":"x"})"), std::string(R"(0{"pingInterval":-1,"pingTimeout":5})"),
        std::string("0not json"), std::string(R"(0{"pingInterval":1e99,"pingTimeout":5})")}) {
    fixture f;
    f.sio->open(0, f.rec, 0);
    EXPECT_EQ(f.receive(packet, 1).what, codec_event::kind::failed) << packet;
  }
  fixture early;
  early.sio->open(0, early.rec, 0);
  EXPECT_EQ(early.receive(R"(42["x"])", 1).what, codec_event::kind::failed);
}

TEST(CodecSocketio, EventBeforeNamespaceConnectFails) {
  fixture f;
  f.sio->open(0, f.rec, 0);
  f.receive(open_packet, 1);
  EXPECT_EQ(f.receive(R"(42["x"])", 2).what, codec_event::kind::failed);
}

TEST(CodecSocketio, GoneForgetsTheSlot) {
  fixture f;
  f.connect();
  f.sio->gone(0);
  EXPECT_EQ(f.sio->next_due_ns(0), 0u);
  EXPECT_EQ(f.receive(R"(42["x"])", 2).what, codec_event::kind::consumed);
  // Reopened: the handshake again.
  f.rec.sent.clear();
  f.connect(5000 * ms);
  EXPECT_EQ(f.rec.sent.at(0).second, "40");
}

TEST(CodecSocketio, OptionsChecked) {
  const codec_options bad[] = {
      {{"namespace", "chat"}},     {{"namespace", "/a,b"}},     {{"auth", "token"}},
      {{"connect-timeout", "0s"}}, {{"connect-timeout", "10"}}, {{"connect-timeout", "2h"}},
  };
  for (const codec_options& options : bad)
    EXPECT_FALSE(parse_socketio_options(options)) << options[0].second;
  auto ok = parse_socketio_options({{"connect-timeout", "2s"}, {"namespace", "/n"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->connect_timeout_ns, 2000 * ms);
  EXPECT_EQ(ok->nsp, "/n");
}

TEST(CodecSocketio, RegistryKnowsItWithRoomTemplates) {
  const codec_info* info = find_codec("socketio");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->defaults.path, "/socket.io/?EIO=4&transport=websocket");
  EXPECT_EQ(info->defaults.subscribe, R"(["join","{group}"])");
  EXPECT_EQ(info->counters.size(), size_t(socketio_codec::refused_sends) + 1);
  EXPECT_EQ(info->histograms.size(), size_t(socketio_codec::pong_delay_ns) + 1);
}

TEST(SocketioPacket, ReadsEveryHeaderPart) {
  const socketio_read r =
      read_socketio_packet(R"(462-/admin,99["a",{"_placeholder":true,"num":0}])");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.packet.engine, engineio_type::message);
  EXPECT_EQ(r.packet.type, socketio_type::binary_ack);
  EXPECT_EQ(r.packet.attachments, 2u);
  EXPECT_EQ(r.packet.nsp, "/admin");
  EXPECT_TRUE(r.packet.has_id);
  EXPECT_EQ(r.packet.id, 99u);
  EXPECT_EQ(r.packet.data, R"(["a",{"_placeholder":true,"num":0}])");
  const socketio_read bare = read_socketio_packet("41/admin");
  ASSERT_TRUE(bare.ok);
  EXPECT_EQ(bare.packet.nsp, "/admin");
}

TEST(SocketioPacket, EveryPrefixOfAGoodPacketIsHandledWithoutCrash) {
  const std::string packet = R"(452-/chat,12["ev",{"_placeholder":true,"num":0},"t"])";
  for (size_t n = 0; n <= packet.size(); ++n) {
    const std::string prefix = packet.substr(0, n);  // its own allocation: ASan sees over-reads
    const socketio_read r = read_socketio_packet(prefix);
    EXPECT_TRUE(r.ok || !r.why.empty()) << prefix;
  }
}

}  // namespace
}  // namespace horde::proto

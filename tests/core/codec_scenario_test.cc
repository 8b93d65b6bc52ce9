// The codec seam without sockets: a toy line protocol (a HELLO/WELCOME
// handshake, server pings, "M:" before every application message) between
// a recording port and a recording scenario. What a user relies on: the
// scenario starts only after the handshake, never sends from inside a
// receive, sees only application messages, and a broken protocol fails the
// connection with its own reason.
#include "core/codec_scenario.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde::core {
namespace {

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}
std::string text_of(std::span<const uint8_t> body) {
  return {reinterpret_cast<const char*>(body.data()), body.size()};
}

class line_codec final : public proto::codec {
 public:
  explicit line_codec(proto::codec_stats& stats) : _stats(stats) {}
  proto::codec_event open(uint32_t, proto::codec_output& out, uint64_t) noexcept override {
    out.send(proto::ws_opcode::text, bytes("HELLO"));
    return {};
  }
  proto::codec_event receive(uint32_t, proto::ws_opcode, std::span<const uint8_t> body,
                             uint64_t) noexcept override {
    const std::string text = text_of(body);
    if (text == "WELCOME") return proto::codec_event::ready_now();
    if (text == "PING") {
      proto::codec_event e;
      e.reply = true;
      _stats.count(0);
      return e;
    }
    if (text.rfind("M:", 0) == 0) {
      _scratch = text.substr(2);
      proto::codec_event e;
      e.what = proto::codec_event::kind::message;
      e.body = bytes(_scratch);
      return e;
    }
    return proto::codec_event::failure("not a line message");
  }
  bool flush(uint32_t, proto::codec_output& out, uint64_t) noexcept override {
    return out.send(proto::ws_opcode::text, bytes("PONG"));
  }
  bool send(uint32_t, proto::codec_output& out, proto::ws_opcode opcode,
            std::span<const uint8_t> body, uint64_t) noexcept override {
    const std::string framed = "M:" + text_of(body);
    return out.send(opcode, bytes(framed));
  }
  uint64_t next_due_ns(uint32_t) const noexcept override { return 0; }
  proto::codec_event on_due(uint32_t, proto::codec_output&, uint64_t) noexcept override {
    return {};
  }
  void gone(uint32_t) noexcept override {}

 private:
  proto::codec_stats& _stats;
  std::string _scratch;
};

result<std::unique_ptr<proto::codec>> make_line(const proto::codec_setup& setup) {
  return std::unique_ptr<proto::codec>(std::make_unique<line_codec>(setup.stats));
}

const proto::codec_info line_info{
    "line", "a toy protocol", {}, {"pings"}, {}, {}, &make_line,
};

struct recording_port final : scenario_port {
  std::vector<std::string> sent;
  std::vector<failure_reason> failures;
  bool feeding = false;  // a send now is the bug the seam exists to prevent
  bool send(proto::ws_opcode, std::span<const uint8_t> body) noexcept override {
    EXPECT_FALSE(feeding) << "sent from inside a receive";
    sent.push_back(text_of(body));
    return true;
  }
  void close(uint16_t) noexcept override {}
  void fail(failure_reason reason) noexcept override { failures.push_back(reason); }
};

// Says hello on open and answers every message from its on_due.
struct recording_scenario final : scenario {
  std::vector<std::string> received;
  int opened = 0, gone = 0;
  uint64_t due = 0;
  void on_open(uint32_t, scenario_port& port, uint64_t) noexcept override {
    ++opened;
    port.send(proto::ws_opcode::text, bytes("join"));
  }
  void on_message(uint32_t, scenario_port&, proto::ws_opcode, std::span<const uint8_t> body,
                  uint64_t now) noexcept override {
    received.push_back(text_of(body));
    due = now;
  }
  uint64_t next_due_ns(uint32_t) const noexcept override { return due; }
  void on_due(uint32_t, scenario_port& port, uint64_t) noexcept override {
    port.send(proto::ws_opcode::text, bytes("answer"));
    due = 0;
  }
  void on_gone(uint32_t) noexcept override { ++gone; }
  void stop_sending() noexcept override {}
  bool all_answered() const noexcept override { return true; }
};

struct one_slot_shard final : scenario::shard_access {
  scenario_port* port = nullptr;
  int rescheduled_count = 0;
  scenario_port* port_of(uint32_t) noexcept override { return port; }
  void rescheduled(uint32_t) noexcept override { ++rescheduled_count; }
};

struct codec_fixture : testing::Test {
  protocol_plan plan;
  shard_metrics metrics;
  std::vector<uint32_t> ids = {5};
  recording_port port;
  recording_scenario* inner = nullptr;
  std::unique_ptr<codec_scenario> over;
  one_slot_shard shard;

  codec_fixture() {
    plan.codec = &line_info;
    plan.first_counter = 0;
    metrics.declare(1, 0);
    auto made = std::make_unique<recording_scenario>();
    inner = made.get();
    over = std::make_unique<codec_scenario>(plan, metrics, ids, 1, std::move(made));
    shard.port = &port;
  }
  void receive(std::string_view text, uint64_t now) {
    port.feeding = true;
    over->on_message(0, port, proto::ws_opcode::text, bytes(text), now);
    port.feeding = false;
  }
};

TEST_F(codec_fixture, TheScenarioStartsOnlyOnceTheHandshakeIsDone) {
  over->on_open(0, port, 0);
  EXPECT_EQ(port.sent, std::vector<std::string>{"HELLO"});
  EXPECT_EQ(inner->opened, 0);
  receive("WELCOME", 10);
  EXPECT_EQ(inner->opened, 0) << "on_open sends: it must wait for the shard's turn";
  EXPECT_EQ(over->shard_due_ns(), 10u);
  over->on_shard_due(shard, 11);
  EXPECT_EQ(inner->opened, 1);
  EXPECT_EQ(port.sent, (std::vector<std::string>{"HELLO", "M:join"}));
  EXPECT_EQ(over->shard_due_ns(), 0u);
}

TEST_F(codec_fixture, KeepAlivesAreAnsweredOnTheShardsTurnAndNeverReachTheScenario) {
  over->on_open(0, port, 0);
  receive("WELCOME", 1);
  over->on_shard_due(shard, 2);
  receive("PING", 3);
  receive("PING", 4);  // one queued answer per slot and turn
  over->on_shard_due(shard, 5);
  EXPECT_EQ(port.sent, (std::vector<std::string>{"HELLO", "M:join", "PONG"}));
  EXPECT_TRUE(inner->received.empty());
  EXPECT_EQ(metrics.counters.named[0].get(), 2u);
}

TEST_F(codec_fixture, ApplicationMessagesAreDecodedUpAndEncodedDown) {
  over->on_open(0, port, 0);
  receive("WELCOME", 1);
  over->on_shard_due(shard, 2);
  receive("M:hello there", 30);
  EXPECT_EQ(inner->received, std::vector<std::string>{"hello there"});
  EXPECT_EQ(over->next_due_ns(0), 30u);
  over->on_due(0, port, 30);
  EXPECT_EQ(port.sent.back(), "M:answer");
}

TEST_F(codec_fixture, ABrokenProtocolFailsTheConnectionWithItsOwnReason) {
  over->on_open(0, port, 0);
  receive("garbage", 1);
  ASSERT_EQ(port.failures.size(), 1u);
  EXPECT_EQ(port.failures[0], failure_reason::app_protocol_handshake);
  receive("WELCOME", 2);
  over->on_shard_due(shard, 3);
  receive("garbage", 4);
  ASSERT_EQ(port.failures.size(), 2u);
  EXPECT_EQ(port.failures[1], failure_reason::app_protocol_error);
}

// What the report shows beside app_protocol_handshake / app_protocol_error:
// the codec's own line, counted per reason.
TEST_F(codec_fixture, AFailureKeepsTheCodecsWordsBesideItsReason) {
  over->on_open(0, port, 0);
  receive("garbage", 1);
  over->on_open(0, port, 2);
  receive("garbage", 3);
  over->on_open(0, port, 4);
  receive("WELCOME", 5);
  over->on_shard_due(shard, 6);
  receive("garbage", 7);
  counter_values values;
  metrics.counters.read_into(values);
  const auto& texts = values.protocol_failures.texts;
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[0].reason, failure_reason::app_protocol_handshake);
  EXPECT_EQ(texts[0].text, "not a line message");
  EXPECT_EQ(texts[0].count, 2u);
  EXPECT_EQ(texts[1].reason, failure_reason::app_protocol_error);
  EXPECT_EQ(texts[1].text, "not a line message");
  EXPECT_EQ(texts[1].count, 1u);
  EXPECT_EQ(values.protocol_failures.unlisted, 0u);
}

// A shard keeps max_texts distinct texts; more are counted, not listed, and
// the same words at two addresses are one line.
TEST(failure_text_table, BoundedAndMergedByText) {
  static const char distinct[20][4] = {"t0",  "t1",  "t2",  "t3",  "t4",  "t5",  "t6",
                                       "t7",  "t8",  "t9",  "t10", "t11", "t12", "t13",
                                       "t14", "t15", "t16", "t17", "t18", "t19"};
  failure_text_table table;
  for (const char* text : distinct)
    table.fail_with(failure_reason::app_protocol_error, text);
  table.fail_with(failure_reason::app_protocol_error, distinct[0]);
  std::vector<failure_text> read;
  table.read_into(read);
  ASSERT_EQ(read.size(), failure_text_table::max_texts);
  EXPECT_EQ(read[0].count, 2u);
  EXPECT_EQ(table.unlisted.get(), 20 - failure_text_table::max_texts);

  static const char first[] = "same words", second[] = "same words";
  failure_text_table twice;
  twice.fail_with(failure_reason::app_protocol_handshake, first);
  twice.fail_with(failure_reason::app_protocol_handshake, second);
  twice.fail_with(failure_reason::app_protocol_handshake, std::string_view());
  twice.read_into(read);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].text, "same words");
  EXPECT_EQ(read[0].count, 2u);
  EXPECT_EQ(read[1].text, "");
}

TEST_F(codec_fixture, AMessageBeforeTheHandshakeIsAProtocolError) {
  over->on_open(0, port, 0);
  receive("M:early", 1);
  EXPECT_TRUE(inner->received.empty());
  ASSERT_EQ(port.failures.size(), 1u);
  EXPECT_EQ(port.failures[0], failure_reason::app_protocol_error);
}

TEST_F(codec_fixture, AConnectionGoneBeforeItsTurnDropsWhatWasQueued) {
  over->on_open(0, port, 0);
  receive("WELCOME", 1);
  over->on_gone(0);
  over->on_shard_due(shard, 2);
  EXPECT_EQ(inner->opened, 0);
  EXPECT_EQ(inner->gone, 1);
  EXPECT_EQ(port.sent, std::vector<std::string>{"HELLO"});
}

TEST_F(codec_fixture, TheScenarioSeesAShardPortOnlyForSlotsItOpened) {
  struct probing_scenario final : scenario {
    // What port_of gave on the last shard turn (the port lives only that
    // long, so it is used there): none, or one that sent through the codec.
    enum class seen_port { unset, none, sent, refused } seen = seen_port::unset;
    void on_open(uint32_t, scenario_port&, uint64_t) noexcept override {}
    void on_message(uint32_t, scenario_port&, proto::ws_opcode, std::span<const uint8_t>,
                    uint64_t) noexcept override {}
    uint64_t next_due_ns(uint32_t) const noexcept override { return 0; }
    void on_due(uint32_t, scenario_port&, uint64_t) noexcept override {}
    void on_gone(uint32_t) noexcept override {}
    void on_shard_due(shard_access& access, uint64_t) noexcept override {
      scenario_port* port = access.port_of(0);
      if (port == nullptr) {
        seen = seen_port::none;
        return;
      }
      seen = port->send(proto::ws_opcode::text, bytes("x")) ? seen_port::sent : seen_port::refused;
    }
    void stop_sending() noexcept override {}
    bool all_answered() const noexcept override { return true; }
  };
  auto made = std::make_unique<probing_scenario>();
  probing_scenario* probe = made.get();
  codec_scenario wrapped(plan, metrics, ids, 1, std::move(made));
  wrapped.on_open(0, port, 0);
  wrapped.on_shard_due(shard, 1);
  EXPECT_EQ(probe->seen, probing_scenario::seen_port::none)
      << "handshake not done: not open for the scenario";
  port.feeding = true;
  wrapped.on_message(0, port, proto::ws_opcode::text, bytes("WELCOME"), 2);
  port.feeding = false;
  wrapped.on_shard_due(shard, 3);
  EXPECT_EQ(probe->seen, probing_scenario::seen_port::sent);
  EXPECT_EQ(port.sent.back(), "M:x");
}

}  // namespace
}  // namespace horde::core

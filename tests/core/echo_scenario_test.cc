// The echo scenario without sockets: a fake port records what it sends, and
// the test plays the server, answering, dropping, duplicating, corrupting
// and truncating, and checks every count.
#include "core/echo_scenario.hh"

#include <gtest/gtest.h>

#include <vector>

namespace horde::core {
namespace {

struct recording_port final : scenario_port {
  std::vector<std::vector<uint8_t>> sent;
  bool refuse = false;
  bool send(proto::ws_opcode, std::span<const uint8_t> body) noexcept override {
    if (refuse) return false;
    sent.emplace_back(body.begin(), body.end());
    return true;
  }
  void close(uint16_t) noexcept override {}
  void fail(failure_reason) noexcept override {}
};

struct echo_fixture : testing::Test {
  client_plan plan;
  shard_metrics metrics;
  shard_metrics* by_target[1] = {&metrics};  // one target
  proto::mask_source random;
  std::vector<uint32_t> ids = {7, 9};
  recording_port port;

  echo_fixture() {
    plan.message_rate = 100;  // one message every 10 ms
    plan.message_size = 64;
  }
  counter_values counts() const {
    counter_values v;
    metrics.counters.read_into(v);
    return v;
  }
};

TEST_F(echo_fixture, SendsOnScheduleAndTimesEachAnswerFromItsScheduledTime) {
  echo_scenario echo(plan, by_target, random, ids, 1'000'000'000);
  echo.on_open(0, port, 0);
  const uint64_t first = echo.next_due_ns(0);
  ASSERT_LT(first, 10'000'000u);
  echo.on_due(0, port, 50'000'000);  // late: every message due by 50 ms goes, stamped as scheduled
  ASSERT_GE(port.sent.size(), 5u);
  for (const auto& body : port.sent) {
    EXPECT_EQ(body.size(), 64u);
    auto st = proto::read_stamp(body);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->conn_id, 7u);
  }
  EXPECT_FALSE(echo.all_answered());
  for (const auto& body : port.sent)
    echo.on_message(0, port, proto::ws_opcode::binary, body, 60'000'000);
  EXPECT_TRUE(echo.all_answered());
  const auto v = counts();
  EXPECT_EQ(v.messages_sent, port.sent.size());
  EXPECT_EQ(v.messages_answered, port.sent.size());
  EXPECT_EQ(metrics.latency.round_trip.count(), port.sent.size());
  EXPECT_EQ(metrics.latency.round_trip.max(), 60'000'000 - first);
}

TEST_F(echo_fixture, CountsDuplicatesCorruptionTruncationAndLossExactly) {
  plan.message_rate = 1000;
  echo_scenario echo(plan, by_target, random, ids, 10'000'000'000);
  echo.on_open(0, port, 0);
  echo.on_due(0, port, 60'000'000);
  const size_t n = port.sent.size();
  ASSERT_EQ(n, 60u);
  uint64_t dropped = 0, duplicated = 0, corrupted = 0, truncated = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<uint8_t> body = port.sent[i];
    const size_t k = i + 1;
    if (k % 7 == 0) {
      ++dropped;
      continue;
    }
    if (k % 5 == 0) {
      body[40] ^= 1;
      ++corrupted;
    } else if (k % 11 == 0) {
      body.resize(40);
      ++truncated;
    }
    echo.on_message(0, port, proto::ws_opcode::binary, body, 70'000'000);
    if (k % 3 == 0) {
      echo.on_message(0, port, proto::ws_opcode::binary, body, 70'000'000);
      ++duplicated;
    }
  }
  // A stamp of another connection, and one never sent, are not answers.
  auto foreign = port.sent[0];
  foreign[4] ^= 0xff;
  echo.on_message(0, port, proto::ws_opcode::binary, foreign, 70'000'000);
  const auto v = counts();
  EXPECT_EQ(v.messages_answered, n - dropped);
  EXPECT_EQ(v.messages_sent - v.messages_answered, dropped);
  EXPECT_EQ(v.messages_duplicated, duplicated);
  EXPECT_EQ(v.messages_corrupted, corrupted);
  EXPECT_EQ(v.messages_truncated, truncated);
  EXPECT_EQ(v.messages_unstamped, 1u);
  EXPECT_EQ(metrics.latency.round_trip.count(), n - dropped);
  EXPECT_FALSE(echo.all_answered());
  // The connection ends: what it still owed is no longer waited for.
  echo.on_gone(0);
  EXPECT_TRUE(echo.all_answered());
}

TEST_F(echo_fixture, TextMessagesCarryAPrintableStamp) {
  plan.binary = false;
  echo_scenario echo(plan, by_target, random, ids, 1'000'000'000);
  echo.on_open(1, port, 0);
  echo.on_due(1, port, 20'000'000);
  ASSERT_FALSE(port.sent.empty());
  const auto& body = port.sent[0];
  EXPECT_TRUE(proto::text_filler_intact(body));
  echo.on_message(1, port, proto::ws_opcode::text, body, 30'000'000);
  EXPECT_EQ(counts().messages_answered, 1u);
  EXPECT_EQ(counts().messages_corrupted, 0u);
}

TEST_F(echo_fixture, NothingIsSentAfterTheEndOrAStop) {
  echo_scenario echo(plan, by_target, random, ids, 30'000'000);
  echo.on_open(0, port, 0);
  echo.on_due(0, port, 1'000'000'000);
  EXPECT_LE(port.sent.size(), 3u);  // only what was scheduled before the end
  EXPECT_EQ(echo.next_due_ns(0), 0u);
  echo_scenario stopped(plan, by_target, random, ids, 1'000'000'000);
  stopped.on_open(0, port, 0);
  stopped.stop_sending();
  port.sent.clear();
  stopped.on_due(0, port, 500'000'000);
  EXPECT_TRUE(port.sent.empty());
}

TEST_F(echo_fixture, AGoneConnectionStopsSending) {
  echo_scenario echo(plan, by_target, random, ids, 1'000'000'000);
  echo.on_open(0, port, 0);
  port.refuse = true;  // the session failed: the port says the connection is gone
  echo.on_due(0, port, 50'000'000);
  EXPECT_EQ(counts().messages_sent, 0u);
}

}  // namespace
}  // namespace horde::core

namespace horde::core {
namespace {

// --payload: the application's bytes go out as they are, the stamp at its
// offset; an echo is answered by its stamp and corrupted when any byte
// around the stamp differs.
TEST_F(echo_fixture, APayloadTemplateCarriesTheStampAtItsOffset) {
  plan.payload = std::string(48, '\x5a');
  plan.payload[0] = '\x0a';
  plan.stamp_offset = 10;
  plan.message_size = 48;
  echo_scenario echo(plan, by_target, random, ids, 1'000'000'000);
  echo.on_open(0, port, 0);
  echo.on_due(0, port, 30'000'000);
  ASSERT_GE(port.sent.size(), 2u);
  for (const auto& body : port.sent) {
    ASSERT_EQ(body.size(), 48u);
    EXPECT_EQ(body[0], 0x0a);
    EXPECT_EQ(body[9], 0x5a);
    EXPECT_EQ(body[42], 0x5a);
    auto st = proto::read_stamp(std::span<const uint8_t>(body).subspan(10));
    ASSERT_TRUE(st);
    EXPECT_EQ(st->conn_id, 7u);
  }
  auto changed = port.sent[1];
  changed[47] ^= 1;
  echo.on_message(0, port, proto::ws_opcode::binary, port.sent[0], 40'000'000);
  echo.on_message(0, port, proto::ws_opcode::binary, changed, 40'000'000);
  const auto v = counts();
  EXPECT_EQ(v.messages_answered, 2u);
  EXPECT_EQ(v.messages_corrupted, 1u);
}

// A reconnect opens the slot again: what the first connection owed is
// written off once, and the second connection's messages count afresh.
TEST_F(echo_fixture, AReopenedSlotCountsItsNewMessagesAfresh) {
  echo_scenario echo(plan, by_target, random, ids, 1'000'000'000);
  echo.on_open(0, port, 0);
  echo.on_due(0, port, 30'000'000);
  const size_t first = port.sent.size();
  echo.on_gone(0);  // nothing answered
  EXPECT_TRUE(echo.all_answered());
  echo.on_open(0, port, 100'000'000);
  echo.on_due(0, port, 130'000'000);
  ASSERT_GT(port.sent.size(), first);
  for (size_t i = first; i < port.sent.size(); ++i)
    echo.on_message(0, port, proto::ws_opcode::binary, port.sent[i], 140'000'000);
  EXPECT_TRUE(echo.all_answered());
  const auto v = counts();
  EXPECT_EQ(v.messages_answered, port.sent.size() - first);
  EXPECT_EQ(v.messages_duplicated, 0u);
}

}  // namespace
}  // namespace horde::core

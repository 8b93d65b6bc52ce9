// The pub/sub scenario without sockets: a fake port records what is sent,
// the test plays the broker (acknowledges, delivers), and the shard's work
// (publishing starts once everyone is subscribed) is driven by hand.
#include "core/pubsub_scenario.hh"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace horde::core {
namespace {

struct text_port final : scenario_port {
  std::vector<std::string> sent;
  bool send(proto::ws_opcode, std::span<const uint8_t> body) noexcept override {
    sent.emplace_back(reinterpret_cast<const char*>(body.data()), body.size());
    return true;
  }
  void close(uint16_t) noexcept override {}
  void fail(failure_reason) noexcept override {}
};

// Two connections of one shard, one group, connection 0 publishes.
struct two_subscribers : scenario::shard_access {
  pubsub_shared shared{1};
  client_plan plan;
  std::unique_ptr<shard_metrics> metrics = std::make_unique<shard_metrics>();
  proto::mask_source random;
  std::vector<uint32_t> ids = {0, 1};
  text_port ports[2];
  bool open[2] = {true, true};
  std::vector<uint32_t> rescheduled_slots;
  std::unique_ptr<pubsub_scenario> work;

  two_subscribers() {
    auto& p = plan.pubsub;
    p.layout.groups = 1;
    p.layout.publishers = 1;
    p.names = *proto::group_names::make("g{n}");
    p.subscribe = *proto::message_template::parse("sub {group}", {"group"});
    p.subscribe_ack = *proto::message_template::parse("ok sub {group}", {"group"});
    p.unsubscribe = *proto::message_template::parse("unsub {group}", {"group"});
    p.unsubscribe_ack = *proto::message_template::parse("ok unsub {group}", {"group"});
    p.publish = *proto::message_template::parse("pub {group} {payload}", {"group", "payload"});
    p.publish_rate = 100;
    p.shared = &shared;
    shared.metrics.push_back(metrics.get());
    plan.shards = 1;
    work = std::make_unique<pubsub_scenario>(plan, *metrics, random, ids, 10'000'000'000);
  }

  scenario_port* port_of(uint32_t slot) noexcept override {
    return open[slot] ? &ports[slot] : nullptr;
  }
  void rescheduled(uint32_t slot) noexcept override { rescheduled_slots.push_back(slot); }

  void receive(uint32_t slot, const std::string& text, uint64_t at) {
    work->on_message(slot, ports[slot], proto::ws_opcode::text,
                     {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, at);
  }
  pubsub_values counts() const {
    pubsub_values v;
    metrics->counters.pubsub.read_into(v);
    return v;
  }
};

TEST(pubsub_scenario, subscribes_then_publishes_once_everyone_is_in_force_and_counts_deliveries) {
  two_subscribers run;
  run.work->on_open(0, run.ports[0], 0);
  run.work->on_open(1, run.ports[1], 0);
  ASSERT_EQ(run.ports[0].sent, std::vector<std::string>{"sub g0"});
  run.work->on_shard_due(run, 1'000);
  EXPECT_EQ(run.shared.shards_subscribed.load(), 0u) << "not everyone is in force yet";
  run.receive(0, "ok sub g0", 2'000);
  run.receive(1, "ok sub g0", 2'000);
  run.work->on_shard_due(run, 3'000);
  EXPECT_EQ(run.shared.shards_subscribed.load(), 1u);
  EXPECT_NE(run.shared.publish_start_ns.load(), 0u);
  EXPECT_EQ(run.rescheduled_slots, std::vector<uint32_t>{0}) << "only the publisher";
  const uint64_t due = run.work->next_due_ns(0);
  ASSERT_NE(due, 0u);
  EXPECT_EQ(run.work->next_due_ns(1), 0u);

  run.work->on_due(0, run.ports[0], due);
  ASSERT_EQ(run.ports[0].sent.size(), 2u);
  const std::string publish = run.ports[0].sent[1];
  ASSERT_EQ(publish.rfind("pub g0 ", 0), 0u) << publish;
  EXPECT_FALSE(run.work->all_answered());
  const std::string delivery = "msg" + publish.substr(3);
  run.receive(0, delivery, due + 500'000);
  run.receive(1, delivery, due + 700'000);
  run.work->on_shard_due(run, due + 1'000'000);
  EXPECT_TRUE(run.work->all_answered());
  const auto v = run.counts();
  EXPECT_EQ(v.publishes, 1u);
  EXPECT_EQ(v.expected, 2u);
  EXPECT_EQ(v.unique(), 2u);
  EXPECT_EQ(v.lost(), 0u);
}

TEST(pubsub_scenario, a_gone_subscriber_stops_counting_and_does_not_hold_up_publishing) {
  two_subscribers run;
  run.work->on_open(0, run.ports[0], 0);
  run.work->on_open(1, run.ports[1], 0);
  run.receive(0, "ok sub g0", 2'000);
  run.open[1] = false;
  run.work->on_gone(1);  // never acknowledged: abandoned, and no longer waited for
  run.work->on_shard_due(run, 3'000);
  EXPECT_EQ(run.shared.shards_subscribed.load(), 1u);
  EXPECT_EQ(run.counts().subscriptions_abandoned, 1u);
}

TEST(pubsub_scenario, an_unacknowledged_subscription_is_given_up_at_its_timeout) {
  two_subscribers run;
  run.work->on_open(0, run.ports[0], 0);
  const uint64_t until = run.work->next_due_ns(0);
  EXPECT_EQ(until, run.plan.pubsub.subscribe_timeout_ns);
  run.work->on_due(0, run.ports[0], until);
  EXPECT_EQ(run.counts().subscribe_timeouts, 1u);
  EXPECT_EQ(run.work->next_due_ns(0), 0u);
}

}  // namespace
}  // namespace horde::core

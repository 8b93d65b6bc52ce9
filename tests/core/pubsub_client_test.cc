// The pub/sub accounting of one client shard, without I/O: a subscription
// joins, receives, leaves and rejoins while its group is published, and every
// delivery lands in exactly one count (docs/pubsub.md, churn rules).
#include "core/pubsub_client.hh"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace horde::core {
namespace {

struct one_group_run {
  pubsub_shared shared{1};
  pubsub_plan plan;
  std::unique_ptr<shard_metrics> metrics = std::make_unique<shard_metrics>();
  std::unique_ptr<pubsub_client> client;

  one_group_run() {
    plan.layout.groups = 1;
    plan.layout.publishers = 1;
    plan.names = *proto::group_names::make("g{n}");
    plan.subscribe = *proto::message_template::parse("sub {group}", {"group"});
    plan.subscribe_ack = *proto::message_template::parse("ok sub {group}", {"group"});
    plan.unsubscribe = *proto::message_template::parse("unsub {group}", {"group"});
    plan.unsubscribe_ack = *proto::message_template::parse("ok unsub {group}", {"group"});
    plan.publish = *proto::message_template::parse("pub {group} {payload}", {"group", "payload"});
    plan.churn_rate = 1;
    plan.shared = &shared;
    shared.metrics.push_back(metrics.get());
    const uint32_t ids[] = {0};
    client = std::make_unique<pubsub_client>(plan, *metrics, ids, 1);
  }

  pubsub_client::outcome receive(std::string_view text) {
    return client->on_message(0, {reinterpret_cast<const uint8_t*>(text.data()), text.size()},
                              false, 1'000'000);
  }
  // Publishes once; returns the delivery the reference server would make.
  std::string publish() {
    std::string message(client->publish_message(0, 1'000, 0));
    return "msg" + message.substr(3);
  }
  pubsub_values counts() const {
    pubsub_values v;
    metrics->counters.pubsub.read_into(v);
    return v;
  }
};

TEST(pubsub_client, leave_and_rejoin_while_published_keep_every_count_exact) {
  one_group_run run;
  run.client->subscribes_sent(0, 1, 0);
  EXPECT_EQ(run.receive("ok sub g0"), pubsub_client::outcome::all_in_force);

  EXPECT_EQ(run.receive(run.publish()), pubsub_client::outcome::delivery);  // 1: owed, delivered
  EXPECT_EQ(run.client->leave_message(0, 0, 0), "unsub g0");
  const std::string second = run.publish();  // 2: numbered after the leave, not owed
  EXPECT_EQ(run.receive(second), pubsub_client::outcome::delivery);
  EXPECT_EQ(run.counts().after_leave, 1u);
  EXPECT_EQ(run.receive("ok unsub g0"), pubsub_client::outcome::left);
  EXPECT_EQ(run.client->rejoin_message(0, 0), "sub g0");
  const std::string third = run.publish();  // 3: before the rejoin counts
  EXPECT_EQ(run.receive(third), pubsub_client::outcome::delivery);
  EXPECT_EQ(run.receive("ok sub g0"), pubsub_client::outcome::acknowledged);
  const std::string fourth = run.publish();                         // 4: owed again
  EXPECT_EQ(run.receive(third), pubsub_client::outcome::delivery);  // late copy of 3
  EXPECT_EQ(run.receive(fourth), pubsub_client::outcome::delivery);

  const pubsub_values v = run.counts();
  EXPECT_EQ(v.publishes, 4u);
  EXPECT_EQ(v.expected, 2u);  // 1 and 4
  EXPECT_EQ(v.unique(), 2u);
  EXPECT_EQ(v.lost(), 0u);
  EXPECT_EQ(v.duplicates, 0u);
  EXPECT_EQ(v.before_join, 2u);  // 3, before and after the acknowledgement
  EXPECT_EQ(v.after_leave, 1u);
  EXPECT_EQ(v.withdrawn, 0u);
  EXPECT_EQ(v.unsubscribes_acked, 1u);
  EXPECT_EQ(v.resubscribes_in_force, 1u);
  // 1 was handed over when a delivery of another publish (4) arrived; 4
  // waits for the end of the loop turn.
  EXPECT_EQ(run.metrics->latency.fanout_last.count(), 1u);
  run.client->end_of_turn();
  EXPECT_EQ(run.metrics->latency.fanout_last.count(), 2u);
}

TEST(pubsub_client, a_leave_takes_back_what_the_server_never_sent_but_not_a_gap) {
  one_group_run run;
  run.client->subscribes_sent(0, 1, 0);
  run.receive("ok sub g0");
  const std::string first = run.publish(), second = run.publish(), third = run.publish();
  EXPECT_EQ(run.receive(second), pubsub_client::outcome::delivery);  // 1 missing: a gap
  run.client->leave_message(0, 0, 0);
  EXPECT_EQ(run.receive("ok unsub g0"), pubsub_client::outcome::left);  // 3 never came
  const pubsub_values v = run.counts();
  EXPECT_EQ(v.expected, 3u);
  EXPECT_EQ(v.withdrawn, 1u);  // 3: after the last delivery, the server had left
  EXPECT_EQ(v.unique(), 1u);
  EXPECT_EQ(v.lost(), 1u);  // 1: passed while the subscription was in force
  EXPECT_FALSE(run.client->all_delivered());
}

TEST(pubsub_client, a_connection_gone_is_owed_nothing_published_after) {
  one_group_run run;
  run.client->subscribes_sent(0, 1, 0);
  run.receive("ok sub g0");
  run.publish();  // in flight when the connection ends: lost
  run.client->connection_gone(0);
  run.publish();
  const pubsub_values v = run.counts();
  EXPECT_EQ(v.expected, 1u);
  EXPECT_EQ(v.lost(), 1u);
  EXPECT_EQ(run.shared.ledger.in_force(0), 0u);
}

TEST(pubsub_client, a_connection_gone_while_waiting_counts_abandoned_not_timed_out) {
  one_group_run run;
  run.client->subscribes_sent(0, 1, 0);
  run.client->connection_gone(0);
  EXPECT_EQ(run.counts().subscriptions_abandoned, 1u);
  EXPECT_EQ(run.counts().subscribe_timeouts, 0u);
}

}  // namespace
}  // namespace horde::core

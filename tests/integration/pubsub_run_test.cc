// `horde run --groups`: pub/sub accounting checked against what the server
// itself counted, against a server told to lose and duplicate deliveries,
// and against a JSON chat server (Python websockets) driven by templates.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

using test::horde_binary;
using test::horde_run;
using test::start_peer;

const std::string source_dir = HORDE_SOURCE_DIR;

// Checks the accounting identities every pub/sub result must satisfy.
void expect_consistent(const nlohmann::json& p) {
  const uint64_t expected = p["expected"], delivered = p["delivered"], lost = p["lost"],
                 received = p["deliveries_received"], dup = p["duplicated"];
  EXPECT_EQ(delivered + lost, expected);
  EXPECT_EQ(received, delivered + dup);
}

TEST(PubSub, EveryDeliveryAccountedAgainstTheEmbeddedBroker) {
  // 10 connections over 3 groups (4, 3 and 3 subscribers), 3 publishers,
  // two server shards: the broker forwards between them.
  auto run = horde_run({"-c", "10", "--groups", "3", "--subscriptions", "1", "--publishers", "3",
                        "--rate", "20/s", "--duration", "2s"},
                       "pubsub_exact");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const auto& server = run.result["server"];
  EXPECT_EQ(p["subscribes_in_force"], 10);
  EXPECT_GE(p["publish_start_seconds"].get<double>(), 0.0);
  const uint64_t publishes = p["publishes"];
  EXPECT_GT(publishes, 60u);  // 3 x 20/s for most of 2 s
  EXPECT_EQ(server["publishes"], publishes);
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["reordered"], 0);
  EXPECT_EQ(p["unaccounted"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(server["deliveries"], p["delivered"]);
  // Each group has 3 or 4 subscribers: expected lies between.
  EXPECT_GE(p["expected"].get<uint64_t>(), 3 * publishes);
  EXPECT_LE(p["expected"].get<uint64_t>(), 4 * publishes);
  EXPECT_EQ(p["fanout_latency"]["count"], p["delivered"]);
  // Nothing lost: every publish timed to its last subscriber completed.
  EXPECT_EQ(p["fanout_last_latency"]["count"], p["last_subscriber_timed"]);
  EXPECT_GT(p["last_subscriber_timed"].get<uint64_t>(), publishes / 2);
  EXPECT_EQ(p["last_subscriber_never_completed"], 0);
  EXPECT_EQ(p["subscribe_latency"]["count"], 10);
  expect_consistent(p);
}

TEST(PubSub, ChurnWhilePublishingKeepsEveryCountExact) {
  // 200 connections x 2 of 20 groups, every group published 40 times a
  // second, while 400 leaves (and rejoins) a second go on across two client
  // and two server shards: the counts must still add up exactly.
  auto run = horde_run({"-c", "200", "--groups", "20", "--subscriptions", "2", "--publishers", "20",
                        "--rate", "40/s", "--churn", "400/s", "--duration", "3s"},
                       "pubsub_churn");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const auto& churn = p["churn"];
  const auto& server = run.result["server"];
  EXPECT_GT(churn["unsubscribes_sent"].get<uint64_t>(), 100u);
  EXPECT_GT(churn["unsubscribes_acked"].get<uint64_t>(), 100u);
  EXPECT_GT(churn["resubscribes_in_force"].get<uint64_t>(), 100u);
  EXPECT_EQ(churn["unsubscribe_latency"]["count"], churn["unsubscribes_acked"]);
  // The server may not have read a leave sent in the run's last moments.
  EXPECT_GE(server["unsubscribes"].get<uint64_t>(), churn["unsubscribes_acked"].get<uint64_t>());
  EXPECT_LE(server["unsubscribes"].get<uint64_t>(), churn["unsubscribes_sent"].get<uint64_t>());
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["reordered"], 0);
  EXPECT_EQ(p["unaccounted"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(p["expected"].get<uint64_t>() + p["withdrawn"].get<uint64_t>(), p["expected_at_send"]);
  // Every delivery the server made is classified: owed, or outside a
  // subscription's time in force.
  EXPECT_EQ(server["deliveries"].get<uint64_t>(), p["deliveries_received"].get<uint64_t>() +
                                                      churn["before_join"].get<uint64_t>() +
                                                      churn["after_leave"].get<uint64_t>());
  EXPECT_GT(p["fanout_last_latency"]["count"].get<uint64_t>(), 0u);
  expect_consistent(p);
}

TEST(PubSub, ZipfPopularityManySubscriptionsPerConnection) {
  auto run = horde_run({"-c", "200", "--groups", "100", "--subscriptions", "5", "--zipf", "1.0",
                        "--publishers", "20", "--rate", "5/s", "--duration", "2s"},
                       "pubsub_zipf");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  EXPECT_EQ(p["popularity"], "zipf");
  EXPECT_EQ(p["subscribes_in_force"], 1000);
  EXPECT_GT(p["publishes"].get<uint64_t>(), 0u);
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  expect_consistent(p);
}

// The broker's testing hooks: horde must report exactly what the server
// dropped or duplicated (the server prints its counts when it stops).
class LossyBroker : public testing::TestWithParam<const char*> {};

TEST_P(LossyBroker, ReportsExactlyWhatTheServerLostOrDuplicated) {
  const std::string flag = GetParam();
  auto server =
      start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "2", flag, "7"});
  const std::string url = test::served_url(server.port);
  ASSERT_FALSE(url.empty()) << server.port;
  auto run = horde_run({url, "-c", "12", "--groups", "4", "--subscriptions", "2", "--publishers",
                        "4", "--rate", "20/s", "--duration", "2s", "--drain", "500ms"},
                       "pubsub_lossy");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const test::broker_counts counts = test::stop_and_read_broker_line(server);
  ASSERT_GT(counts.deliveries, 0u);
  EXPECT_EQ(p["deliveries_received"], counts.deliveries);
  if (flag == "--drop-every") {
    EXPECT_GT(counts.dropped, 0u);
    EXPECT_EQ(p["lost"], counts.dropped);
    EXPECT_EQ(p["duplicated"], 0);
  } else {
    EXPECT_GT(counts.duplicated, 0u);
    EXPECT_EQ(p["duplicated"], counts.duplicated);
    EXPECT_EQ(p["lost"], 0);
  }
  EXPECT_EQ(p["reordered"], 0);
  expect_consistent(p);
}

INSTANTIATE_TEST_SUITE_P(Hooks, LossyBroker, testing::Values("--drop-every", "--duplicate-every"));

// Both hooks at once, with one period a multiple of the other: the server
// must still duplicate (it used to drop every delivery it would duplicate).
TEST(LossyBrokerBoth, DropsAndDuplicatesTogether) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "1",
                            "--drop-every", "5", "--duplicate-every", "10"});
  const std::string url = test::served_url(server.port);
  ASSERT_FALSE(url.empty()) << server.port;
  auto run = horde_run({url, "-c", "12", "--groups", "4", "--subscriptions", "2", "--publishers",
                        "4", "--rate", "20/s", "--duration", "2s", "--drain", "500ms"},
                       "pubsub_lossy_both");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const test::broker_counts counts = test::stop_and_read_broker_line(server);
  EXPECT_GT(counts.dropped, 0u);
  EXPECT_GT(counts.duplicated, 0u);
  EXPECT_EQ(p["lost"], counts.dropped);
  EXPECT_EQ(p["duplicated"], counts.duplicated);
  expect_consistent(p);
}

// A run against tests/peers/python_chat_server.py on `port`: its JSON
// protocol through templates, 10 publishes/s per publisher for 2 s.
std::vector<std::string> json_chat_run(const std::string& port, std::vector<std::string> layout) {
  std::vector<std::string> args = {"ws://127.0.0.1:" + port + "/"};
  args.insert(args.end(), layout.begin(), layout.end());
  for (const char* arg :
       {"--rate", "10/s", "--duration", "2s", "--group-pattern", "room-{n}", "--subscribe-template",
        R"({"type":"join","room":"{group}"})", "--subscribe-ack",
        R"({"type":"joined","room":"{group}"})", "--publish-template",
        R"({"type":"say","room":"{group}","text":"{payload}"})"})
    args.emplace_back(arg);
  return args;
}

TEST(PubSub, TemplatesDriveAJsonChatServer) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/python_chat_server.py"});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run(json_chat_run(server.port, {"-c", "20", "--groups", "5", "--subscriptions",
                                                   "2", "--publishers", "5"}),
                       "pubsub_json");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  EXPECT_EQ(p["subscribes_in_force"], 40);
  EXPECT_GT(p["publishes"].get<uint64_t>(), 0u);
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["unaccounted"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(p["other_messages"], 0);
  expect_consistent(p);
}

// The JSON chat server in --require-created mode: rooms must be created by
// POST /groups before anyone joins; room-3's creation is refused (422).
TEST(PubSub, GroupsCreatedByRestBeforeSubscribing) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/python_chat_server.py",
                            "--require-created", "--reject", "room-3"});
  ASSERT_FALSE(server.port.empty());
  const auto http_port = server.process->read_line(10000);
  ASSERT_TRUE(http_port.has_value());
  for (const char* batch : {"1", "2"}) {
    auto run = horde_run(
        json_chat_run(server.port,
                      {"-c", "20", "--groups", "6", "--subscriptions", "2", "--publishers", "6",
                       "--setup-url", "http://127.0.0.1:" + *http_port + "/groups", "--setup-batch",
                       batch, "--setup-rate", "200/s", "--setup-concurrency", "2"}),
        std::string("pubsub_setup_") + batch);
    ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
    const auto& p = run.result["pubsub"];
    const auto& setup = p["group_setup"];
    // 6 groups; with batches of 2, room-3 fails together with room-2.
    const uint64_t failed = std::string(batch) == "1" ? 1 : 2;
    EXPECT_EQ(setup["requests"], std::string(batch) == "1" ? 6 : 3);
    EXPECT_EQ(setup["groups_failed"], failed);
    EXPECT_EQ(setup["groups_created"], 6 - failed);
    EXPECT_EQ(setup["statuses"]["422"], 1);
    EXPECT_EQ(setup["latency"]["count"], setup["requests"]);
    // Connection c subscribes to groups (2c, 2c+1) mod 6: each group has
    // 20*2/6 subscriptions give or take one; none of the failed is sent.
    const uint64_t refused = p["subscriptions_refused"];
    EXPECT_GE(refused, failed * 6);
    EXPECT_LE(refused, failed * 7);
    EXPECT_EQ(p["subscribes_in_force"].get<uint64_t>() + refused, 40u);
    EXPECT_EQ(p["other_messages"], 0);  // no "no such room" error came back
    EXPECT_EQ(p["lost"], 0);
    EXPECT_EQ(p["delivered"], p["expected"]);
    expect_consistent(p);
  }
}

TEST(PubSub, BadTemplatesAndLayoutsAreRefusedWithTheReason) {
  auto unknown = horde_run({"-c", "2", "--groups", "2", "--subscribe-template", "join {room}"},
                           "pubsub_bad1", 20000);
  EXPECT_EQ(unknown.process.exit_code, 2);
  EXPECT_NE(unknown.process.err.find("unknown {room}"), std::string::npos) << unknown.process.err;
  auto too_many =
      horde_run({"-c", "2", "--groups", "2", "--subscriptions", "3"}, "pubsub_bad2", 20000);
  EXPECT_EQ(too_many.process.exit_code, 2);
  EXPECT_NE(too_many.process.err.find("more than --groups"), std::string::npos)
      << too_many.process.err;
}

}  // namespace
}  // namespace horde

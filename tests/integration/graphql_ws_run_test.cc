// `horde run --protocol graphql-ws` against a GraphQL server nobody here
// wrote: npm's graphql-ws (its ws adapter) executing with npm's graphql
// (tests/peers/graphql_server.js). Subscriptions as pub/sub with a publishing
// mutation, a query as request/response matched by id, the connection_init
// payload the server checks, a server that never acknowledges, pings both
// ways, a subscription as a stream ended by its complete, and the stamped
// echo through echo-query. Counts are checked against what the server itself
// counted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"
#include "tests/support/stream_checks.hh"

namespace horde {
namespace {

const std::string source_dir = HORDE_SOURCE_DIR;
using test::horde_run;
using test::run_outcome;
using test::start_peer;

// Why the npm GraphQL server cannot run here; empty when it can.
std::string graphql_server_missing() {
  if (access("/usr/bin/node", X_OK) != 0) return "node is not installed (/usr/bin/node)";
  for (const char* module : {"graphql-ws", "graphql", "ws"}) {
    const std::string path = source_dir + "/tests/peers/node_modules/" + module + "/package.json";
    if (access(path.c_str(), R_OK) != 0)
      return std::string(module) +
             " is not in tests/peers/node_modules: (cd tests/peers && npm ci)";
  }
  return {};
}

test::peer_server start_graphql(std::vector<std::string> options = {}) {
  std::vector<std::string> argv = {"/usr/bin/node", source_dir + "/tests/peers/graphql_server.js"};
  argv.insert(argv.end(), options.begin(), options.end());
  return start_peer(argv);
}

// Stops the server (SIGTERM) and reads the totals line it prints.
nlohmann::json server_totals(test::peer_server& server) {
  server.process->signal(SIGTERM);
  while (auto line = server.process->read_line(10000)) {
    auto totals = nlohmann::json::parse(*line, nullptr, false);
    if (totals.is_object() && totals.contains("deliveries")) return totals;
  }
  return {};
}

uint64_t counter(const run_outcome& run, const std::string& name) {
  const auto& counters = run.result["scenario"]["counters"];
  const std::string key = "protocol.graphql-ws." + name;
  return counters.contains(key) ? counters[key].get<uint64_t>() : 0;
}

uint64_t timed(const run_outcome& run, const std::string& histogram) {
  const auto& latency = run.result["scenario"]["latency"];
  const std::string key = "protocol.graphql-ws." + histogram;
  return latency.contains(key) ? latency[key]["count"].get<uint64_t>() : 0;
}

// Every one of the run's `n` connections failed, each for `reason`.
void expect_all_failed(const run_outcome& run, int n, const std::string& reason) {
  ASSERT_FALSE(run.process.timed_out);
  const auto& connections = run.result["connections"];
  EXPECT_EQ(connections["failed"], n) << connections.dump();
  EXPECT_EQ(connections["failures"][reason], n) << connections.dump();
}

std::string url_of(const test::peer_server& server) {
  return "ws://127.0.0.1:" + server.port + "/";  // the codec's default path /graphql fills "/"
}

// The issue's test: 1,000 subscriptions (200 connections x 5 of 50 groups),
// 10 publishing connections whose mutation publishes; every `next` is a
// delivery, counted and timed from the publish.
TEST(GraphqlWsRun, ThousandSubscriptionsEveryNextCountedAndTimed) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql();
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run(
      {url_of(server), "--protocol", "graphql-ws", "-c", "200", "--groups", "50", "--subscriptions",
       "5", "--publishers", "10", "--rate", "10/s", "--settle", "500ms", "--duration", "4s"},
      "graphql_pubsub", 90000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err;
  const auto totals = server_totals(server);
  ASSERT_TRUE(totals.is_object());
  const auto& r = run.result;
  const auto& p = r["pubsub"];
  EXPECT_EQ(r["connections"]["opened"], 200);
  EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"].dump();
  EXPECT_EQ(counter(run, "acks"), 200u);
  EXPECT_EQ(timed(run, "ack"), 200u);
  EXPECT_EQ(totals["subscriptions"], 1000);
  EXPECT_EQ(p["subscribes_in_force"], 1000);
  const uint64_t publishes = p["publishes"];
  EXPECT_GT(publishes, 10u * 10u);  // 10 publishers x 10/s for most of the publishing time
  // Every publish went out as a mutation with an id the codec assigned; the
  // server ran each one.
  EXPECT_EQ(counter(run, "assigned_sent"), publishes);
  EXPECT_EQ(totals["publishes"], publishes);
  EXPECT_EQ(counter(run, "refused_sends"), 0u);
  EXPECT_EQ(counter(run, "errors"), 0u);
  // Every `next` the server sent a subscription is a delivery, counted and timed.
  EXPECT_EQ(p["deliveries_received"], totals["deliveries"]);
  EXPECT_EQ(counter(run, "nexts"), totals["deliveries"].get<uint64_t>());
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["unaccounted"], 0);
  EXPECT_EQ(p["other_messages"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(p["fanout_latency"]["count"], p["delivered"]);
  // Each group has 20 subscribers: every publish owes 20 deliveries.
  EXPECT_EQ(p["expected"].get<uint64_t>(), 20 * publishes);
  // The mutations' own answers were consumed, not taken for deliveries;
  // those answered before the connections closed were timed.
  EXPECT_LE(counter(run, "assigned_nexts"), publishes);
  EXPECT_GT(counter(run, "assigned_nexts"), publishes / 2);
  EXPECT_LE(timed(run, "assigned"), publishes);
  EXPECT_GT(timed(run, "assigned"), publishes / 2);
}

// A query as request/response: each `next` is matched to its request by id.
TEST(GraphqlWsRun, QueriesAnsweredByIdAsRequests) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql();
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run(
      {url_of(server), "--protocol", "graphql-ws", "-c", "20", "--rate", "20/s", "-d", "2s",
       "--request",
       R"({"id":"{seq}","type":"subscribe","payload":{"query":"query($t:String!){echo(text:$t)}","variables":{"t":"hi"}}})"},
      "graphql_query", 60000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err;
  const auto totals = server_totals(server);
  const auto& counters = run.result["scenario"]["counters"];
  const uint64_t sent = counters["request.request0.sent"];
  const uint64_t answered = counters["request.request0.answered"];
  const uint64_t lost = counters["request.request0.lost"];
  EXPECT_GT(sent, 20u * 20u);
  EXPECT_EQ(sent, answered + lost) << counters.dump();
  EXPECT_EQ(totals["queries"], sent);
  EXPECT_EQ(counter(run, "nexts"), answered);
  EXPECT_EQ(counter(run, "completes"), answered);
  EXPECT_EQ(counters["replies.unmatched"], 0);
  EXPECT_EQ(counter(run, "acks"), 20u);
}

// The server checks connection_init's payload: the right token is
// acknowledged, a wrong one is refused: the server closes every connection
// (4403 Forbidden) before any ack.
TEST(GraphqlWsRun, InitPayloadCarriesTheTokenTheServerChecks) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql({"--token", "s3cret"});
  ASSERT_FALSE(server.port.empty());
  auto good = horde_run({url_of(server), "--protocol", "graphql-ws", "--protocol-option",
                         R"(init-payload={"token":"s3cret"})", "-c", "10", "--groups", "2",
                         "--publishers", "2", "--rate", "5/s", "--settle", "300ms", "-d", "2s"},
                        "graphql_token_good", 60000);
  ASSERT_TRUE(test::passed_or_starved(good)) << good.process.err;
  EXPECT_EQ(counter(good, "acks"), 10u);
  EXPECT_EQ(good.result["connections"]["failed"], 0);
  EXPECT_EQ(good.result["pubsub"]["delivered"], good.result["pubsub"]["expected"]);

  auto bad = horde_run({url_of(server), "--protocol", "graphql-ws", "--protocol-option",
                        R"(init-payload={"token":"wrong"})", "-c", "10", "-d", "1s"},
                       "graphql_token_bad", 60000);
  expect_all_failed(bad, 10, "closed_by_server");
  EXPECT_EQ(counter(bad, "acks"), 0u);
  EXPECT_EQ(bad.result["connections"]["server_close_codes"]["4403"], 10);
  const auto totals = server_totals(server);
  EXPECT_EQ(totals["acks"], 10);  // the good run's only
}

// A server that never sends connection_ack: each connection fails once its
// ack-timeout passes, as a protocol handshake failure.
TEST(GraphqlWsRun, AckTimeoutFailsTheHandshake) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql({"--never-ack"});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({url_of(server), "--protocol", "graphql-ws", "--protocol-option",
                        "ack-timeout=300ms", "-c", "8", "-d", "2s"},
                       "graphql_never_ack", 60000);
  expect_all_failed(run, 8, "app_protocol_handshake");
  EXPECT_EQ(run.result["connections"]["opened"], 8);
  EXPECT_EQ(counter(run, "acks"), 0u);
}

// The server pings every 100 ms and each ping is answered; the client pings
// every 200 ms and each pong is timed. Nothing reaches the scenario.
TEST(GraphqlWsRun, PingsAnsweredBothWays) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql({"--ping-ms", "100"});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run(
      {url_of(server), "--protocol", "graphql-ws", "--protocol-option", "ping-interval=200ms", "-c",
       "5", "--groups", "1", "--publishers", "1", "--rate", "2/s", "--settle", "200ms", "-d", "3s"},
      "graphql_pings", 60000);
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err;
  const auto totals = server_totals(server);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  // ~30 server pings per connection in 3 s; pongs for those sent before close.
  const uint64_t answered = counter(run, "pings_answered");
  EXPECT_GT(answered, 5u * 20u);
  EXPECT_EQ(totals["pongs"], answered);
  EXPECT_GE(totals["pings"].get<uint64_t>(), answered);
  const uint64_t sent = counter(run, "pings_sent");
  EXPECT_GT(sent, 5u * 10u);
  EXPECT_GE(counter(run, "pongs"), sent - 5);  // at most one per connection in flight at the end
  EXPECT_EQ(timed(run, "pong"), counter(run, "pongs"));
  EXPECT_EQ(run.result["pubsub"]["other_messages"], 0);
  EXPECT_EQ(run.result["pubsub"]["delivered"], run.result["pubsub"]["expected"]);
}

// A server that breaks the protocol after the ack (a `next` without an id):
// each connection fails with app_protocol_error, and horde ends on time.
TEST(GraphqlWsRun, ProtocolBrokenAfterTheAckFailsTheConnection) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql({"--bad-next-ms", "200"});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({url_of(server), "--protocol", "graphql-ws", "-c", "6", "--groups", "2",
                        "--publishers", "1", "--rate", "2/s", "--settle", "100ms", "-d", "2s"},
                       "graphql_bad_next", 60000);
  expect_all_failed(run, 6, "app_protocol_error");
  EXPECT_EQ(counter(run, "acks"), 6u);
}

// A subscription as a stream (examples/protocol-graphql-ws-stream.yaml):
// countdown(from: 20) streams 20 `next`s and then `complete`, which ends the
// stream; every frame is counted, the first timed from the scheduled send
// and the gaps between the rest.
TEST(GraphqlWsRun, SubscriptionStreamsEndOnTheirComplete) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql();
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({"--scenario", source_dir + "/examples/protocol-graphql-ws-stream.yaml",
                        url_of(server), "-c", "20", "-d", "2s"},
                       "graphql_stream", 60000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err;
  const auto totals = server_totals(server);
  // 20 connections at 2/s for about 2 s; 20 nexts and the complete per stream.
  const uint64_t completed = test::expect_every_stream_whole(run, "countdown", 21, 20 * 2);
  EXPECT_EQ(counter(run, "nexts"), 20 * completed);
  EXPECT_EQ(counter(run, "streams_ended"), completed);
  EXPECT_EQ(totals["countdowns"], completed);
  EXPECT_EQ(totals["countdown_items"], 20 * completed);
}

// The default load, the stamped echo, over graphql-ws: each message goes out
// as the echo-query's variable (binary as base64url) and comes back in its
// `next`, byte for byte; every one answered, none corrupted.
TEST(GraphqlWsRun, EchoQueryCarriesTheStampedEcho) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql();
  ASSERT_FALSE(server.port.empty());
  uint64_t queries = 0;
  for (const bool text : {false, true}) {
    const int connections = text ? 10 : 50;
    std::vector<std::string> args = {url_of(server),
                                     "--protocol",
                                     "graphql-ws",
                                     "--protocol-option",
                                     "echo-query=query($t:String!){echo(text:$t)}",
                                     "-c",
                                     std::to_string(connections),
                                     "--rate",
                                     "10/s",
                                     "-d",
                                     text ? "1s" : "2s"};
    if (text) args.push_back("--text");
    auto run = horde_run(args, "graphql_echo", 60000);
    ASSERT_FALSE(run.process.timed_out);
    test::expect_every_message_echoed(run, connections);
    const auto& messages = run.result["messages"];
    const uint64_t sent = messages["sent"];
    EXPECT_EQ(messages["corrupted"], 0) << messages.dump();
    EXPECT_EQ(messages["truncated"], 0) << messages.dump();
    EXPECT_EQ(messages["unstamped"], 0) << messages.dump();
    EXPECT_EQ(counter(run, "echoes_sent"), sent);
    EXPECT_EQ(counter(run, "echoes"), sent);
    EXPECT_EQ(counter(run, "echo_unreadable"), 0u);
    EXPECT_EQ(counter(run, "refused_sends"), 0u);
    queries += sent;
  }
  EXPECT_EQ(server_totals(server)["queries"], queries);
}

// Without echo-query the echo's bare stamps are not GraphQL: refused,
// counted, never sent (the server would close with 4400).
TEST(GraphqlWsRun, EchoWithoutEchoQueryIsRefused) {
  if (auto missing = graphql_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_graphql();
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run(
      {url_of(server), "--protocol", "graphql-ws", "-c", "5", "--rate", "10/s", "-d", "1s"},
      "graphql_echo_refused", 60000);
  ASSERT_FALSE(run.process.timed_out);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  EXPECT_GT(counter(run, "refused_sends"), 0u);
  EXPECT_EQ(counter(run, "echoes_sent"), 0u);
  EXPECT_EQ(run.result["messages"]["answered"], 0);
  EXPECT_EQ(server_totals(server)["queries"], 0);
}

TEST(GraphqlWsRun, BadOptionsAreRefusedBeforeAnyConnection) {
  auto run = horde_run({"ws://127.0.0.1:9/", "--protocol", "graphql-ws", "--protocol-option",
                        "ack-timeout=soon", "-c", "1", "-d", "1s"},
                       "graphql_bad_option", 20000);
  EXPECT_EQ(run.process.exit_code, 2) << run.process.err;
  EXPECT_NE(run.process.err.find("ack-timeout=soon"), std::string::npos) << run.process.err;
  auto typo = horde_run({"ws://127.0.0.1:9/", "--protocol", "graphql-ws", "--protocol-option",
                         "ping-intervall=1s", "-c", "1", "-d", "1s"},
                        "graphql_typo_option", 20000);
  EXPECT_NE(typo.process.err.find("did you mean 'ping-interval'"), std::string::npos)
      << typo.process.err;
}

}  // namespace
}  // namespace horde

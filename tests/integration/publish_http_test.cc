// `horde run --publish-http`: subscribers on WebSocket, publishes by REST
// from P extra publisher connections, against an aiohttp server
// (tests/peers/aiohttp_broadcast_server.py) whose REST port differs from
// its WebSocket port. Deliveries are matched by stamp; what the server
// dropped is lost exactly, what it refused (503) is refused, not lost.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"
#include "tests/support/tls_test_peer.hh"

namespace horde {
namespace {

using test::horde_run;
using test::start_peer;

const std::string source_dir = HORDE_SOURCE_DIR;

bool python_has_aiohttp() {
  return test::run_process({HORDE_PYTHON, "-c", "import aiohttp"}, 20000).exit_code == 0;
}

struct broadcast_peer {
  test::peer_server server;
  std::string rest_port;
};

broadcast_peer start_broadcast(std::vector<std::string> faults) {
  std::vector<std::string> argv = {HORDE_PYTHON,
                                   source_dir + "/tests/peers/aiohttp_broadcast_server.py"};
  argv.insert(argv.end(), faults.begin(), faults.end());
  broadcast_peer peer{start_peer(argv), {}};
  if (auto line = peer.server.process->read_line(10000)) peer.rest_port = *line;
  return peer;
}

// 40 subscribers x 1 of 8 groups (5 each), 4 HTTP publishers at 25/s for 2 s.
test::run_outcome broadcast_run(const broadcast_peer& peer, const std::string& name) {
  return horde_run({"ws://127.0.0.1:" + peer.server.port + "/ws",
                    "-c",
                    "40",
                    "--groups",
                    "8",
                    "--subscriptions",
                    "1",
                    "--publishers",
                    "4",
                    "--rate",
                    "25/s",
                    "--duration",
                    "2s",
                    "--drain",
                    "1s",
                    "--subscribe-template",
                    R"({"op":"sub","group":"{group}"})",
                    "--subscribe-ack",
                    R"({"op":"subscribed","group":"{group}"})",
                    "--publish-http",
                    "POST http://127.0.0.1:" + peer.rest_port + "/publish/{group}",
                    "--publish-http-header",
                    "Content-Type: text/plain"},
                   name);
}

// Starts the peer with `faults` and runs horde against it; the peer ends
// with the call.
test::run_outcome run_with_faults(std::vector<std::string> faults, const std::string& name) {
  auto peer = start_broadcast(std::move(faults));
  EXPECT_FALSE(peer.rest_port.empty());
  if (peer.rest_port.empty()) return {};
  return broadcast_run(peer, name);
}

void expect_consistent(const nlohmann::json& p) {
  const uint64_t expected = p["expected"], delivered = p["delivered"], lost = p["lost"];
  EXPECT_EQ(delivered + lost, expected);
  EXPECT_EQ(p["deliveries_received"], delivered + p["duplicated"].get<uint64_t>());
  EXPECT_EQ(p["unaccounted"], 0);
  EXPECT_EQ(p["other_messages"], 0);
}

TEST(PublishHttp, EveryPublishByRestIsDeliveredAndTimed) {
  if (!python_has_aiohttp()) GTEST_SKIP() << HORDE_PYTHON << " lacks aiohttp (python3-aiohttp)";
  auto run = run_with_faults({}, "publish_http_exact");
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const auto& http = p["publish_http"];
  // -c counts the subscribers; the 4 publishers are extra and never subscribe.
  EXPECT_EQ(p["subscribes_in_force"], 40);
  EXPECT_EQ(p["publishers"], 4);
  const uint64_t publishes = p["publishes"];
  EXPECT_GT(publishes, 100u);  // 4 x 25/s over most of 2 s
  EXPECT_EQ(http["requests"], publishes);
  EXPECT_EQ(http["ok"], publishes);
  EXPECT_EQ(http["statuses"]["2xx"], publishes);
  EXPECT_EQ(http["refused"], 0);
  EXPECT_EQ(http["no_answer"], 0);
  EXPECT_EQ(http["latency"]["count"], publishes);
  EXPECT_EQ(p["expected"], 5 * publishes);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["fanout_latency"]["count"], p["delivered"]);
  EXPECT_EQ(p["last_subscriber_never_completed"], 0);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  expect_consistent(p);
}

TEST(PublishHttp, WhatTheServerDroppedIsLostExactly) {
  if (!python_has_aiohttp()) GTEST_SKIP() << HORDE_PYTHON << " lacks aiohttp (python3-aiohttp)";
  auto run = run_with_faults({"--drop-every", "7"}, "publish_http_drop");
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const uint64_t publishes = p["publishes"];
  ASSERT_GT(publishes, 7u);
  // The peer answered 202 to every 7th publish and delivered it to nobody:
  // each owed its group's 5 subscribers.
  EXPECT_EQ(p["publish_http"]["ok"], publishes);
  EXPECT_EQ(p["lost"], 5 * (publishes / 7));
  EXPECT_EQ(p["expected"], 5 * publishes);
  expect_consistent(p);
}

TEST(PublishHttp, RefusedPublishesAreNotCountedAsLoss) {
  if (!python_has_aiohttp()) GTEST_SKIP() << HORDE_PYTHON << " lacks aiohttp (python3-aiohttp)";
  auto run = run_with_faults({"--refuse-every", "5"}, "publish_http_refuse");
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const auto& http = p["publish_http"];
  const uint64_t publishes = p["publishes"];
  const uint64_t refused = publishes / 5;
  ASSERT_GT(refused, 0u);
  EXPECT_EQ(http["refused"], refused);
  EXPECT_EQ(http["statuses"]["5xx"], refused);
  EXPECT_EQ(http["ok"], publishes - refused);
  EXPECT_EQ(http["publishes_refused"], refused);
  EXPECT_EQ(http["refused_owed"], 5 * refused);
  EXPECT_EQ(p["expected"], 5 * (publishes - refused));
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  expect_consistent(p);
}

TEST(PublishHttp, APublisherWhoseSocketIsClosedReconnects) {
  if (!python_has_aiohttp()) GTEST_SKIP() << HORDE_PYTHON << " lacks aiohttp (python3-aiohttp)";
  auto run = run_with_faults({"--close-every", "10"}, "publish_http_close");
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const auto& http = p["publish_http"];
  const uint64_t publishes = p["publishes"];
  EXPECT_GT(publishes, 100u);
  EXPECT_GE(http["reconnects"].get<uint64_t>(), publishes / 10 - 4);
  EXPECT_EQ(http["ok"], publishes);
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  expect_consistent(p);
}

TEST(PublishHttp, OverTlsWithTheWebSocketsTransport) {
  if (!python_has_aiohttp()) GTEST_SKIP() << HORDE_PYTHON << " lacks aiohttp (python3-aiohttp)";
  test::test_pki pki;
  const std::string pem = pki.dir.path() + "/server-and-key.pem";
  test::write_pem(pem, pki.server_cert.get(), pki.server_key.get());
  auto peer = start_broadcast({"--tls-pem", pem});
  ASSERT_FALSE(peer.rest_port.empty());
  auto run =
      horde_run({"wss://127.0.0.1:" + peer.server.port + "/ws", "--ca", pki.ca_file, "-c", "20",
                 "--groups", "4", "--publishers", "2", "--rate", "20/s", "--duration", "2s",
                 "--subscribe-template", R"({"op":"sub","group":"{group}"})", "--subscribe-ack",
                 R"({"op":"subscribed","group":"{group}"})", "--publish-http",
                 "https://127.0.0.1:" + peer.rest_port + "/publish/{group}"},
                "publish_http_tls");
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  const uint64_t publishes = p["publishes"];
  EXPECT_GT(publishes, 40u);
  EXPECT_EQ(p["publish_http"]["ok"], publishes);
  EXPECT_EQ(p["expected"], 5 * publishes);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  expect_consistent(p);
}

TEST(PublishHttp, BadFlagsAreRefusedWithTheReason) {
  auto embedded = horde_run(
      {"-c", "2", "--groups", "2", "--publish-http", "http://127.0.0.1:1/publish/{group}"},
      "publish_http_bad1", 20000);
  EXPECT_EQ(embedded.process.exit_code, 2);
  EXPECT_NE(embedded.process.err.find("--publish-http needs the server's URL"), std::string::npos)
      << embedded.process.err;
  auto scheme = horde_run({"ws://127.0.0.1:1/", "-c", "2", "--groups", "2", "--publish-http",
                           "https://127.0.0.1:1/publish/{group}"},
                          "publish_http_bad2", 20000);
  EXPECT_EQ(scheme.process.exit_code, 2);
  EXPECT_NE(scheme.process.err.find("use http://"), std::string::npos) << scheme.process.err;
  auto body = horde_run({"ws://127.0.0.1:1/", "-c", "2", "--groups", "2", "--publish-http",
                         "http://127.0.0.1:1/p/{group}", "--publish-http-body", "{group}"},
                        "publish_http_bad3", 20000);
  EXPECT_EQ(body.process.exit_code, 2);
  EXPECT_NE(body.process.err.find("--publish-http-body needs {payload}"), std::string::npos)
      << body.process.err;
}

}  // namespace
}  // namespace horde

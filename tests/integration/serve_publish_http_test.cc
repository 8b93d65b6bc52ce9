// `horde serve`'s HTTP publish endpoint (POST /publish/G): `horde run
// --publish-http` against horde's own server, with no third-party peer,
// delivers every publish exactly (two server shards, so publishes cross
// between them); and the endpoint's answers to a plain HTTP client (Python's
// http.client): 202 on a kept-alive connection, 404, 413, 400.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

using test::horde_binary;
using test::horde_run;
using test::start_peer;

// "listening ws://127.0.0.1:PORT/ ..." -> "PORT".
std::string port_of(const test::peer_server& server) {
  const std::string url = test::served_url(server.port);
  const size_t colon = url.rfind(':');
  return colon == std::string::npos ? std::string() : url.substr(colon + 1, url.size() - colon - 2);
}

// Every publish answered 202 owed each of its group's 5 subscribers one
// delivery, and got it. A request still in flight when a starved run's
// drain ends is cut (no_answer: refused, owing nothing), though the server
// may have delivered it: at most one per publisher, and only then may
// deliveries pass what was owed.
void expect_exact(const nlohmann::json& r, uint64_t server_deliveries) {
  const auto& p = r["pubsub"];
  const auto& http = p["publish_http"];
  const uint64_t publishes = p["publishes"], ok = http["ok"], cut = http["no_answer"];
  EXPECT_GT(publishes, 50u);  // 4 x 25/s over most of 2 s, on a busy host
  EXPECT_EQ(p["subscribes_in_force"], 40);
  EXPECT_EQ(http["requests"], publishes);
  EXPECT_EQ(ok + cut, publishes);
  EXPECT_LE(cut, 4u) << http.dump();
  EXPECT_EQ(http["refused"], 0);
  EXPECT_EQ(http["reconnects"], 0);  // every request on its kept-alive socket
  EXPECT_EQ(p["expected"], 5 * ok);
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["unaccounted"], 0);
  const uint64_t delivered = p["delivered"];
  EXPECT_GE(delivered, 5 * ok);
  EXPECT_LE(delivered, 5 * publishes);
  if (server_deliveries == 0) return;  // the server's line was not read
  const uint64_t received = p["deliveries_received"];
  if (cut == 0) {
    EXPECT_EQ(server_deliveries, received);
  }
  EXPECT_GE(server_deliveries, received);
}

TEST(ServePublishHttp, HordeRunPublishesToHordeServeByRestExactly) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "2"});
  const std::string port = port_of(server);
  ASSERT_FALSE(port.empty()) << server.port;
  auto run =
      horde_run({"ws://127.0.0.1:" + port + "/", "-c", "40", "--groups", "8", "--subscriptions",
                 "1", "--publishers", "4", "--rate", "25/s", "--duration", "2s", "--drain", "1s",
                 "--publish-http", "POST http://127.0.0.1:" + port + "/publish/{group}"},
                "serve_publish_http");
  const auto broker = test::stop_and_read_broker_line(server);
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  expect_exact(run.result, broker.deliveries);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
}

// Two origins (the server on every address; 127.0.0.1 and 127.0.0.2 are
// two origins of one loopback): publishers take them in turn, each
// origin's figures add up to the totals, and every delivery is exact.
TEST(ServePublishHttp, PublishesSpreadOverSeveralOriginsStayExact) {
  auto server = start_peer({horde_binary, "serve", "--listen", "0.0.0.0:0", "--shards", "2"});
  const std::string port = port_of(server);
  ASSERT_FALSE(port.empty()) << server.port;
  auto run =
      horde_run({"ws://127.0.0.1:" + port + "/", "-c", "40", "--groups", "8", "--subscriptions",
                 "1", "--publishers", "4", "--rate", "25/s", "--duration", "2s", "--drain", "1s",
                 "--publish-http", "POST http://127.0.0.1:" + port + "/publish/{group}",
                 "--publish-http", "POST http://127.0.0.2:" + port + "/publish/{group}"},
                "serve_publish_http_origins");
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  expect_exact(run.result, 0);
  const auto& http = run.result["pubsub"]["publish_http"];
  const uint64_t publishes = run.result["pubsub"]["publishes"];
  ASSERT_EQ(http["origins"].size(), 2u) << http.dump();
  uint64_t sum = 0;
  for (const auto& origin : http["origins"]) {
    // 2 of the 4 publishers each, at the same rate (a starved shard may lag).
    EXPECT_NEAR(double(origin["requests"].get<uint64_t>()), double(publishes) / 2,
                2.0 + double(publishes) / 10)
        << origin.dump();
    EXPECT_EQ(origin["ok"].get<uint64_t>() + origin["no_answer"].get<uint64_t>(),
              origin["requests"].get<uint64_t>());
    EXPECT_EQ(origin["latency"]["count"], origin["ok"]);
    sum += origin["requests"].get<uint64_t>();
  }
  EXPECT_EQ(http["origins"][1]["host"], "127.0.0.2:" + port);
  EXPECT_EQ(sum, publishes);
  EXPECT_NE(run.process.out.find("publish_http#2"), std::string::npos) << run.process.out;
}

// A plain HTTP client: what each request is answered, and that 202s keep
// the connection alive. Prints one line per answer.
const char* http_client = R"PY(
import http.client, sys
port = int(sys.argv[1])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for body in (b"first", b"second \xff binary"):
    c.request("POST", "/publish/room-1", body=body)
    r = c.getresponse(); r.read()
    print(r.status, r.getheader("Connection"))
def fresh(path, body, headers={}):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse(); r.read()
    print(r.status)
fresh("/publish/", b"x")
fresh("/publish/g1", b"x" * (70 * 1024))
fresh("/publish/g1", b"x", {"Transfer-Encoding": "chunked"})
)PY";

TEST(ServePublishHttp, AnswersEachRequestAsTheEndpointSays) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0"});
  const std::string port = port_of(server);
  ASSERT_FALSE(port.empty()) << server.port;
  auto client = test::run_process({HORDE_PYTHON, "-c", http_client, port}, 30000);
  server.process->signal(SIGTERM);
  std::string totals;
  while (auto line = server.process->read_line(10000))
    if (line->starts_with("http publishes:")) totals = *line;
  ASSERT_EQ(client.exit_code, 0) << client.err;
  EXPECT_EQ(client.out, "202 keep-alive\n202 keep-alive\n404\n413\n400\n");
  EXPECT_EQ(totals, "http publishes: 2 refused 3");
}

}  // namespace
}  // namespace horde

// `horde run --protocol socketio` against the official socket.io server (npm
// socket.io 4, tests/peers/socketio_server.js): 1,000 clients emitting with
// acknowledgements, rooms broadcast with exact delivery counts checked
// against the server's own, a ping interval far shorter than the run and its
// drain dropping no one, plain messages echoed, a namespace behind auth, and
// binary attachments counted. Each run is a few seconds, bounded by
// --duration and horde_run's kill deadline.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"
#include "tests/support/node_peer.hh"
#include "tests/support/stream_checks.hh"

namespace horde {
namespace {

using test::horde_run;
using test::run_outcome;
using test::start_peer;

const std::string source_dir = HORDE_SOURCE_DIR;

std::string socketio_missing() {
  return test::node_module_missing(source_dir, "socket.io");
}

test::peer_server start_socketio(std::vector<std::string> flags = {}) {
  std::vector<std::string> argv = {"/usr/bin/node", source_dir + "/tests/peers/socketio_server.js"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return start_peer(argv);
}

std::string url_of(const test::peer_server& server) {
  return "ws://127.0.0.1:" + server.port + "/";
}

// What the server counted ("socketio: connections N events N publishes N
// deliveries N ping_drops N items N"), read after SIGTERM.
struct server_counts {
  unsigned long long connections = 0, events = 0, publishes = 0, deliveries = 0, ping_drops = 0,
                     items = 0;
  bool read = false;
};

server_counts stop_and_count(test::peer_server& server) {
  server.process->signal(SIGTERM);
  server_counts c;
  while (auto line = server.process->read_line(10000)) {
    if (std::sscanf(line->c_str(),
                    "socketio: connections %llu events %llu publishes %llu deliveries %llu "
                    "ping_drops %llu items %llu",
                    &c.connections, &c.events, &c.publishes, &c.deliveries, &c.ping_drops,
                    &c.items) == 6)
      c.read = true;
  }
  return c;
}

uint64_t counter(const run_outcome& run, const std::string& name) {
  const auto& counters = run.result["scenario"]["counters"];
  return counters.contains(name) ? counters[name].get<uint64_t>() : 0;
}

uint64_t codec_counter(const run_outcome& run, const std::string& name) {
  return counter(run, "protocol.socketio." + name);
}

uint64_t failures(const run_outcome& run, const std::string& reason) {
  const auto& f = run.result["connections"]["failures"];
  return f.contains(reason) ? f[reason].get<uint64_t>() : 0;
}

std::string dump(const run_outcome& run) {
  return run.result.is_null() ? run.process.err : run.result["scenario"].dump();
}

TEST(SocketioRun, ThousandClientsEmitWithAcknowledgement) {
  if (auto missing = socketio_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_socketio();
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({url_of(server), "--protocol", "socketio", "-c", "1000", "--connect-rate",
                        "2000/s", "--request", R"(42{seq}["echo","n{seq}",{"k":1}])", "--match",
                        "/ack", "--rate", "2/s", "-d", "3s"},
                       "socketio_acks", 90000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["opened"], 1000);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  EXPECT_EQ(codec_counter(run, "handshakes"), 1000u) << dump(run);
  const uint64_t sent = counter(run, "request.request0.sent");
  const uint64_t answered = counter(run, "request.request0.answered");
  std::printf("[socketio acks] sent %llu answered %llu p50 %s\n", (unsigned long long)sent,
              (unsigned long long)answered,
              run.result["scenario"]["latency"]["request.request0"]["percentiles_ns"]["p50"]
                  .dump()
                  .c_str());
  EXPECT_GT(sent, 1000u * 2u) << dump(run);  // 1,000 x 2/s for most of 3 s
  // Every emit asked for an ack, and every ack came back and was matched.
  EXPECT_EQ(codec_counter(run, "acks_requested"), sent);
  EXPECT_EQ(answered, sent) << dump(run);
  EXPECT_EQ(codec_counter(run, "acks"), answered);
  EXPECT_EQ(counter(run, "request.request0.timeouts"), 0u);
  EXPECT_EQ(counter(run, "replies.unmatched"), 0u) << dump(run);
  EXPECT_EQ(codec_counter(run, "refused_sends"), 0u);
  EXPECT_EQ(run.result["scenario"]["latency"]["request.request0"]["count"], answered);
  const server_counts s = stop_and_count(server);
  ASSERT_TRUE(s.read);
  EXPECT_EQ(s.connections, 1000u);
  EXPECT_EQ(s.events, sent);
}

TEST(SocketioRun, RoomsBroadcastWithExactDeliveryCounts) {
  if (auto missing = socketio_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_socketio();
  ASSERT_FALSE(server.port.empty());
  // 1,000 connections in 50 rooms of 40 (2 rooms each), 50 publishers: the
  // default templates join, publish and expect ["joined","<room>"].
  auto run = horde_run(
      {url_of(server), "--protocol", "socketio", "-c", "1000", "--connect-rate", "2000/s",
       "--groups", "50", "--subscriptions", "2", "--publishers", "50", "--rate", "5/s", "-d", "4s"},
      "socketio_rooms", 90000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& p = run.result["pubsub"];
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  EXPECT_EQ(p["subscribes_in_force"], 2000);
  const uint64_t publishes = p["publishes"];
  // Publishing starts once all 2,000 joins are acknowledged; on a loaded
  // machine that takes most of the run, so only a floor: the counts below
  // are the point, and they are exact whatever the number.
  EXPECT_GT(publishes, 50u);
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["reordered"], 0);
  EXPECT_EQ(p["other_messages"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  // Each room has exactly 40 members: 40 deliveries a publish.
  EXPECT_EQ(p["expected"].get<uint64_t>(), 40 * publishes);
  const server_counts s = stop_and_count(server);
  ASSERT_TRUE(s.read);
  EXPECT_EQ(s.publishes, publishes);
  EXPECT_EQ(s.deliveries, p["delivered"].get<uint64_t>());
  EXPECT_EQ(s.events, publishes + 2000);  // the publishes and the joins
  EXPECT_EQ(codec_counter(run, "events"), p["delivered"].get<uint64_t>() + 2000);
}

TEST(SocketioRun, PingIntervalShorterThanTheDrainDropsNoOne) {
  if (auto missing = socketio_missing(); !missing.empty()) GTEST_SKIP() << missing;
  // The server pings every 250 ms and drops a client whose pong is 1 s late
  // (room for a loaded test machine). The run holds 500 connections 2 s,
  // each emitting an event the server never acknowledges, so the 2 s drain
  // runs to its end waiting for acks: eight more pings each, with nothing
  // else to send.
  auto server = start_socketio({"--ping-interval", "250", "--ping-timeout", "1000"});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({url_of(server), "--protocol", "socketio", "-c", "500", "--connect-rate",
                        "2000/s", "--request", R"(42{seq}["unanswered"])", "--match", "/ack",
                        "--rate", "1/s", "--request-timeout", "30s", "-d", "2s", "--drain", "2s"},
                       "socketio_pings", 90000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_FALSE(run.result.is_null()) << run.process.err;
  EXPECT_EQ(run.result["connections"]["opened"], 500);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  EXPECT_EQ(codec_counter(run, "server_silent"), 0u);
  EXPECT_EQ(codec_counter(run, "disconnects"), 0u);
  EXPECT_EQ(counter(run, "request.request0.answered"), 0u);
  // Pings through the run and the drain: 4 s of 250 ms intervals is 16 a
  // connection; 12 leaves room for the ramp and a loaded machine, and is
  // more than the 2 s of the run alone could give.
  const uint64_t pongs = codec_counter(run, "pongs");
  EXPECT_GE(pongs, 500u * 12u) << dump(run);
  const auto& delay = run.result["scenario"]["latency"]["protocol.socketio.pong_delay"];
  EXPECT_EQ(delay["count"], pongs);
  std::printf("[socketio pings] pongs %llu pong delay p99 %s ns\n", (unsigned long long)pongs,
              delay["percentiles_ns"]["p99"].dump().c_str());
  const server_counts s = stop_and_count(server);
  ASSERT_TRUE(s.read);
  EXPECT_EQ(s.connections, 500u);
  EXPECT_EQ(s.ping_drops, 0u);
}

TEST(SocketioRun, EchoedMessagesComeBackAsSentBinaryAndText) {
  if (auto missing = socketio_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_socketio();
  ASSERT_FALSE(server.port.empty());
  // No scenario flags: horde's stamped echo, as socket.send(buffer) (the
  // default binary payload) and as socket.send(text) (--text).
  for (const bool text : {false, true}) {
    std::vector<std::string> args = {url_of(server), "--protocol", "socketio", "-c", "20",
                                     "--rate",       "20/s",       "-d",       "2s"};
    if (text) args.push_back("--text");
    const std::string payload = text ? "text" : "binary";
    auto run = horde_run(args, "socketio_echo");
    ASSERT_FALSE(run.process.timed_out);
    test::expect_every_message_echoed(run, 20);
    EXPECT_EQ(run.result["messages"]["corrupted"], 0) << payload;
    const uint64_t answered = run.result["messages"]["answered"];
    EXPECT_EQ(codec_counter(run, "events"), answered) << payload;
    EXPECT_EQ(codec_counter(run, "attachments"), text ? 0 : answered) << payload;
    EXPECT_EQ(codec_counter(run, "refused_sends"), 0u);
  }
}

// An emit answered by many events, as a stream
// (examples/protocol-socketio-stream.yaml): count(10, tag) is answered by ten
// item(tag, i) and done(tag); each event is matched to its stream by its tag
// and "done" ends it. Every frame counted, none cut short.
TEST(SocketioRun, EmitAnsweredByManyEventsIsAStream) {
  if (auto missing = socketio_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_socketio();
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({"--scenario", source_dir + "/examples/protocol-socketio-stream.yaml",
                        url_of(server), "-c", "20", "-d", "2s"},
                       "socketio_stream");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err;
  const server_counts seen = stop_and_count(server);
  ASSERT_TRUE(seen.read);
  // 20 connections at 2/s for about 2 s; ten items and the done per
  // stream, each an event handed up once.
  const uint64_t completed = test::expect_every_stream_whole(run, "count", 11, 20 * 2);
  EXPECT_EQ(codec_counter(run, "events"), 11 * completed);
  EXPECT_EQ(seen.items, 10 * completed);
}

TEST(SocketioRun, NamespaceWithAuthJoinedOrRefused) {
  if (auto missing = socketio_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_socketio();
  ASSERT_FALSE(server.port.empty());
  auto good =
      horde_run({url_of(server), "--protocol", "socketio", "--protocol-option", "namespace=/secure",
                 "--protocol-option", R"(auth={"token":"letmein"})", "-c", "20", "--request",
                 R"(42{seq}["echo","x"])", "--match", "/ack", "--rate", "5/s", "-d", "2s"},
                "socketio_ns_ok");
  ASSERT_TRUE(passed_or_starved(good)) << good.process.err;
  EXPECT_EQ(good.result["connections"]["failed"], 0);
  EXPECT_EQ(codec_counter(good, "handshakes"), 20u);
  EXPECT_GT(counter(good, "request.request0.answered"), 0u);
  EXPECT_EQ(counter(good, "request.request0.answered"), counter(good, "request.request0.sent"));

  auto bad =
      horde_run({url_of(server), "--protocol", "socketio", "--protocol-option", "namespace=/secure",
                 "--protocol-option", R"(auth={"token":"wrong"})", "-c", "20", "-d", "1s"},
                "socketio_ns_refused");
  ASSERT_FALSE(bad.process.timed_out);
  ASSERT_FALSE(bad.result.is_null()) << bad.process.err;
  EXPECT_EQ(failures(bad, "app_protocol_handshake"), 20u) << bad.result["connections"].dump();
  EXPECT_EQ(codec_counter(bad, "connect_errors"), 20u);
  EXPECT_EQ(codec_counter(bad, "handshakes"), 0u);
}

TEST(SocketioRun, BinaryAttachmentsCountedAndSkipped) {
  if (auto missing = socketio_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_socketio();
  ASSERT_FALSE(server.port.empty());
  // The server answers each file() with an event carrying one Buffer.
  auto run = horde_run(
      {url_of(server), "--protocol", "socketio", "-c", "10", "--heartbeat-every", "200ms",
       "--heartbeat-send", R"(["file"])", "--heartbeat-expect", R"(/0 == "file")", "-d", "2s"},
      "socketio_binary");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  const uint64_t answered = counter(run, "heartbeat.answered");
  EXPECT_GT(answered, 10u * 5u) << dump(run);
  EXPECT_EQ(codec_counter(run, "attachments"), codec_counter(run, "events"));
  EXPECT_GE(codec_counter(run, "attachments"), answered);
}

}  // namespace
}  // namespace horde

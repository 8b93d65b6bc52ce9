// What a user of --protocol reads in the report and decides the exit code
// on, against the official socket.io server (tests/peers/socketio_server.js):
// a refused handshake's own words beside its failure reason (text report and
// JSON), a threshold on a codec metric failing the run with exit 1 (at its
// end, or live with `:abort`), and another protocol's metric refused before
// the run with exit 2. Each run is one or two seconds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"
#include "tests/support/node_peer.hh"

namespace horde {
namespace {

using test::horde_run;

const std::string source_dir = HORDE_SOURCE_DIR;

struct socketio_peer {
  test::peer_server server;
  std::string url;
};

socketio_peer start_socketio() {
  socketio_peer p;
  p.server = test::start_peer({"/usr/bin/node", source_dir + "/tests/peers/socketio_server.js"});
  p.url = "ws://127.0.0.1:" + p.server.port + "/";
  return p;
}

// `connections` clients sent to the namespace /secure with a wrong token,
// which it refuses with connect_error; extra: more flags.
test::run_outcome run_refused(const socketio_peer& peer, const std::string& connections,
                              std::vector<std::string> extra, const std::string& name) {
  std::vector<std::string> args = {peer.url,
                                   "--protocol",
                                   "socketio",
                                   "--protocol-option",
                                   "namespace=/secure",
                                   "--protocol-option",
                                   R"(auth={"token":"wrong"})",
                                   "-c",
                                   connections,
                                   "-d",
                                   "1s"};
  args.insert(args.end(), extra.begin(), extra.end());
  return horde_run(args, name);
}

// The namespace /secure refuses a wrong token with connect_error: the codec
// says so, and the report shows it under app_protocol_handshake.
TEST(ProtocolReport, ARefusedHandshakesOwnWordsAreInTheTextAndTheJson) {
  if (auto missing = test::node_module_missing(source_dir, "socket.io"); !missing.empty())
    GTEST_SKIP() << missing;
  auto peer = start_socketio();
  ASSERT_FALSE(peer.server.port.empty());
  auto run = run_refused(peer, "8", {"--threshold", "protocol.socketio.connect_errors==0"},
                         "protocol_refused_text");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_FALSE(run.result.is_null()) << run.process.err;
  const std::string why = "Socket.IO: the server refused the namespace (connect_error)";
  const auto& c = run.result["connections"];
  EXPECT_EQ(c["failures"]["app_protocol_handshake"], 8) << c.dump();
  ASSERT_EQ(c["protocol_failures"].size(), 1u) << c.dump();
  EXPECT_EQ(c["protocol_failures"][0]["reason"], "app_protocol_handshake");
  EXPECT_EQ(c["protocol_failures"][0]["text"], why);
  EXPECT_EQ(c["protocol_failures"][0]["count"], 8);
  EXPECT_EQ(c["protocol_failures_unlisted"], 0);
  // The text report: the reason's line, then the codec's words and count.
  const std::string& out = run.process.out;
  const size_t reason = out.find("app_protocol_handshake 8:");
  ASSERT_NE(reason, std::string::npos) << out;
  EXPECT_NE(out.find("\"" + why + "\": 8", reason), std::string::npos) << out;
  // Every WebSocket opened, but no Socket.IO handshake completed: the
  // threshold on the codec's own count fails, and so does horde's implicit
  // check that one connection got as far as the scenario.
  EXPECT_EQ(c["opened"], 8);
  EXPECT_NE(out.find("FAIL  protocol.socketio.connect_errors==0"), std::string::npos) << out;
  EXPECT_NE(out.find("no protocol handshake completed"), std::string::npos) << out;
  EXPECT_EQ(run.process.exit_code, 1) << out;
}

// Without any threshold, such a run still fails (exit 1): nothing worked.
TEST(ProtocolReport, ARunWhoseHandshakesAllFailedExitsOneWithoutThresholds) {
  if (auto missing = test::node_module_missing(source_dir, "socket.io"); !missing.empty())
    GTEST_SKIP() << missing;
  auto peer = start_socketio();
  ASSERT_FALSE(peer.server.port.empty());
  auto run = run_refused(peer, "4", {}, "protocol_refused_no_threshold");
  ASSERT_FALSE(run.result.is_null()) << run.process.err;
  EXPECT_EQ(run.result["connections"]["opened"], 4);
  EXPECT_EQ(run.process.exit_code, 1) << run.process.out;
  EXPECT_EQ(run.result["verdict"]["exit_code"], 1) << run.result["verdict"].dump();
}

// A threshold on the codec's counter is judged like any other: it fails the
// run (exit 1) with its measured value, beside one on its histogram that
// passes.
TEST(ProtocolReport, AThresholdOnACodecMetricFailsTheRun) {
  if (auto missing = test::node_module_missing(source_dir, "socket.io"); !missing.empty())
    GTEST_SKIP() << missing;
  auto peer = start_socketio();
  ASSERT_FALSE(peer.server.port.empty());
  auto run = horde_run(
      {peer.url, "--protocol", "socketio", "-c", "6", "--rate", "0", "-d", "1s", "--threshold",
       "protocol.socketio.handshakes<6", "--threshold", "protocol.socketio.handshake.p99<30s"},
      "protocol_threshold_fails");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_FALSE(run.result.is_null()) << run.process.err;
  if (run.process.exit_code == 3 && test::passed_or_starved(run))
    GTEST_SKIP() << "horde was starved on this busy machine (exit 3 is then right)";
  EXPECT_EQ(run.process.exit_code, 1) << run.process.err << run.process.out;
  const auto& t = run.result["thresholds"];
  ASSERT_GE(t.size(), 2u) << t.dump();
  EXPECT_EQ(t[0]["metric"], "protocol.socketio.handshakes");
  EXPECT_EQ(t[0]["value"], 6.0);
  EXPECT_EQ(t[0]["passed"], false);
  EXPECT_EQ(t[1]["unit"], "ns");
  EXPECT_GT(t[1]["value"].get<double>(), 0.0) << t[1].dump();
  EXPECT_EQ(t[1]["passed"], true);
  EXPECT_NE(run.process.out.find("FAIL  protocol.socketio.handshakes<6"), std::string::npos)
      << run.process.out;
  EXPECT_EQ(run.result["verdict"]["exit_code"], 1);
}

// Live (`:abort`), a codec's metric is read once a second like the others:
// the handshakes of the first second trip it, and a 20 s run stops then.
TEST(ProtocolReport, AnAbortOnACodecMetricStopsTheRunEarly) {
  if (auto missing = test::node_module_missing(source_dir, "socket.io"); !missing.empty())
    GTEST_SKIP() << missing;
  auto peer = start_socketio();
  ASSERT_FALSE(peer.server.port.empty());
  // No messages: nothing scheduled that a busy machine could make late.
  auto run = horde_run({peer.url, "--protocol", "socketio", "-c", "4", "--rate", "0", "-d", "20s",
                        "--threshold", "protocol.socketio.handshakes<1:abort"},
                       "protocol_threshold_abort", 40000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(run.result.is_object()) << run.process.err;
  if (run.process.exit_code == 3)  // starved: invalid comes first, the stop is still said
    EXPECT_TRUE(test::passed_or_starved(run)) << run.process.out;
  else
    EXPECT_EQ(run.process.exit_code, 1) << run.process.out;
  EXPECT_LT(run.result["elapsed_seconds"].get<double>(), 10.0);
  const auto& stop = run.result["verdict"]["stopped_by"];
  ASSERT_TRUE(stop.is_object()) << run.result["verdict"].dump();
  EXPECT_EQ(stop["expr"], "protocol.socketio.handshakes<1:abort");
  EXPECT_EQ(stop["value"], 4.0);
}

// Refused before any connection: another protocol's metric, and a typo
// with the nearest name. No server is needed (nothing is connected).
TEST(ProtocolReport, AnotherProtocolsMetricOrATypoIsRefusedBeforeTheRun) {
  const std::string url = "ws://127.0.0.1:9/";
  auto other = test::run_process({test::horde_binary, "run", url, "--protocol", "socketio", "-c",
                                  "1", "-d", "1s", "--threshold", "protocol.mqtt.puback.p99<5ms"},
                                 30000);
  EXPECT_EQ(other.exit_code, 2) << other.err;
  EXPECT_NE(other.err.find("protocol.mqtt.puback.p99 is a metric of --protocol mqtt, and this "
                           "run's --protocol is socketio"),
            std::string::npos)
      << other.err;
  auto typo = test::run_process({test::horde_binary, "run", url, "--protocol", "socketio", "-c",
                                 "1", "-d", "1s", "--threshold", "protocol.socketio.handshake<5ms"},
                                30000);
  EXPECT_EQ(typo.exit_code, 2) << typo.err;
  EXPECT_NE(typo.err.find("did you mean 'protocol.socketio.handshakes'"), std::string::npos)
      << typo.err;
}

}  // namespace
}  // namespace horde

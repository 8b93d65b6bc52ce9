// `horde run` as a user runs it: the real binary, real sockets on loopback,
// against the embedded reference server, a separate `horde serve`, and
// servers nobody here wrote (Python websockets, Node ws), plus deliberately
// broken ones. Every run is bounded by --duration and a hard kill deadline.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

const std::string source_dir = HORDE_SOURCE_DIR;
using test::horde_binary;
using test::horde_run;
using test::python_has_websockets;
using test::start_peer;

TEST(HordeRun, EmbeddedServerEchoesEveryMessage) {
  auto run = horde_run(
      {"-c", "200", "--connect-rate", "5000/s", "--rate", "20/s", "--duration", "3s"}, "embedded");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& r = run.result;
  EXPECT_EQ(r["schema"], "horde.run/1");
  EXPECT_EQ(r["connections"]["attempted"], 200);
  EXPECT_EQ(r["connections"]["opened"], 200);
  EXPECT_EQ(r["connections"]["failed"], 0);
  EXPECT_EQ(r["connections"]["closed_clean"], 200);
  const uint64_t sent = r["messages"]["sent"];
  EXPECT_GT(sent, 200u * 20u);  // about 20/s for most of 3 s
  EXPECT_EQ(r["messages"]["answered"], sent);
  EXPECT_EQ(r["messages"]["unstamped"], 0);
  EXPECT_EQ(r["latency"]["round_trip"]["count"], sent);
  EXPECT_EQ(r["server"]["messages_in"], sent);
  // The host's network counters over the run: present wherever /proc/net is.
  EXPECT_EQ(r["kernel_network"]["scope"], "host");
  EXPECT_TRUE(r["kernel_network"]["input_queue_drops"].is_number_unsigned());
  EXPECT_NE(run.process.out.find("kernel       whole host during the run:"), std::string::npos);
  // No phase of a 3 s run can take longer than the run: a receive stamp from
  // before the phase began once showed as a 274 s upgrade.
  const double elapsed_ns = double(r["elapsed_seconds"]) * 1e9;
  for (const char* phase : {"connect", "upgrade", "round_trip", "send_lag"}) {
    EXPECT_EQ(r["latency"][phase]["count"] > 0, true) << phase;
    EXPECT_LT(double(r["latency"][phase]["max_ns"]), elapsed_ns) << phase;
  }
  EXPECT_NE(run.process.out.find("connections  attempted 200  opened 200  failed 0"),
            std::string::npos)
      << run.process.out;
  // Nothing leaks: every slot in use at the end was an open connection, and
  // every framing context and source port came back.
  EXPECT_EQ(r["leak_check"]["slots_live_at_end"], r["leak_check"]["open_or_opening_at_end"]);
  EXPECT_EQ(r["leak_check"]["framing_contexts_left"], 0);
  EXPECT_EQ(r["leak_check"]["source_ports_left"], 0);
  EXPECT_GT(r["self"]["peak_rss_bytes"], 0u);
}

TEST(HordeRun, NeverOpensMoreThanAsked) {
  auto run = horde_run({"-c", "1000", "--connect-rate", "0", "--duration", "2s"}, "exact");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["attempted"], 1000);
  EXPECT_EQ(run.result["connections"]["peak_open"], 1000);
  EXPECT_EQ(run.result["server"]["accepted"], 1000);
}

// The run's end closes at --close-rate: 400 closes at 200/s take about 2 s
// after the 1 s run (unpaced, they take a few milliseconds), and every one
// completes its handshake.
TEST(HordeRun, ClosesArePacedAtTheCloseRate) {
  auto run = horde_run({"-c", "400", "--connect-rate", "0", "--close-rate", "200/s", "--rate", "0",
                        "--duration", "1s"},
                       "close_rate");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& c = run.result["connections"];
  EXPECT_EQ(c["opened"], 400);
  EXPECT_EQ(c["closed_clean"], 400) << c.dump();
  EXPECT_EQ(c["failed"], 0);
  EXPECT_GE(run.result["elapsed_seconds"].get<double>(), 1.0 + 0.9 * 400 / 200);
}

// --wake-interval trades a bounded, measured send lateness for fewer loop
// wake-ups (each costs ~20 us of CPU in a VM). With a 5 ms grid the same
// 10k msg/s run must take far fewer loop turns than with a wake-up for
// every deadline, and still answer every message.
TEST(HordeRun, WakeIntervalCoalescesWakeUps) {
  uint64_t turns[2] = {};
  const char* intervals[2] = {"0", "5ms"};
  for (int i = 0; i < 2; ++i) {
    auto run = horde_run({"-c", "100", "--shards", "1", "--rate", "100/s", "--duration", "2s",
                          "--wake-interval", intervals[i]},
                         std::string("wake") + std::to_string(i));
    ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
    const auto& r = run.result;
    EXPECT_EQ(r["connections"]["opened"], 100);
    EXPECT_GT(r["messages"]["sent"], 100u * 100u);
    EXPECT_EQ(r["messages"]["answered"], r["messages"]["sent"]);
    EXPECT_DOUBLE_EQ(double(r["plan"]["wake_interval_seconds"]), i == 0 ? 0.0 : 0.005);
    turns[i] = r["self"]["loop_turns"];
  }
  // Before Linux 6.12 (no IORING_FEAT_MIN_TIMEOUT) every echo still wakes
  // the loop; only the timers coalesce.
  utsname host{};
  uname(&host);
  int major = 0, minor = 0;
  std::sscanf(host.release, "%d.%d", &major, &minor);
  const bool completions_batch = major > 6 || (major == 6 && minor >= 12);
  EXPECT_LT(turns[1] * (completions_batch ? 4 : 1), turns[0])
      << "5 ms grid: " << turns[1] << ", none: " << turns[0] << " (kernel " << host.release << ")";
}

TEST(HordeRun, SeparateReferenceServerTextAndPings) {
  auto server =
      start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--max-connections", "1000"});
  ASSERT_FALSE(server.port.empty());
  // "listening ws://127.0.0.1:PORT/ ..." — take the URL.
  const std::string line = server.port;
  const size_t start = line.find("ws://");
  const size_t end = line.find(' ', start);
  ASSERT_NE(start, std::string::npos) << line;
  const std::string url = line.substr(start, end - start);
  auto run = horde_run({url, "-c", "100", "--rate", "10/s", "--text", "--size", "200",
                        "--ping-interval", "500ms", "--duration", "2s"},
                       "serve");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["opened"], 100);
  EXPECT_EQ(run.result["connections"]["failed"], 0);
  EXPECT_GT(run.result["messages"]["pings_sent"], 0);
  // Every ping is answered, even one sent in the run's last loop turn whose
  // pong shares a read with the server's close reply.
  EXPECT_EQ(run.result["messages"]["pongs_received"], run.result["messages"]["pings_sent"]);
  EXPECT_EQ(run.result["messages"]["answered"], run.result["messages"]["sent"]);
}

TEST(HordeRun, PythonWebsocketsServer) {
  if (!python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/python_ws_server.py"});
  ASSERT_FALSE(server.port.empty());
  for (bool text : {false, true}) {
    std::vector<std::string> args = {"ws://127.0.0.1:" + server.port + "/",
                                     "-c",
                                     "50",
                                     "--rate",
                                     "10/s",
                                     "--size",
                                     "1KiB",
                                     "--duration",
                                     "2s"};
    if (text) args.push_back("--text");
    auto run = horde_run(args, text ? "python_text" : "python_binary");
    test::expect_every_message_echoed(run, 50);
  }
}

TEST(HordeRun, NodeWsServer) {
  const std::string script = source_dir + "/tests/peers/node_ws_server.js";
  const std::string module = source_dir + "/tests/peers/node_modules/ws/package.json";
  if (access(module.c_str(), R_OK) != 0)
    GTEST_SKIP() << "node ws not installed: run .ci/install-deps";
  auto server = start_peer({"/usr/bin/node", script});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run(
      {"ws://127.0.0.1:" + server.port + "/", "-c", "100", "--rate", "10/s", "--duration", "2s"},
      "node");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["opened"], 100);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  EXPECT_EQ(run.result["messages"]["answered"], run.result["messages"]["sent"]);
}

struct misbehaviour {
  const char* mode;
  const char* reason;
};

class HordeRunAgainstBadServer : public testing::TestWithParam<misbehaviour> {};

TEST_P(HordeRunAgainstBadServer, CountsEachFailureByReason) {
  const auto& bad = GetParam();
  auto server =
      start_peer({HORDE_PYTHON, source_dir + "/tests/peers/misbehaving_server.py", bad.mode});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({"ws://127.0.0.1:" + server.port + "/", "-c", "20", "--duration", "2s",
                        "--upgrade-timeout", "1s", "--rate", "5/s"},
                       bad.mode);
  ASSERT_FALSE(run.process.timed_out);
  // A bad server is a result, not a crash; a run in which no connection
  // opened fails (exit 1).
  ASSERT_TRUE(run.result.is_object()) << run.process.err;
  EXPECT_EQ(run.process.exit_code, run.result["connections"]["opened"] == 0 ? 1 : 0)
      << run.process.err;
  EXPECT_EQ(run.result["connections"]["attempted"], 20);
  EXPECT_EQ(run.result["connections"]["failures"][bad.reason], 20)
      << run.result["connections"].dump();
}

INSTANTIATE_TEST_SUITE_P(Modes, HordeRunAgainstBadServer,
                         testing::Values(misbehaviour{"refuse403", "upgrade_rejected"},
                                         misbehaviour{"limit429", "upgrade_rejected"},
                                         misbehaviour{"reset", "reset_by_server"},
                                         misbehaviour{"garbage", "upgrade_invalid"},
                                         misbehaviour{"badaccept", "upgrade_bad_accept"},
                                         misbehaviour{"silent", "upgrade_timeout"},
                                         misbehaviour{"badframe", "protocol_reserved_bits"}),
                         [](const auto& info) { return std::string(info.param.mode); });

TEST(HordeRun, RejectedUpgradeKeepsTheStatus) {
  auto server =
      start_peer({HORDE_PYTHON, source_dir + "/tests/peers/misbehaving_server.py", "refuse403"});
  auto run =
      horde_run({"ws://127.0.0.1:" + server.port + "/", "-c", "5", "--duration", "1s"}, "status");
  EXPECT_EQ(run.result["connections"]["upgrade_status"]["403"], 5);
}

TEST(HordeRun, RefusedConnectionsAreCounted) {
  // A port that was just free: nothing listens there.
  auto server = start_peer(
      {HORDE_PYTHON, "-c",
       "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);"
       "s.close();import sys;sys.stdin.read()"});
  ASSERT_FALSE(server.port.empty());
  auto run =
      horde_run({"ws://127.0.0.1:" + server.port + "/", "-c", "10", "--duration", "1s"}, "refused");
  ASSERT_EQ(run.process.exit_code, 1) << run.process.err;  // no connection opened
  EXPECT_EQ(run.result["connections"]["failures"]["connect_refused"], 10);
}

TEST(HordeRun, SigintStopsCleanlyAndStillReports) {
  auto run = horde_run({"-c", "100", "--rate", "10/s", "--duration", "60s"}, "sigint", 30000, 1500);
  ASSERT_FALSE(run.process.timed_out) << "horde did not stop on SIGINT";
  EXPECT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["interrupted"], true);
  EXPECT_EQ(run.result["connections"]["opened"], 100);
  EXPECT_EQ(run.result["connections"]["failed"], 0);
  EXPECT_LT(run.result["elapsed_seconds"].get<double>(), 20.0);
  EXPECT_NE(run.process.out.find("[interrupted]"), std::string::npos);
}

// A result that cannot be written is found out before the run; one that
// cannot be finished (a full disk) is reported, the summary still printed and
// no truncated file left behind.
TEST(HordeRun, UnwritableJsonIsRefusedBeforeTheRun) {
  auto run = test::run_process({horde_binary, "run", "-c", "10", "--duration", "1s", "--json",
                                "/nonexistent-horde-dir/r.json"},
                               20000);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--json: cannot create /nonexistent-horde-dir/"), std::string::npos)
      << run.err;
  EXPECT_EQ(run.out.find("connections  attempted"), std::string::npos) << "the run started";
}

TEST(HordeRun, AFullDiskKeepsTheSummaryAndLeavesNoHalfResult) {
  if (unshare(CLONE_NEWNS) != 0) GTEST_SKIP() << "no mount namespace here: " << strerror(errno);
  ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << strerror(errno);
  const std::string dir = testing::TempDir() + "/horde_full_" + std::to_string(getpid());
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  // 16 KiB: room for the check before the run, not for the result after it.
  ASSERT_EQ(mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=16k"), 0) << strerror(errno);
  const std::string json = dir + "/r.json";
  auto run = test::run_process(
      {horde_binary, "run", "-q", "-c", "50", "--rate", "10/s", "--duration", "1s", "--json", json},
      30000);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("the JSON result was not written"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("No space left"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("connections  attempted 50  opened 50"), std::string::npos) << run.out;
  EXPECT_NE(access(json.c_str(), F_OK), 0) << "a truncated result was left";
  umount(dir.c_str());
  rmdir(dir.c_str());
}

TEST(HordeRun, TooSmallOrLargeMessagesAreRefused) {
  auto small = test::run_process({horde_binary, "run", "--size", "16", "--duration", "1s"}, 10000);
  EXPECT_EQ(small.exit_code, 2);
  EXPECT_NE(small.err.find("smaller than the 32-byte stamp"), std::string::npos) << small.err;
  auto text = test::run_process({horde_binary, "run", "--text", "--size", "40"}, 10000);
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_NE(text.err.find("47-byte stamp"), std::string::npos) << text.err;
  auto large = test::run_process({horde_binary, "run", "--size", "17MiB"}, 10000);
  EXPECT_EQ(large.exit_code, 2);
  EXPECT_NE(large.err.find("at most 16MiB"), std::string::npos) << large.err;
}

TEST(HordeRun, SecretsAreRedactedUnlessAsked) {
  const std::string jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0"});
  const std::string url = test::served_url(server.port) + "?token=" + jwt;
  auto run = horde_run({url, "-c", "2", "--duration", "1s", "-H", "Authorization: Bearer " + jwt,
                        "-H", "Cookie: sid=abc123"},
                       "redacted");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const std::string text = run.process.out + run.process.err + run.result.dump();
  EXPECT_EQ(text.find(jwt), std::string::npos) << text;
  EXPECT_EQ(text.find("abc123"), std::string::npos);
  EXPECT_EQ(run.result["headers"][0]["value"], "Bearer [redacted]");
  auto shown = horde_run(
      {url, "-c", "2", "--duration", "1s", "-H", "Authorization: Bearer " + jwt, "--show-secrets"},
      "shown");
  EXPECT_EQ(shown.result["headers"][0]["value"], "Bearer " + jwt);
}

TEST(HordeRun, ImpossiblePlanIsRefusedWithTheFix) {
  auto run = horde_run({"ws://127.0.0.1:9/", "-c", "100", "--source-ips", "127.0.0.1", "--ports",
                        "2000-2010", "--duration", "1s"},
                       "impossible", 20000);
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_NE(run.process.err.find("--source-ips"), std::string::npos) << run.process.err;
}

TEST(HordeRun, RawTcpModeEchoesStampedMessagesCutFromTheStream) {
  // 3000-byte messages do not arrive one per receive: the client cuts them
  // from the stream and reads each stamp, even one split across receives.
  auto server = start_peer({horde_binary, "serve", "--raw", "--listen", "127.0.0.1:0"});
  const std::string line = server.port;
  const size_t start = line.find("ws://");
  ASSERT_NE(start, std::string::npos) << line;
  const std::string url = line.substr(start, line.find(' ', start) - start);
  for (const char* size : {"64", "3000"}) {
    auto run =
        horde_run({url, "--raw", "-c", "100", "--rate", "50/s", "--size", size, "--duration", "2s"},
                  std::string("raw") + size);
    ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
    EXPECT_EQ(run.result["connections"]["opened"], 100);
    EXPECT_EQ(run.result["connections"]["failed"], 0);
    const uint64_t sent = run.result["messages"]["sent"];
    EXPECT_GT(sent, 100u * 50u);
    EXPECT_EQ(run.result["messages"]["answered"], sent) << size;
    EXPECT_EQ(run.result["messages"]["unstamped"], 0) << size;
    EXPECT_EQ(run.result["latency"]["upgrade"]["count"], 0) << "raw TCP has no upgrade";
  }
}

TEST(HordeRun, BadFlagsExplainThemselves) {
  auto run = test::run_process({horde_binary, "run", "--duration", "ten"}, 10000);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("bad duration"), std::string::npos) << run.err;
  auto help = test::run_process({horde_binary, "run", "--help"}, 10000);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("*scheduled*"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace horde

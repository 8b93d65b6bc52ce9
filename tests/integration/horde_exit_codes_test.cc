// `horde run`'s exit codes, each produced by a real run of the real binary:
// 0 passed, 1 a threshold or an implicit check failed, 2 a usage error, 3 an
// invalid run; `:abort` stopping a run early; --csv written with its series.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

using test::horde_binary;
using test::horde_run;
using test::start_peer;

// A loopback port that was just free: nothing listens there, every connect is refused.
struct free_port {
  test::peer_server holder = start_peer(
      {HORDE_PYTHON, "-c",
       "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);"
       "s.close();import sys;sys.stdin.read()"});
  std::string url() const { return "ws://127.0.0.1:" + holder.port + "/"; }
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST(HordeExitCodes, ZeroWhenEveryThresholdPassesWithTheSeriesAsCsv) {
  const std::string csv = test::temp_json("exit0") + ".csv";
  auto run = horde_run({"-c", "100", "--rate", "20/s", "--duration", "3s", "--threshold",
                        "rtt.p99<5s", "--threshold", "errors<1%", "--threshold",
                        "connections.opened>=100", "--threshold", "connect.p95<5s", "--csv", csv},
                       "exit0");
  ASSERT_FALSE(run.process.timed_out);
  if (run.process.exit_code == 3 && !passed_or_starved(run))
    FAIL() << "exit 3 for another cause than starvation: " << run.process.out;
  if (run.process.exit_code == 3)
    GTEST_SKIP() << "horde was starved on this busy machine (exit 3 is then right)";
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err << run.process.out;
  const auto& r = run.result;
  ASSERT_TRUE(r["thresholds"].is_array()) << r.dump();
  ASSERT_EQ(r["thresholds"].size(), 6u) << r["thresholds"].dump();  // 4 asked, 2 implicit
  for (const auto& t : r["thresholds"])
    EXPECT_EQ(t["passed"], true) << t.dump();
  EXPECT_EQ(r["thresholds"][2]["value"], 100.0);
  EXPECT_EQ(r["verdict"]["outcome"], "passed");
  EXPECT_NE(run.process.out.find("thresholds   PASS  rtt.p99<5s"), std::string::npos)
      << run.process.out;
  EXPECT_NE(run.process.out.find("verdict      passed (exit 0)"), std::string::npos);
  // p95 in the default percentiles, text and JSON.
  EXPECT_TRUE(r["latency"]["round_trip"]["percentiles_ns"].contains("p95"));
  // The CSV: the documented header, one row per series point, each whole.
  const auto lines = lines_of(csv);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("t_seconds,open,connects_per_s,failures_per_s,sent_per_s,", 0), 0u)
      << lines[0];
  EXPECT_EQ(lines.size() - 1, r["series"].size());
  for (const auto& line : lines)
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 12) << line;
  // In the first full second every connection was open and sending at 20/s each.
  std::istringstream row(lines[2]);
  std::string t, open;
  std::getline(row, t, ',');
  std::getline(row, open, ',');
  EXPECT_EQ(open, "100") << lines[2];
  std::remove(csv.c_str());
}

TEST(HordeExitCodes, OneWhenAThresholdFails) {
  auto run = horde_run({"-c", "20", "--rate", "10/s", "--duration", "2s", "--threshold",
                        "rtt.p99<1ns", "--threshold", "errors<1%"},
                       "exit1");
  ASSERT_FALSE(run.process.timed_out);
  EXPECT_EQ(run.process.exit_code, 1) << run.process.err << run.process.out;
  EXPECT_NE(run.process.out.find("FAIL  rtt.p99<1ns"), std::string::npos) << run.process.out;
  EXPECT_NE(run.process.out.find("PASS  errors<1%"), std::string::npos) << run.process.out;
  const auto& t = run.result["thresholds"];
  EXPECT_EQ(t[0]["expr"], "rtt.p99<1ns");
  EXPECT_EQ(t[0]["passed"], false);
  EXPECT_GT(t[0]["value"].get<double>(), 1.0);
  EXPECT_EQ(run.result["verdict"]["exit_code"], 1);
}

// `horde run ws://127.0.0.1:1/ -c 50` as a new user tried it: every connect
// refused, and no threshold asked for. It must not exit 0.
TEST(HordeExitCodes, OneWhenNoConnectionOpenedThresholdsOrNot) {
  free_port port;
  ASSERT_FALSE(port.holder.port.empty());
  auto run = horde_run({port.url(), "-c", "50", "--duration", "2s"}, "exit1_refused");
  ASSERT_FALSE(run.process.timed_out);
  EXPECT_EQ(run.process.exit_code, 1) << run.process.err << run.process.out;
  EXPECT_NE(run.process.out.find("check        FAIL  no connection opened"), std::string::npos)
      << run.process.out;
  EXPECT_EQ(run.result["connections"]["failures"]["connect_refused"], 50);
  ASSERT_EQ(run.result["thresholds"].size(), 1u);
  EXPECT_EQ(run.result["thresholds"][0]["implicit"], true);
  EXPECT_EQ(run.result["thresholds"][0]["expr"], "connections.opened>0");
}

// A broker that drops every delivery: subscriptions and publishes all went
// through, and nothing arrived. Without a threshold, still exit 1; with
// one on pub/sub loss, its FAIL is printed with the count.
TEST(HordeExitCodes, OneWhenEveryDeliveryIsLost) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--drop-every", "1"});
  const std::string url = test::served_url(server.port);
  ASSERT_FALSE(url.empty()) << server.port;
  auto run = horde_run({url, "-c", "50", "--groups", "5", "--publishers", "5", "--rate", "5/s",
                        "--duration", "2s", "--threshold", "pubsub.lost==0"},
                       "exit1_lost");
  ASSERT_FALSE(run.process.timed_out);
  EXPECT_EQ(run.process.exit_code, 1) << run.process.err << run.process.out;
  EXPECT_GT(run.result["pubsub"]["lost"].get<uint64_t>(), 0u);
  EXPECT_NE(run.process.out.find("FAIL  pubsub.lost==0"), std::string::npos) << run.process.out;
  EXPECT_NE(run.process.out.find("check        FAIL  every delivery lost"), std::string::npos)
      << run.process.out;
}

TEST(HordeExitCodes, TwoForABadThresholdWithTheNearestName) {
  auto run = test::run_process({horde_binary, "run", "--threshold", "rtt.p99<50ms", "--threshold",
                                "rt.p99<50ms", "--duration", "1s"},
                               10000);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("unknown name 'rt.p99'; did you mean 'rtt.p99'?"), std::string::npos)
      << run.err;
  EXPECT_EQ(run.out.find("connections  attempted"), std::string::npos) << "the run started";
  auto unitless = test::run_process({horde_binary, "run", "--threshold", "rtt.p99<50"}, 10000);
  EXPECT_EQ(unitless.exit_code, 2);
  EXPECT_NE(unitless.err.find("give its unit"), std::string::npos) << unitless.err;
}

TEST(HordeExitCodes, TwoForAnUnwritableCsvBeforeTheRun) {
  auto run = test::run_process({horde_binary, "run", "-c", "10", "--duration", "1s", "--csv",
                                "/nonexistent-horde-dir/s.csv"},
                               10000);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--csv: cannot create /nonexistent-horde-dir/"), std::string::npos)
      << run.err;
  EXPECT_EQ(run.out.find("connections  attempted"), std::string::npos) << "the run started";
}

// Ten million loopback connections: the preflight refuses (kernel socket
// memory alone is beyond any CI machine), so no run of it would be valid.
TEST(HordeExitCodes, ThreeWhenThePreflightRefuses) {
  auto run =
      test::run_process({horde_binary, "run", "-c", "10M", "--duration", "1s", "--quiet"}, 30000);
  EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
  EXPECT_NE(run.err.find("cannot run on this host"), std::string::npos) << run.err;
}

// A 30 s run against a port nothing listens on, connecting 10 a second: the
// first second's failures trip the threshold, and the run stops then, with
// its report written and saying when and why.
TEST(HordeExitCodes, AbortStopsTheRunEarlyAndSaysWhy) {
  free_port port;
  ASSERT_FALSE(port.holder.port.empty());
  const auto start = std::chrono::steady_clock::now();
  auto run = horde_run({port.url(), "-c", "300", "--connect-rate", "10/s", "--duration", "30s",
                        "--threshold", "connections.failed<1:abort"},
                       "abort", 40000);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(run.process.timed_out);
  EXPECT_LT(wall, 10.0);
  EXPECT_EQ(run.process.exit_code, 1) << run.process.err << run.process.out;
  const auto& r = run.result;
  ASSERT_TRUE(r.is_object()) << "no JSON written: " << run.process.err;
  EXPECT_LT(r["elapsed_seconds"].get<double>(), 10.0);
  EXPECT_LT(r["connections"]["attempted"].get<uint64_t>(), 300u);
  const auto& stop = r["verdict"]["stopped_by"];
  ASSERT_TRUE(stop.is_object()) << r["verdict"].dump();
  EXPECT_EQ(stop["expr"], "connections.failed<1:abort");
  EXPECT_GE(stop["value"].get<double>(), 1.0);
  EXPECT_LT(stop["at_seconds"].get<double>(), 5.0);
  EXPECT_NE(run.process.out.find("[stopped by a threshold]"), std::string::npos) << run.process.out;
  EXPECT_NE(run.process.out.find("stopped      at "), std::string::npos) << run.process.out;
}

}  // namespace
}  // namespace horde

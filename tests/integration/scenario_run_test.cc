// Scenarios run by the real `horde` binary against servers nobody here wrote:
// JSON-RPC calls matched by id (npm's rpc-websockets), a JWT-authenticated
// token stream (aiohttp + PyJWT, the seed 004 shape), reconnects against a
// server that keeps closing connections (Python websockets), lifetimes and
// chaos drops against the embedded server, and a template that names a
// variable nothing defines. Each run is a few seconds of load, bounded by
// --duration and a hard kill deadline.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

const std::string source_dir = HORDE_SOURCE_DIR;
using test::horde_binary;
using test::horde_run;
using test::run_outcome;
using test::start_peer;

// ---- what the peers need --------------------------------------------------

bool python_imports(const std::string& modules) {
  return test::run_process({HORDE_PYTHON, "-c", "import " + modules}, 20000).exit_code == 0;
}

// Why the npm JSON-RPC server cannot run here; empty when it can.
std::string jsonrpc_server_missing() {
  if (access("/usr/bin/node", X_OK) != 0) return "node is not installed (/usr/bin/node)";
  const std::string module = source_dir + "/tests/peers/node_modules/rpc-websockets/package.json";
  if (access(module.c_str(), R_OK) != 0)
    return "rpc-websockets is not in tests/peers/node_modules: (cd tests/peers && npm ci)";
  return {};
}

// A scenario file in the test's temporary directory, removed with the object.
struct scenario_file {
  std::string path;
  scenario_file(const std::string& name, const std::string& yaml)
      : path(testing::TempDir() + "/horde_scenario_" + name + "_" + std::to_string(getpid()) +
             ".yaml") {
    std::ofstream out(path);
    out << yaml;
  }
  ~scenario_file() { std::remove(path.c_str()); }
};

// The scenario's counter, 0 when the run did not declare it.
uint64_t counter(const run_outcome& run, const std::string& name) {
  const auto& counters = run.result["scenario"]["counters"];
  if (!counters.contains(name)) return 0;
  return counters[name].get<uint64_t>();
}

// A scenario histogram's percentile, in ns; NaN when absent.
double percentile_ns(const run_outcome& run, const std::string& histogram, const char* p) {
  const auto& latency = run.result["scenario"]["latency"];
  if (!latency.contains(histogram)) return std::nan("");
  const auto& pct = latency[histogram]["percentiles_ns"];
  if (!pct.contains(p)) return std::nan("");
  return pct[p].get<double>();
}

std::string scenario_dump(const run_outcome& run) {
  return run.result.contains("scenario") ? run.result["scenario"].dump() : run.process.err;
}

// ---- 1. JSON-RPC calls matched by id ---------------------------------------

TEST(ScenarioRun, JsonRpcEveryCallAnsweredById) {
  if (auto missing = jsonrpc_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_peer({"/usr/bin/node", source_dir + "/tests/peers/node_jsonrpc_server.js"});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({"ws://127.0.0.1:" + server.port + "/", "--request",
                        R"({"jsonrpc":"2.0","method":"add","params":[1,2],"id":{seq}})", "--rate",
                        "20/s", "-c", "100", "-d", "3s"},
                       "jsonrpc_add");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& r = run.result;
  EXPECT_EQ(r["connections"]["opened"], 100);
  EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"].dump();
  const std::string base = "request.request0";  // the one-liner's request is named request0
  const uint64_t sent = counter(run, base + ".sent");
  const uint64_t answered = counter(run, base + ".answered");
  const uint64_t lost = counter(run, base + ".lost");
  RecordProperty("sent", std::to_string(sent));
  RecordProperty("answered", std::to_string(answered));
  RecordProperty("lost_at_close", std::to_string(lost));
  std::printf("[jsonrpc add] sent %llu answered %llu lost %llu p50 %.0f ns\n",
              (unsigned long long)sent, (unsigned long long)answered, (unsigned long long)lost,
              percentile_ns(run, base, "p50"));
  // 100 connections x 20/s for most of 3 s.
  EXPECT_GT(sent, 100u * 20u) << scenario_dump(run);
  EXPECT_GT(answered, 0u);
  EXPECT_EQ(sent, answered + lost) << scenario_dump(run);
  EXPECT_EQ(counter(run, base + ".errors"), 0u);
  EXPECT_EQ(counter(run, base + ".timeouts"), 0u);
  EXPECT_EQ(counter(run, "replies.unmatched"), 0u) << scenario_dump(run);
  EXPECT_EQ(r["scenario"]["latency"][base]["count"], answered);
}

TEST(ScenarioRun, JsonRpcErrorRepliesCountedApartPerMethod) {
  if (auto missing = jsonrpc_server_missing(); !missing.empty()) GTEST_SKIP() << missing;
  auto server = start_peer({"/usr/bin/node", source_dir + "/tests/peers/node_jsonrpc_server.js"});
  ASSERT_FALSE(server.port.empty());
  scenario_file file(
      "jsonrpc_kinds",
      "url: ws://127.0.0.1:" + server.port +
          "/\n"
          "connections: 100\n"
          "duration: 3s\n"
          "requests:\n"
          "  - name: add\n"
          "    send: '{\"jsonrpc\":\"2.0\",\"id\":\"add-{seq}\",\"method\":\"add\","
          "\"params\":[{rand:1000},{rand:1000}]}'\n"
          "    match-value: 'add-{seq}'\n"
          "    error: /error/code\n"
          "    rate: 10/s\n"
          "  - name: fail\n"
          "    send: '{\"jsonrpc\":\"2.0\",\"id\":\"fail-{seq}\",\"method\":\"fail\"}'\n"
          "    match-value: 'fail-{seq}'\n"
          "    error: /error/code\n"
          "    rate: 5/s\n");
  auto run = horde_run({"--scenario", file.path}, "jsonrpc_kinds");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["opened"], 100);
  EXPECT_EQ(run.result["connections"]["failed"], 0);
  const uint64_t add_sent = counter(run, "request.add.sent");
  const uint64_t add_answered = counter(run, "request.add.answered");
  const uint64_t fail_sent = counter(run, "request.fail.sent");
  const uint64_t fail_errors = counter(run, "request.fail.errors");
  std::printf(
      "[jsonrpc kinds] add sent %llu answered %llu errors %llu lost %llu | fail sent %llu "
      "errors %llu answered %llu lost %llu | unmatched %llu\n",
      (unsigned long long)add_sent, (unsigned long long)add_answered,
      (unsigned long long)counter(run, "request.add.errors"),
      (unsigned long long)counter(run, "request.add.lost"), (unsigned long long)fail_sent,
      (unsigned long long)fail_errors, (unsigned long long)counter(run, "request.fail.answered"),
      (unsigned long long)counter(run, "request.fail.lost"),
      (unsigned long long)counter(run, "replies.unmatched"));
  EXPECT_GT(add_answered, 0u) << scenario_dump(run);
  EXPECT_EQ(counter(run, "request.add.errors"), 0u) << scenario_dump(run);
  EXPECT_GT(fail_errors, 0u) << scenario_dump(run);
  EXPECT_EQ(counter(run, "request.fail.answered"), 0u) << scenario_dump(run);
  // Every call is accounted for, each kind on its own.
  EXPECT_EQ(add_sent, add_answered + counter(run, "request.add.lost"));
  EXPECT_EQ(fail_sent, fail_errors + counter(run, "request.fail.lost"));
  EXPECT_EQ(counter(run, "request.add.timeouts") + counter(run, "request.fail.timeouts"), 0u);
  EXPECT_EQ(counter(run, "replies.unmatched"), 0u);
}

// ---- 2. Seed 004: a locally minted JWT, then a token stream ----------------

const std::string jwt_secret = "scenario-test-secret-0123456789abcdef";

std::string session_scenario(const std::string& port, const std::string& secret) {
  return "url: ws://127.0.0.1:" + port +
         "/ws/{uuid}\n"
         "header: ['Authorization: Bearer {jwt}']\n"
         "jwt:\n"
         "  alg: HS256\n"
         "  secret: '" +
         secret +
         "'\n"
         "  claims:\n"
         "    sub: 'user{conn}'\n"
         "    exp: '{now+3600}'\n"
         "requests:\n"
         "  - name: prompt\n"
         "    send: '{\"type\":\"prompt\",\"id\":\"{seq}\",\"tokens\":10}'\n"
         "    rate: 1/s\n"
         "    match: /id\n"
         "    stream: true\n"
         "    end: '/type == \"done\"'\n";
}

bool session_server_missing(std::string& why) {
  if (!python_imports("aiohttp, jwt")) {
    why = std::string(HORDE_PYTHON) + " lacks aiohttp or PyJWT (python3-aiohttp, python3-jwt)";
    return true;
  }
  return false;
}

TEST(ScenarioRun, JwtAuthenticatedTokenStreamKeepsTheServersPace) {
  std::string why;
  if (session_server_missing(why)) GTEST_SKIP() << why;
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/session_server.py",
                            "--verify-any", "--pace", "20", "--secret", jwt_secret});
  ASSERT_FALSE(server.port.empty());
  scenario_file file("jwt_stream", session_scenario(server.port, jwt_secret));
  const int connections = 100;
  auto run = horde_run({"--scenario", file.path, "-c", std::to_string(connections), "-d", "4s"},
                       "jwt_stream");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& c = run.result["connections"];
  // The server verified every token: every upgrade answered 101.
  EXPECT_EQ(c["opened"], connections) << c.dump();
  EXPECT_EQ(c["failed"], 0) << c.dump();
  const uint64_t completed = counter(run, "stream.prompt.completed");
  const uint64_t cut = counter(run, "stream.prompt.cut");
  const uint64_t frames = counter(run, "stream.prompt.frames");
  const double gap_p50 = percentile_ns(run, "stream.prompt.frame_gap", "p50");
  const double gap_p99 = percentile_ns(run, "stream.prompt.frame_gap", "p99");
  const double first_p50 = percentile_ns(run, "stream.prompt.first_frame", "p50");
  std::printf(
      "[jwt stream] opened %d sent %llu completed %llu cut %llu timeouts %llu frames %llu "
      "frame_gap p50 %.3f ms p99 %.3f ms first_frame p50 %.3f ms\n",
      c["opened"].get<int>(), (unsigned long long)counter(run, "stream.prompt.sent"),
      (unsigned long long)completed, (unsigned long long)cut,
      (unsigned long long)counter(run, "stream.prompt.timeouts"), (unsigned long long)frames,
      gap_p50 / 1e6, gap_p99 / 1e6, first_p50 / 1e6);
  RecordProperty("frame_gap_p50_ns", std::to_string(gap_p50));
  EXPECT_GT(completed, 0u) << scenario_dump(run);
  EXPECT_EQ(cut, 0u) << scenario_dump(run);
  EXPECT_EQ(counter(run, "stream.prompt.timeouts"), 0u);
  EXPECT_EQ(counter(run, "stream.prompt.errors"), 0u);
  EXPECT_EQ(counter(run, "replies.unmatched"), 0u);
  // 10 tokens and a "done" per stream.
  EXPECT_EQ(frames, completed * 11) << scenario_dump(run);
  // The server paces its tokens 20 ms apart from one anchor.
  EXPECT_NEAR(gap_p50, 20e6, 1e6) << scenario_dump(run);
}

TEST(ScenarioRun, JwtWithTheWrongSecretIsRefusedAtEveryUpgrade) {
  std::string why;
  if (session_server_missing(why)) GTEST_SKIP() << why;
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/session_server.py",
                            "--verify-any", "--pace", "20", "--secret", jwt_secret});
  ASSERT_FALSE(server.port.empty());
  scenario_file file("jwt_wrong", session_scenario(server.port, "not-the-" + jwt_secret));
  const int connections = 100;
  auto run = horde_run({"--scenario", file.path, "-c", std::to_string(connections), "-d", "2s"},
                       "jwt_wrong");
  ASSERT_FALSE(run.process.timed_out);
  // No connection opened: the run failed, whatever the thresholds (exit 1).
  ASSERT_EQ(run.process.exit_code, 1) << run.process.err;
  const auto& c = run.result["connections"];
  std::printf("[jwt wrong secret] attempted %d opened %d upgrade_rejected %d statuses %s\n",
              c["attempted"].get<int>(), c["opened"].get<int>(),
              c["failures"]["upgrade_rejected"].get<int>(), c["upgrade_status"].dump().c_str());
  EXPECT_EQ(c["opened"], 0) << c.dump();
  EXPECT_EQ(c["failures"]["upgrade_rejected"], connections) << c.dump();
  EXPECT_EQ(c["upgrade_status"]["401"], connections) << c.dump();
  EXPECT_EQ(counter(run, "stream.prompt.sent"), 0u);
}

// ---- 3. Reconnects against a server that keeps closing ---------------------

struct live_count {
  int64_t min = INT64_MAX, max = 0;
  double mean = 0;
  double worst_deviation = 0;  // |open - target| / target, worst point
  double mean_deviation = 0;   // |mean open - target| / target
  size_t points = 0;
};

// The series' open connections from `from` s to `until` s (the points after
// --duration are the close, not the load).
live_count live_between(const nlohmann::json& series, double from, double until, int target) {
  live_count l;
  double sum = 0;
  for (const auto& p : series) {
    const double t = p["t"].get<double>();
    if (t < from || t > until) continue;
    const int64_t open = p["open"].get<int64_t>();
    l.min = std::min(l.min, open);
    l.max = std::max(l.max, open);
    sum += double(open);
    l.worst_deviation =
        std::max(l.worst_deviation, std::abs(double(open - target)) / double(target));
    ++l.points;
  }
  if (l.points > 0) {
    l.mean = sum / double(l.points);
    l.mean_deviation = std::abs(l.mean - target) / double(target);
  }
  return l;
}

std::string series_opens(const nlohmann::json& series) {
  std::string out;
  for (const auto& p : series) {
    char point[64];
    std::snprintf(point, sizeof point, "%.1fs:%lld ", p["t"].get<double>(),
                  (long long)p["open"].get<int64_t>());
    out += point;
  }
  return out;
}

TEST(ScenarioRun, ReconnectKeepsTheLiveCountAgainstAClosingServer) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/random_close_server.py"});
  ASSERT_FALSE(server.port.empty());
  const int connections = 200;
  const double duration = 12;
  auto run = horde_run(
      {"ws://127.0.0.1:" + server.port + "/", "-c", std::to_string(connections), "-d", "12s",
       "--rate", "0", "--reconnect", "--backoff-base", "50ms", "--backoff-cap", "500ms"},
      "reconnect", 90000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& s = run.result["scenario"];
  const live_count live = live_between(run.result["series"], 2.0, duration - 0.5, connections);
  std::printf(
      "[reconnect] reconnects %llu abandoned %llu | open from 2 s over %zu points: "
      "min %lld max %lld mean %.2f (%.2f%% short) worst point %.2f%% | series %s\n",
      (unsigned long long)s["reconnects"].get<uint64_t>(),
      (unsigned long long)s["reconnects_abandoned"].get<uint64_t>(), live.points,
      (long long)live.min, (long long)live.max, live.mean, live.mean_deviation * 100,
      live.worst_deviation * 100, series_opens(run.result["series"]).c_str());
  RecordProperty("worst_live_deviation_percent", std::to_string(live.worst_deviation * 100));
  // Each connection lives 1-3 s: some 100 server closes a second.
  EXPECT_GT(s["reconnects"].get<uint64_t>(), uint64_t(connections)) << s.dump();
  EXPECT_EQ(s["reconnects_abandoned"], 0);
  ASSERT_GE(live.points, 8u) << series_opens(run.result["series"]);
  // What the live count can be: ~100 closes a second, each connection away
  // for its backoff (drawn from 0-50 ms, 25 ms on average) plus its upgrade,
  // leaves ~2.5 connections (1.25%) short on average, and a second's sample
  // sees that number's spread: 4-7 short (2-3.5%) at the worst of 10 points
  // was measured, 0-2 short with --backoff-base 1ms. So: the average within
  // 2%, every point within 5%.
  EXPECT_LE(live.mean_deviation, 0.02) << series_opens(run.result["series"]);
  EXPECT_LE(live.worst_deviation, 0.05) << series_opens(run.result["series"]);
}

TEST(ScenarioRun, WithoutReconnectAClosingServerEmptiesTheRun) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/random_close_server.py"});
  ASSERT_FALSE(server.port.empty());
  const int connections = 200;
  auto run = horde_run({"ws://127.0.0.1:" + server.port + "/", "-c", std::to_string(connections),
                        "-d", "5s", "--rate", "0"},
                       "no_reconnect", 60000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& series = run.result["series"];
  const double elapsed = run.result["elapsed_seconds"];
  std::printf("[no reconnect] elapsed %.2f s series %s\n", elapsed, series_opens(series).c_str());
  EXPECT_EQ(run.result["connections"]["opened"], connections);
  // Every server close is final: by 3 s (plus the close handshake) nothing
  // is open, and a run with nothing left open ends there, before --duration.
  EXPECT_EQ(run.result["connections"]["failures"]["closed_by_server"], connections);
  bool emptied = elapsed < 4.5;
  for (const auto& p : series)
    if (p["t"].get<double>() < 5.0 && p["open"] == 0) emptied = true;
  EXPECT_TRUE(emptied) << "elapsed " << elapsed << " s, " << series_opens(series);
  if (run.result.contains("scenario")) {
    EXPECT_EQ(run.result["scenario"]["reconnects"], 0);
  }
}

// ---- 4. Lifetimes and chaos against the embedded server --------------------

TEST(ScenarioRun, LifetimesEndAndReconnect) {
  auto run = horde_run({"-c", "200", "-d", "6s", "--rate", "0", "--lifetime", "1s",
                        "--lifetime-jitter", "200ms", "--reconnect"},
                       "lifetime", 60000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& s = run.result["scenario"];
  const auto& c = run.result["connections"];
  std::printf(
      "[lifetime] lifetimes_ended %llu reconnects %llu attempted %llu opened %llu "
      "failed %llu\n",
      (unsigned long long)s["lifetimes_ended"].get<uint64_t>(),
      (unsigned long long)s["reconnects"].get<uint64_t>(),
      (unsigned long long)c["attempted"].get<uint64_t>(),
      (unsigned long long)c["opened"].get<uint64_t>(),
      (unsigned long long)c["failed"].get<uint64_t>());
  // 200 connections living ~1 s each over 6 s: about 1000 lifetimes.
  EXPECT_GT(s["lifetimes_ended"].get<uint64_t>(), 200u) << s.dump();
  EXPECT_GT(s["reconnects"].get<uint64_t>(), 200u) << s.dump();
  EXPECT_EQ(c["failed"], 0) << c.dump();
  EXPECT_EQ(s["reconnects_abandoned"], 0);
}

TEST(ScenarioRun, ChaosDropsAtItsRateAndReconnects) {
  const double rate = 50, duration = 6;
  auto run = horde_run({"-c", "200", "-d", "6s", "--rate", "0", "--chaos-rate", "50/s",
                        "--chaos-mode", "reset", "--reconnect"},
                       "chaos", 60000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& s = run.result["scenario"];
  const uint64_t drops = s["chaos_drops"];
  const uint64_t reconnects = s["reconnects"];
  std::printf("[chaos] chaos_drops %llu (expected %.0f) reconnects %llu failed %llu\n",
              (unsigned long long)drops, rate * duration, (unsigned long long)reconnects,
              (unsigned long long)run.result["connections"]["failed"].get<uint64_t>());
  EXPECT_NEAR(double(drops), rate * duration, 0.2 * rate * duration) << s.dump();
  EXPECT_GE(reconnects + 5, drops) << s.dump();
}

// ---- 5. Bad input ----------------------------------------------------------

TEST(ScenarioRun, AnUndefinedVariableIsNamedAndRefused) {
  auto run = test::run_process(
      {horde_binary, "run", "--request", R"({"id":{seq},"x":{nope}})", "-c", "1", "-d", "1s"},
      20000);
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("nope"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("connections  attempted"), std::string::npos) << "the run started";
}

}  // namespace
}  // namespace horde

namespace horde {
namespace {

// The issue's figure: with reconnect on, against a server closing every
// connection after 1-3 s, the live count stays within 1% of the plan over
// 30 s. A short backoff base (2 ms) keeps the time away from the server
// small beside each connection's life; the mean over the points is judged.
TEST(ScenarioRun, ReconnectHoldsTheLiveCountWithinOnePercentOverThirtySeconds) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/random_close_server.py"});
  ASSERT_FALSE(server.port.empty());
  const int connections = 200;
  auto run = horde_run(
      {"ws://127.0.0.1:" + server.port + "/", "-c", std::to_string(connections), "-d", "30s",
       "--rate", "0", "--reconnect", "--backoff-base", "2ms", "--backoff-cap", "100ms"},
      "reconnect30", 120000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const live_count live = live_between(run.result["series"], 2.0, 29.5, connections);
  std::printf(
      "[reconnect 30 s] reconnects %llu, %zu points: mean %.2f (%.2f%% short), worst %.2f%%\n",
      (unsigned long long)run.result["scenario"]["reconnects"].get<uint64_t>(), live.points,
      live.mean, live.mean_deviation * 100, live.worst_deviation * 100);
  ASSERT_GE(live.points, 25u) << series_opens(run.result["series"]);
  EXPECT_LE(live.mean_deviation, 0.01) << series_opens(run.result["series"]);
  EXPECT_GT(run.result["scenario"]["reconnects"].get<uint64_t>(), 1500u);
}

// --stages: up to 300, hold, down to 60 — the falling stage closes cleanly
// (not failures), and the series follows the plan.
TEST(ScenarioRun, StagesRampHoldAndCloseCleanlyOnTheWayDown) {
  auto run = horde_run({"--stages", "2s:300,2s:300,1s:60,2s:60", "--rate", "2/s"}, "stages");
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& c = run.result["connections"];
  EXPECT_EQ(c["failed"], 0) << c.dump();
  EXPECT_EQ(c["opened"], 300) << c.dump();
  EXPECT_EQ(c["peak_open"], 300) << c.dump();
  EXPECT_EQ(c["closed_clean"], 300) << c.dump();  // 240 on the way down, 60 at the end
  std::vector<int64_t> opens;
  for (const auto& p : run.result["series"])
    opens.push_back(p["open"].get<int64_t>());
  ASSERT_GE(opens.size(), 6u);
  EXPECT_EQ(opens[2], 300) << series_opens(run.result["series"]);
  EXPECT_EQ(opens[5], 60) << series_opens(run.result["series"]);
}

// Idle-timeout discovery: a hold with nothing sent, against a server (a
// stand-in for a proxy) that cuts each connection after 2-2.5 s of silence.
TEST(ScenarioRun, AnIdleHoldTimesWhenThePathCutsSilentConnections) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/random_close_server.py",
                            "--min-ms", "2000", "--max-ms", "2500"});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run(
      {"ws://127.0.0.1:" + server.port + "/", "-c", "100", "-d", "4s", "--rate", "0"}, "idle_cut");
  ASSERT_FALSE(run.process.timed_out);
  const auto& h = run.result["scenario"]["latency"]["idle_cut.close_frame"];
  ASSERT_EQ(h["count"], 100) << run.result["scenario"].dump().substr(0, 400);
  const double p50_s = h["percentiles_ns"]["p50"].get<double>() / 1e9;
  EXPECT_GE(p50_s, 1.9);
  EXPECT_LE(p50_s, 2.7);
  EXPECT_EQ(run.result["scenario"]["latency"]["idle_cut.reset"]["count"], 0);
}

}  // namespace
}  // namespace horde

// `horde run` against a server that misbehaves on purpose, one way at a
// time: tests/peers/hostile_server.py serves every misbehaviour from one
// process, the URL's first path segment choosing it. Each run must end by
// itself on time, write its JSON, name the misbehaviour by its failure
// reason, and keep horde's memory bounded — a server that stops reading or
// floods must cost the run a reason, never a hang or an unbounded queue.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

const std::string source_dir = HORDE_SOURCE_DIR;
using test::horde_run;
using test::run_outcome;

// Every run: 10 connections for 3 s, 1 s of drain, 1 s for each close.
constexpr int duration_s = 3;
constexpr int drain_s = 1;
constexpr int close_timeout_s = 1;
// A run must end by itself within duration + drain + a close wait at each of
// its two ends (ours, then the server's answer) + slack for start-up, the
// report and a loaded CI machine.
constexpr int wall_bound_ms = (duration_s + drain_s + 2 * close_timeout_s + 3) * 1000;
// The hard deadline: past it the run is killed and the test fails.
constexpr int kill_after_ms = 20000;
// horde's own peak RSS (VmHWM). 10 connections cost ~20 MiB today (mostly
// the shards' rings and heaps); a queue that grows without bound against a
// server that stops reading passed 512 MiB within 20 s. 256 MiB leaves room
// for bigger default buffers while still catching unbounded growth.
constexpr uint64_t peak_rss_bound = uint64_t{256} << 20;

// Under AddressSanitizer the binary under test keeps freed memory in a
// quarantine (256 MiB by default) and shadows the rest, so its RSS measures
// ASan: a tiny-frame flood reached 777 MiB there and 36 MiB in Release. The
// bound is checked in the Release build only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool rss_means_something = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool rss_means_something = false;
#else
constexpr bool rss_means_something = true;
#endif
#else
constexpr bool rss_means_something = true;
#endif

// One peer for the whole file: its first stdout line is the plain port, the
// second the TLS port. It exits when the test binary does (stdin closes).
struct hostile_peer {
  test::peer_server server;
  std::string tls_port;

  hostile_peer()
      : server(test::start_peer({HORDE_PYTHON, source_dir + "/tests/peers/hostile_server.py"})) {
    if (auto line = server.process->read_line(10000)) tls_port = *line;
  }
};

const hostile_peer& peer() {
  static const hostile_peer instance;
  return instance;
}

enum class listener { plain, tls };

struct hostile_case {
  const char* mode;
  // The failure reason horde must count; nullptr: none is required.
  const char* reason;
  std::vector<std::string> flags = {};
  const char* scheme = "ws";
  listener port = listener::plain;
  // A key that must count too: connections.<detail_object>[detail_key].
  const char* detail_object = nullptr;
  const char* detail_key = nullptr;
  // A close outcome that must count (connections.<close_outcome>), with no
  // failure: a close that times out is a fact about the close.
  const char* close_outcome = nullptr;
};

// The parameter's name in test output is its mode.
void PrintTo(const hostile_case& c, std::ostream* out) {
  *out << c.mode;
}

// j[object][key] as a count; 0 when either is missing.
uint64_t count_at(const nlohmann::json& j, const char* object, const std::string& key) {
  if (!j.is_object() || !j.contains(object) || !j[object].is_object()) return 0;
  const auto& inner = j[object];
  if (!inner.contains(key) || !inner[key].is_number_unsigned()) return 0;
  return inner[key].get<uint64_t>();
}

std::string url_for(const hostile_case& c) {
  const std::string& port = c.port == listener::tls ? peer().tls_port : peer().server.port;
  return std::string(c.scheme) + "://127.0.0.1:" + port + "/" + c.mode;
}

std::vector<std::string> args_for(const hostile_case& c, int run_seconds = duration_s) {
  std::vector<std::string> args = {url_for(c),
                                   "-c",
                                   "10",
                                   "--duration",
                                   std::to_string(run_seconds) + "s",
                                   "--drain",
                                   std::to_string(drain_s) + "s",
                                   "--close-timeout",
                                   std::to_string(close_timeout_s) + "s",
                                   "--connect-rate",
                                   "0"};
  args.insert(args.end(), c.flags.begin(), c.flags.end());
  return args;
}

struct timed_run {
  run_outcome run;
  long long wall_ms;
};

timed_run run_timed(const std::vector<std::string>& args, const std::string& name,
                    int interrupt_after_ms = 0) {
  const auto start = std::chrono::steady_clock::now();
  timed_run t{horde_run(args, name, kill_after_ms, interrupt_after_ms), 0};
  t.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  return t;
}

// What every run must do whatever the server did: end by itself, not crash,
// write the JSON, stay under the memory bound.
void expect_ended_well(const timed_run& t, long long bound_ms) {
  const auto& process = t.run.process;
  ASSERT_FALSE(process.timed_out) << "killed after " << kill_after_ms << " ms: " << process.err;
  EXPECT_LE(t.wall_ms, bound_ms) << process.err;
  EXPECT_EQ(process.signal, 0) << process.err;
  // A bad server is a result, not a crash nor a usage error: 0; 1 when
  // nothing worked (no connection opened, no message answered); 3 when
  // horde's own schedule slipped for want of CPU (a flood keeps it busy; on
  // a shared machine its shards wait for CPUs), which makes the run invalid.
  EXPECT_TRUE(process.exit_code == 0 || process.exit_code == 1 || process.exit_code == 3)
      << process.exit_code << process.err;
  ASSERT_TRUE(t.run.result.is_object()) << "no JSON written: " << process.err;
  const auto& r = t.run.result;
  const bool has_peak = r.contains("self") && r["self"].contains("peak_rss_bytes") &&
                        r["self"]["peak_rss_bytes"].is_number_unsigned();
  EXPECT_TRUE(has_peak) << "no self.peak_rss_bytes in the JSON";
  if (has_peak && rss_means_something) {
    EXPECT_LT(r["self"]["peak_rss_bytes"].get<uint64_t>(), peak_rss_bound);
  }
}

class HostileServer : public testing::TestWithParam<hostile_case> {};

TEST_P(HostileServer, EndsOnTimeAndNamesTheMisbehaviour) {
  const auto& c = GetParam();
  ASSERT_FALSE(peer().server.port.empty()) << "hostile_server.py did not start";
  ASSERT_FALSE(peer().tls_port.empty()) << "hostile_server.py printed no TLS port";
  const auto t = run_timed(args_for(c), std::string("hostile_") + c.mode);
  expect_ended_well(t, wall_bound_ms);
  if (HasFatalFailure()) return;
  const auto& connections = t.run.result["connections"];
  if (c.reason != nullptr) {
    EXPECT_GT(count_at(connections, "failures", c.reason), 0u)
        << "expected " << c.reason << "; " << connections.dump();
  }
  if (c.detail_object != nullptr) {
    EXPECT_GT(count_at(connections, c.detail_object, c.detail_key), 0u)
        << "expected " << c.detail_object << "[" << c.detail_key << "]; " << connections.dump();
  }
  if (c.close_outcome != nullptr) {
    EXPECT_GT(connections.value(c.close_outcome, uint64_t{0}), 0u)
        << "expected " << c.close_outcome << "; " << connections.dump();
    EXPECT_EQ(connections["failed"], 0u) << connections.dump();
  }
}

const std::vector<std::string> upgrade_timeout_1s = {"--upgrade-timeout", "1s"};

INSTANTIATE_TEST_SUITE_P(
    Modes, HostileServer,
    testing::Values(
        // Stops reading while horde sends 12.8 MB/s per connection.
        hostile_case{"stop_reading", "send_backlog", {"--size", "256KiB", "--rate", "50/s"}},
        // Floods pings and never reads: one pong per read (the latest ping,
        // RFC 6455 5.5.3) keeps horde's queue small, so the connection ends
        // only when the server ignores our close (see PingStorm below).
        hostile_case{.mode = "ping_storm", .reason = nullptr, .close_outcome = "close_timed_out"},
        hostile_case{"silent", "upgrade_timeout", upgrade_timeout_1s},
        // The run ends before the (long) upgrade timeout.
        hostile_case{"silent_until_end", "unfinished_upgrade", {"--upgrade-timeout", "60s"}},
        hostile_case{"slow_drip", "upgrade_timeout", upgrade_timeout_1s},
        hostile_case{"wrong_accept", "upgrade_bad_accept"},
        hostile_case{"endless_header", "upgrade_header_too_large"},
        hostile_case{.mode = "status_401",
                     .reason = "upgrade_rejected",
                     .detail_object = "upgrade_status",
                     .detail_key = "401"},
        hostile_case{.mode = "status_503",
                     .reason = "upgrade_rejected",
                     .detail_object = "upgrade_status",
                     .detail_key = "503"},
        hostile_case{"garbage", "upgrade_invalid"},
        hostile_case{"no_upgrade_header", "upgrade_invalid"},
        hostile_case{"huge_length", "protocol_message_too_big"},
        hostile_case{"giant_message", "protocol_message_too_big"},
        hostile_case{"masked_frame", "protocol_masked_frame"},
        hostile_case{"bad_utf8", "protocol_invalid_utf8"},
        hostile_case{"rsv_bits", "protocol_unnegotiated_compression"},
        hostile_case{"reserved_opcode", "protocol_bad_opcode"},
        hostile_case{"fragmented_ping", "protocol_bad_control_frame"},
        hostile_case{"long_ping", "protocol_bad_control_frame"},
        hostile_case{"bad_close_code", "protocol_bad_close_code"},
        hostile_case{"continuation_first", "protocol_error"},
        hostile_case{.mode = "close_4001",
                     .reason = "closed_by_server",
                     .detail_object = "server_close_codes",
                     .detail_key = "4001"},
        hostile_case{"reset_after_upgrade", "reset_by_server"},
        hostile_case{"half_close", "eof_from_server"},
        hostile_case{
            "pong_never", "pong_timeout", {"--ping-interval", "500ms", "--pong-timeout", "500ms"}},
        // A plain request to a TLS server: its answer is a TLS alert record.
        hostile_case{
            .mode = "tls_on_plain", .reason = "tls_answer_to_plain", .port = listener::tls},
        // A ClientHello to a plain HTTP server: its answer is HTTP 400.
        hostile_case{.mode = "plain_on_tls",
                     .reason = "plain_answer_to_tls",
                     .flags = {"--insecure"},
                     .scheme = "wss"}),
    [](const auto& info) { return std::string(info.param.mode); });

// A flood of 1-byte messages is a server's right: nothing need fail, but the
// run still ends on time, horde's memory stays bounded and every message
// counts.
TEST(HostileServerFlood, TinyFramesAreCountedAndTheRunEndsOnTime) {
  const hostile_case c{"tiny_frame_flood", nullptr};
  const auto t = run_timed(args_for(c), "hostile_tiny_frame_flood");
  expect_ended_well(t, wall_bound_ms);
  if (HasFatalFailure()) return;
  EXPECT_GT(t.run.result["messages"]["received"].get<uint64_t>(), 0u);
}

// The peer's control: a correct echo server, so a failure above is the
// misbehaviour's and not the peer's.
TEST(HostileServerControl, EchoModeIsACorrectServer) {
  const hostile_case c{"echo", nullptr, {"--rate", "10/s"}};
  const auto t = run_timed(args_for(c), "hostile_echo");
  expect_ended_well(t, wall_bound_ms);
  if (HasFatalFailure()) return;
  const auto& r = t.run.result;
  EXPECT_EQ(r["connections"]["opened"], 10);
  EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"].dump();
  EXPECT_GT(r["messages"]["sent"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["messages"]["answered"], r["messages"]["sent"]);
}

// A ping storm does not grow horde's memory: thousands of pings read, a
// pong for the latest of each read only, and never more than a few KiB
// waiting to be sent on any connection.
TEST(HostileServerPingStorm, PongsCoalesceAndTheQueueStaysSmall) {
  const hostile_case c{"ping_storm", nullptr, {}};
  const auto t = run_timed(args_for(c), "hostile_ping_storm");
  expect_ended_well(t, wall_bound_ms);
  if (HasFatalFailure()) return;
  const auto& r = t.run.result;
  EXPECT_GT(r["messages"]["pings_received"].get<uint64_t>(), 10'000u) << r["messages"].dump();
  EXPECT_LT(r["connections"]["send_backlog_peak_bytes"].get<uint64_t>(), 64u * 1024)
      << r["connections"].dump();
}

// Ctrl-C while every connection's sends are stuck behind a server that
// stopped reading (a backlog cap too high to end them first): the run still
// ends promptly, with its report.
TEST(HostileServerInterrupt, SigintEndsAStuckRunWithItsReport) {
  constexpr int interrupt_after_ms = 2000;
  constexpr int after_signal_bound_ms = 5000;
  hostile_case c{
      "stop_reading", nullptr, {"--size", "256KiB", "--rate", "10/s", "--send-backlog", "512MiB"}};
  // A 30 s run, so the signal lands mid-run.
  const auto t = run_timed(args_for(c, 30), "hostile_sigint", interrupt_after_ms);
  expect_ended_well(t, interrupt_after_ms + after_signal_bound_ms);
  if (HasFatalFailure()) return;
  EXPECT_EQ(t.run.result["interrupted"], true);
  // The stuck sends were cancelled: each connection ended on its close deadline.
  EXPECT_EQ(t.run.result["connections"].value("close_timed_out", uint64_t{0}), 10u)
      << t.run.result["connections"].dump();
}

}  // namespace
}  // namespace horde

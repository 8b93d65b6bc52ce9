// Echo accounting held to exact counts against a third-party server that
// misbehaves on a schedule: tests/peers/node_lossy_echo.js (Node `ws`) drops
// every 7th message of each connection, truncates every 11th, corrupts every
// 5th and duplicates every 3rd, one fate per message (drop > truncate >
// corrupt > duplicate; the script's header gives the rule), and prints the
// totals it applied when it is stopped. horde's JSON must agree with them
// exactly: a duplicate is counted once as a duplicate and never answers
// again, a drop is unanswered, damage is named. The same peer closes every
// connection with 4001 on the path /close4001; that code must reach the JSON
// and the text report.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

const std::string source_dir = HORDE_SOURCE_DIR;
const std::string lossy_script = source_dir + "/tests/peers/node_lossy_echo.js";
const std::string ws_module = source_dir + "/tests/peers/node_modules/ws/package.json";
constexpr const char* node_binary = "/usr/bin/node";

bool node_ws_available() {
  return access(node_binary, X_OK) == 0 && access(ws_module.c_str(), R_OK) == 0;
}

// j[object][key] as a signed count; -1 when it is missing or not a count, so
// a field horde does not write fails the comparison with a readable value.
int64_t count_at(const nlohmann::json& j, const char* object, const std::string& key) {
  if (!j.is_object() || !j.contains(object) || !j[object].is_object()) return -1;
  const auto& inner = j[object];
  if (!inner.contains(key) || !inner[key].is_number_integer()) return -1;
  return inner[key].get<int64_t>();
}

// Stops the peer (SIGTERM) and returns the totals line it prints on the way
// out; an empty object when it printed none within 5 s.
nlohmann::json stop_and_read_totals(test::peer_server& server) {
  server.process->signal(SIGTERM);
  const auto line = server.process->read_line(5000);
  if (!line) return nlohmann::json::object();
  return nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
}

int64_t total(const nlohmann::json& totals, const char* key) {
  if (!totals.is_object() || !totals.contains(key) || !totals[key].is_number_integer()) return -1;
  return totals[key].get<int64_t>();
}

// 10 connections at 20 msg/s for 3 s: ~59 messages each, so every rule of
// the schedule (up to n = 55, which is both 5th and 11th) applies several
// times per connection. --drain 1s lets every echo in flight arrive before
// the close, so nothing is left unaccounted for.
void expect_exact_accounting(bool text) {
  if (!node_ws_available())
    GTEST_SKIP() << "node or its ws module not installed: run .ci/install-deps";
  auto server = test::start_peer({node_binary, lossy_script});
  ASSERT_FALSE(server.port.empty()) << "node_lossy_echo.js printed no port";
  std::vector<std::string> args = {"ws://127.0.0.1:" + server.port + "/",
                                   "-c",
                                   "10",
                                   "--rate",
                                   "20/s",
                                   "--duration",
                                   "3s",
                                   "--drain",
                                   "1s"};
  if (text) args.push_back("--text");
  const auto run = test::horde_run(args, text ? "lossy_text" : "lossy_binary");
  const auto totals = stop_and_read_totals(server);
  ASSERT_FALSE(run.process.timed_out) << run.process.err;
  ASSERT_TRUE(run.result.is_object()) << "no JSON written: " << run.process.err;
  ASSERT_TRUE(totals.is_object() && !totals.empty()) << "the peer printed no totals";
  const auto& r = run.result;
  const auto connections = r.value("connections", nlohmann::json::object());
  EXPECT_EQ(count_at(r, "connections", "opened"), 10) << connections.dump();
  EXPECT_EQ(count_at(r, "connections", "failed"), 0) << connections.dump();

  // The schedule must actually have bitten, or the equalities below prove
  // nothing.
  for (const char* fate : {"received", "dropped", "duplicated", "corrupted", "truncated"})
    ASSERT_GT(total(totals, fate), 0) << fate << " in " << totals.dump();
  ASSERT_EQ(total(totals, "duplicated_damaged"), 0) << totals.dump();

  const std::string context = "horde: " + r.value("messages", nlohmann::json::object()).dump() +
                              "\npeer:  " + totals.dump();
  EXPECT_EQ(count_at(r, "messages", "sent"), total(totals, "received")) << context;
  // The fates are disjoint (no message is both damaged and duplicated), so
  // each horde counter is one of the peer's totals, whatever horde does with
  // a second copy of a damaged echo.
  EXPECT_EQ(count_at(r, "messages", "duplicated"), total(totals, "duplicated")) << context;
  EXPECT_EQ(count_at(r, "messages", "unanswered"), total(totals, "dropped")) << context;
  EXPECT_EQ(count_at(r, "messages", "corrupted"), total(totals, "corrupted")) << context;
  EXPECT_EQ(count_at(r, "messages", "truncated"), total(totals, "truncated")) << context;
  // Every stamp the peer echoed (damaged or not) is answered exactly once.
  EXPECT_EQ(count_at(r, "messages", "answered"), total(totals, "echoed")) << context;
  EXPECT_EQ(count_at(r, "messages", "unstamped"), 0) << context;
  // Duplicates never enter the latency histogram: at most one round trip per
  // uniquely answered stamp.
  const int64_t round_trips =
      count_at(r.value("latency", nlohmann::json::object()), "round_trip", "count");
  EXPECT_GT(round_trips, 0) << context;
  EXPECT_LE(round_trips, total(totals, "echoed")) << context;
}

TEST(EchoAccounting, LossyNodeServerBinaryCountsExactly) {
  expect_exact_accounting(false);
}

// The text carrier: the stamp is a 47-character token and the filler 'x';
// the peer leaves the token whole and keeps the frame valid UTF-8.
TEST(EchoAccounting, LossyNodeServerTextCountsExactly) {
  expect_exact_accounting(true);
}

// True when some line of the text report names close code `code` as a
// number of its own beside the word "close" (the target URL, a port or a pid
// that happen to contain the digits do not count).
bool report_lists_close_code(const std::string& report, const std::string& code) {
  size_t begin = 0;
  while (begin < report.size()) {
    size_t end = report.find('\n', begin);
    if (end == std::string::npos) end = report.size();
    const std::string line = report.substr(begin, end - begin);
    begin = end + 1;
    if (line.find("close") == std::string::npos || line.find("://") != std::string::npos) continue;
    for (size_t at = line.find(code); at != std::string::npos; at = line.find(code, at + 1)) {
      const bool digit_before = at > 0 && std::isdigit(static_cast<unsigned char>(line[at - 1]));
      const size_t after = at + code.size();
      const bool digit_after =
          after < line.size() && std::isdigit(static_cast<unsigned char>(line[after]));
      if (!digit_before && !digit_after) return true;
    }
  }
  return false;
}

// An application's own close code (3000-4999) is kept by number: in the JSON
// map of close codes, as the failure reason, and in the text report. The
// peer closes every connection after its first message (--close4001, so the
// URL itself carries no 4001).
TEST(EchoAccounting, ServerCloseCode4001IsReported) {
  if (!node_ws_available())
    GTEST_SKIP() << "node or its ws module not installed: run .ci/install-deps";
  auto server = test::start_peer({node_binary, lossy_script, "--close4001"});
  ASSERT_FALSE(server.port.empty()) << "node_lossy_echo.js printed no port";
  const auto run = test::horde_run({"ws://127.0.0.1:" + server.port + "/", "-c", "10", "--rate",
                                    "20/s", "--duration", "3s", "--drain", "1s"},
                                   "lossy_close4001");
  const auto totals = stop_and_read_totals(server);
  ASSERT_FALSE(run.process.timed_out) << run.process.err;
  ASSERT_TRUE(run.result.is_object()) << "no JSON written: " << run.process.err;
  EXPECT_EQ(total(totals, "closed_4001"), 10) << totals.dump();
  const auto connections = run.result.value("connections", nlohmann::json::object());
  EXPECT_EQ(count_at(run.result, "connections", "opened"), 10) << connections.dump();
  EXPECT_EQ(count_at(connections, "server_close_codes", "4001"), 10) << connections.dump();
  EXPECT_EQ(count_at(connections, "failures", "closed_by_server"), 10) << connections.dump();
  EXPECT_TRUE(report_lists_close_code(run.process.out, "4001")) << run.process.out;
}

}  // namespace
}  // namespace horde

// `horde ladder` run for real: against a server with a known capacity its
// knee lands within one step of the truth; against the embedded server a
// short ladder holds to its last level; bad flags are usage errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

using test::horde_binary;
using test::read_json;
using test::run_process;
using test::start_peer;

const std::string source_dir = HORDE_SOURCE_DIR;

struct ladder_outcome {
  test::process_outcome process;
  nlohmann::json result;
};

ladder_outcome horde_ladder(std::vector<std::string> args, const std::string& name,
                            int timeout_ms = 90000) {
  const std::string json = test::temp_json(name);
  std::remove(json.c_str());
  std::vector<std::string> argv = {horde_binary, "ladder", "--json", json};
  argv.insert(argv.end(), args.begin(), args.end());
  ladder_outcome outcome;
  outcome.process = run_process(argv, timeout_ms);
  if (std::FILE* probe = std::fopen(json.c_str(), "r")) {
    std::fclose(probe);
    outcome.result = read_json(json);
  }
  std::remove(json.c_str());
  return outcome;
}

// A server that answers 1,500 messages/s and queues the rest; the ladder
// doubles from 200 msgs/s: 200, 400, 800 hold, 1,600 is the first level
// past the cap. Accepted: levels 3 to 5.
TEST(HordeLadder, FindsTheKneeOfACappedServerWithinOneStep) {
  if (!test::python_has_websockets()) GTEST_SKIP() << "python3-websockets is not installed";
  auto server = start_peer(
      {HORDE_PYTHON, source_dir + "/tests/peers/capped_echo_server.py", "--rate", "1500"});
  ASSERT_FALSE(server.port.empty());
  const std::string url = "ws://127.0.0.1:" + server.port + "/";
  auto run = horde_ladder({url, "--step", "rate", "-c", "100", "--start", "200", "--factor", "2",
                           "--levels", "6", "--hold", "3s"},
                          "ladder_capped");
  ASSERT_FALSE(run.process.timed_out);
  const auto& r = run.result;
  if (run.process.exit_code == 3 && r.value("outcome", "") == "invalid")
    GTEST_SKIP() << "horde could not keep its schedule twice on this busy machine: "
                 << run.process.out;
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err << run.process.out;
  EXPECT_EQ(r["schema"], "horde.ladder/1");
  EXPECT_EQ(r["outcome"], "broke") << run.process.out;
  ASSERT_TRUE(r["broke_at_level"].is_number()) << run.process.out;
  const int knee = r["broke_at_level"].get<int>();
  EXPECT_GE(knee, 3) << run.process.out;
  EXPECT_LE(knee, 5) << run.process.out;
  EXPECT_EQ(r["last_held_level"], knee - 1);
  ASSERT_EQ(r["levels"].size(), size_t(knee));
  const auto& broken = r["levels"][knee - 1];
  EXPECT_EQ(broken["value"], 200u << (knee - 1));
  EXPECT_EQ(broken["broke"], true);
  EXPECT_EQ(broken["valid"], true);
  EXPECT_EQ(broken["run"]["schema"], "horde.run/1");
  // The server never answered faster than its cap (10% for the batches).
  EXPECT_LT(broken["received_per_second"].get<double>(), 1650.0) << broken.dump(1).substr(0, 800);
  for (int i = 0; i + 1 < knee; ++i) {
    EXPECT_EQ(r["levels"][i]["broke"], false);
    EXPECT_LT(r["levels"][i]["round_trip_p99_ns"].get<double>(), 100e6);
  }
  EXPECT_NE(run.process.err.find("level 1/6: 200 msgs/s over 100 connections, 3 s"),
            std::string::npos)
      << run.process.err;
  EXPECT_NE(run.process.out.find("broke at: level " + std::to_string(knee)), std::string::npos)
      << run.process.out;
}

TEST(HordeLadder, NoLevelBreaksUpToTheLastAgainstTheEmbeddedServer) {
  auto run = horde_ladder({"--step", "connections", "--start", "20", "--levels", "2", "--hold",
                           "1s", "--rate", "10/s", "--threshold", "errors<=1%"},
                          "ladder_held");
  ASSERT_FALSE(run.process.timed_out);
  if (run.process.exit_code == 3) GTEST_SKIP() << "horde was starved: " << run.process.out;
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err << run.process.out;
  EXPECT_EQ(run.result["outcome"], "held");
  EXPECT_EQ(run.result["limits"], nlohmann::json::array({"errors<=1%"}));
  ASSERT_EQ(run.result["levels"].size(), 2u);
  EXPECT_EQ(run.result["levels"][1]["connections"], 40);
  EXPECT_EQ(run.result["levels"][1]["run"]["connections"]["opened"], 40);
  EXPECT_TRUE(run.result["broke_at"].is_null());
  EXPECT_NE(run.process.out.find("no level broke up to level 2 (40 connections)"),
            std::string::npos)
      << run.process.out;
}

TEST(HordeLadder, BadFlagsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--step", "sideways"},
                                                                {"--factor", "0.5"},
                                                                {"--threshold", "rtt.p99<fast"},
                                                                {"--csv", "/tmp/x.csv"}}) {
    auto run = horde_ladder(args, "ladder_usage", 20000);
    EXPECT_EQ(run.process.exit_code, 2) << args[0] << ": " << run.process.err;
    EXPECT_TRUE(run.result.is_null()) << args[0];
  }
}

}  // namespace
}  // namespace horde

// Run-level setup steps (a scenario's `setup:`, app/setup_steps.hh) against
// an aiohttp server whose rooms and groups an admin must create by REST
// first (tests/peers/admin_rooms_server.py): the admin logs in once, the
// token and the room id it captures reach every connection's URL and
// header, a per-group step creates the pub/sub groups with the token, and
// the HTTP publishers carry it in their header.
// A failed step stops the run before any connection (exit 3, naming the
// step, its status and its answer); an undefined variable is refused at
// load time with its place in the file (exit 2).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

const std::string source_dir = HORDE_SOURCE_DIR;
using test::horde_run;
using test::start_peer;

bool python_has_aiohttp() {
  return test::run_process({HORDE_PYTHON, "-c", "import aiohttp"}, 20000).exit_code == 0;
}

struct scenario_file {
  std::string path;
  scenario_file(const std::string& name, const std::string& yaml)
      : path(testing::TempDir() + "/horde_setup_" + name + "_" + std::to_string(getpid()) +
             ".yaml") {
    std::ofstream(path) << yaml;
  }
  ~scenario_file() { std::remove(path.c_str()); }
};

// The peer's counters (GET /stats).
nlohmann::json peer_stats(const std::string& port) {
  auto got = test::run_process(
      {HORDE_PYTHON, "-c",
       "import sys, urllib.request; print(urllib.request.urlopen("
       "'http://127.0.0.1:' + sys.argv[1] + '/stats', timeout=10).read().decode())",
       port},
      20000);
  return got.exit_code == 0 ? nlohmann::json::parse(got.out) : nlohmann::json::object();
}

// Login, then a room; `extra` adds lines (top-level keys or more steps).
std::string login_and_room(const std::string& port, const std::string& password,
                           const std::string& extra = {}) {
  const std::string http = "http://127.0.0.1:" + port;
  return "url: ws://127.0.0.1:" + port + "/ws/{room_id}\n" +
         "header: 'Authorization: Bearer {admin_token}'\n"
         "setup:\n"
         "  - name: login\n"
         "    url: " +
         http + "/admin/login\n" + "    body: '{\"user\":\"admin\",\"password\":\"" + password +
         "\"}'\n" +
         "    expect: 200\n"
         "    capture:\n"
         "      admin_token: {json: /token}\n"
         "  - name: create-room\n"
         "    url: " +
         http + "/rooms\n" +
         "    headers: ['Authorization: Bearer {admin_token}']\n"
         "    body: '{\"name\":\"lobby\"}'\n"
         "    expect: 201\n"
         "    capture:\n"
         "      room_id: {header: X-Room-Id}\n" +
         extra;
}

TEST(SetupSteps, LoginOnceThenEveryConnectionUsesTheCaptures) {
  if (!python_has_aiohttp()) GTEST_SKIP() << HORDE_PYTHON << " lacks aiohttp (python3-aiohttp)";
  auto peer = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/admin_rooms_server.py"});
  ASSERT_FALSE(peer.port.empty());
  scenario_file file("login", login_and_room(peer.port, "admin-secret"));
  auto run = horde_run({"--scenario", file.path, "-c", "20", "--rate", "10/s", "--duration", "2s"},
                       "setup_login");
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  EXPECT_EQ(run.result["connections"]["opened"], 20);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  EXPECT_GT(run.result["messages"]["sent"], 0);
  EXPECT_EQ(run.result["messages"]["answered"], run.result["messages"]["sent"]);
  const auto& setup = run.result["setup"];
  ASSERT_EQ(setup.size(), 2u) << run.result.dump();
  EXPECT_EQ(setup[0]["name"], "login");
  EXPECT_EQ(setup[0]["status"], 200);
  EXPECT_EQ(setup[1]["name"], "create-room");
  EXPECT_EQ(setup[1]["status"], 201);
  EXPECT_GT(setup[1]["latency_ms"].get<double>(), 0);
  EXPECT_NE(run.process.out.find("setup        login (POST): 200 in"), std::string::npos)
      << run.process.out;
  const auto stats = peer_stats(peer.port);
  EXPECT_EQ(stats["logins"], 1);  // once for the run, not per connection
  EXPECT_EQ(stats["rooms_created"], 1);
  EXPECT_EQ(stats["ws_accepted"], 20);
  EXPECT_EQ(stats["unauthorized"], 0);
}

TEST(SetupSteps, AStepPerGroupCreatesTheGroupsWithTheToken) {
  if (!python_has_aiohttp()) GTEST_SKIP() << HORDE_PYTHON << " lacks aiohttp (python3-aiohttp)";
  auto peer = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/admin_rooms_server.py"});
  ASSERT_FALSE(peer.port.empty());
  scenario_file file("groups", login_and_room(peer.port, "admin-secret",
                                              "  - name: create-groups\n"
                                              "    for-each-group: true\n"
                                              "    url: http://127.0.0.1:" +
                                                  peer.port +
                                                  "/groups/{group}\n"
                                                  "    headers: ['Authorization: Bearer "
                                                  "{admin_token}']\n"
                                                  "    expect: 201\n"
                                                  "    concurrency: 2\n"));
  // Publishing by REST too, with the admin's token.
  auto run = horde_run({"--scenario", file.path, "-c", "20", "--groups", "5", "--subscriptions",
                        "1", "--publishers", "5", "--rate", "10/s", "--duration", "2s",
                        "--publish-http", "POST http://127.0.0.1:" + peer.port + "/publish/{group}",
                        "--publish-http-header", "Authorization: Bearer {admin_token}"},
                       "setup_groups");
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& setup = run.result["setup"];
  ASSERT_EQ(setup.size(), 3u) << run.result.dump();
  EXPECT_EQ(setup[2]["for_each_group"], true);
  EXPECT_EQ(setup[2]["requests"], 5);
  EXPECT_EQ(setup[2]["failed"], 0);
  const auto& p = run.result["pubsub"];
  EXPECT_EQ(p["group_setup"]["groups_created"], 5);
  EXPECT_EQ(p["subscriptions_refused"], 0);
  EXPECT_EQ(p["subscribes_in_force"], 20);
  EXPECT_GT(p["publishes"], 0);
  EXPECT_EQ(p["publish_http"]["ok"], p["publishes"]);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(p["lost"], 0);
  const auto stats = peer_stats(peer.port);
  EXPECT_EQ(stats["groups_created"], 5);
  EXPECT_EQ(stats["http_publishes"], p["publishes"]);
  EXPECT_EQ(stats["unauthorized"], 0);
}

TEST(SetupSteps, AFailedStepStopsTheRunBeforeAnyConnection) {
  if (!python_has_aiohttp()) GTEST_SKIP() << HORDE_PYTHON << " lacks aiohttp (python3-aiohttp)";
  auto peer = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/admin_rooms_server.py"});
  ASSERT_FALSE(peer.port.empty());
  scenario_file file("refused", login_and_room(peer.port, "wrong"));
  auto run =
      horde_run({"--scenario", file.path, "-c", "5", "--duration", "2s"}, "setup_refused", 30000);
  EXPECT_EQ(run.process.exit_code, 3) << run.process.err;
  const std::string& err = run.process.err;
  EXPECT_NE(err.find("setup step 'login'"), std::string::npos) << err;
  EXPECT_NE(err.find("answered 401, expected 200"), std::string::npos) << err;
  EXPECT_NE(err.find("bad credentials"), std::string::npos) << err;
  const auto stats = peer_stats(peer.port);
  EXPECT_EQ(stats["logins_refused"], 1);
  EXPECT_EQ(stats["rooms_created"], 0);
  EXPECT_EQ(stats["ws_accepted"], 0);
}

TEST(SetupSteps, AnUndefinedVariableIsRefusedWithItsPlace) {
  // No server needed: the plan is refused before anything starts.
  scenario_file file("undefined",
                     "url: ws://127.0.0.1:9/ws\n"
                     "setup:\n"
                     "  - name: login\n"
                     "    url: http://127.0.0.1:9/login\n"
                     "    headers: ['Authorization: Bearer {admin_tokn}']\n"
                     "    capture:\n"
                     "      admin_token: {json: /token}\n");
  auto run =
      horde_run({"--scenario", file.path, "-c", "1", "--duration", "1s"}, "setup_undefined", 20000);
  EXPECT_EQ(run.process.exit_code, 2) << run.process.err;
  EXPECT_NE(run.process.err.find(file.path + ":3:5 (setup[0].headers)"), std::string::npos)
      << run.process.err;
  EXPECT_NE(run.process.err.find("admin_tokn"), std::string::npos) << run.process.err;
}

}  // namespace
}  // namespace horde

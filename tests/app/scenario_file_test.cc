// Scenario files: every flag as a key, the command line over the file, each
// block into the spec with its position, and errors that say where and what.
#include "app/scenario_file.hh"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli_commands.hh"

namespace horde::app {
namespace {

namespace fs = std::filesystem;

struct parsed {
  std::unique_ptr<run_options> run = std::make_unique<run_options>();
  std::string error;  // empty: parsed
};

// `horde run ARGS` through the real CLI11 definition, without running.
parsed parse_run(std::vector<std::string> args) {
  parsed out;
  CLI::App cli{"horde"};
  add_run_command(cli, *out.run);
  args.insert(args.begin(), {"horde", "run"});
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  try {
    cli.parse(int(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    out.error = e.what();
  }
  return out;
}

class ScenarioFile : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "scenario_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    _dir = pattern;
  }
  void TearDown() override { fs::remove_all(_dir); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (_dir / name).string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path _dir;
};

TEST_F(ScenarioFile, FlatKeysReachRunOptions) {
  const std::string path = write("flat.yaml",
                                 "url: ws://127.0.0.1:9000/chat\n"
                                 "connections: 100k\n"
                                 "connect-rate: 5000/s\n"
                                 "duration: 2m\n"
                                 "poisson: true\n"
                                 "text: yes\n"
                                 "shards: 4\n"
                                 "headers:\n"
                                 "  - 'Authorization: Bearer tok-{conn}'\n"
                                 "  - 'X-Trace: {uuid}'\n"
                                 "subprotocol: chat.v1\n"
                                 "groups: 3M\n"
                                 "setup-url: http://127.0.0.1:8080/groups\n"
                                 "listen-only: true\n");
  const parsed p = parse_run({"--scenario", path});
  ASSERT_EQ(p.error, "");
  const run_options& run = *p.run;
  EXPECT_EQ(run.url, "ws://127.0.0.1:9000/chat");
  EXPECT_EQ(run.connections, "100k");
  EXPECT_EQ(run.connect_rate, "5000/s");
  EXPECT_EQ(run.duration, "2m");
  EXPECT_TRUE(run.poisson);
  EXPECT_TRUE(run.text);
  EXPECT_EQ(run.shards, 4u);
  EXPECT_EQ(run.headers,
            (std::vector<std::string>{"Authorization: Bearer tok-{conn}", "X-Trace: {uuid}"}));
  EXPECT_EQ(run.subprotocols, std::vector<std::string>{"chat.v1"});
  EXPECT_EQ(run.pubsub.groups, "3M");
  EXPECT_EQ(run.group_setup.url, "http://127.0.0.1:8080/groups");
  EXPECT_TRUE(run.scenario.listen_only);
  EXPECT_EQ(run.scenario.source_file, path);
  EXPECT_EQ(run.rate, "1/s");  // untouched: the flag's default
}

TEST_F(ScenarioFile, TheCommandLineOverridesTheFile) {
  const std::string path = write("over.yaml",
                                 "connections: 100k\n"
                                 "rate: 10/s\n"
                                 "header: 'X-From: file'\n"
                                 "lifecycle:\n"
                                 "  lifetime: 60s\n"
                                 "  backoff-cap: 30s\n");
  const parsed p = parse_run(
      {"-c", "5", "--scenario", path, "-H", "X-From: cli", "--lifetime", "5s", "ws://10.0.0.1/"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.run->connections, "5");
  EXPECT_EQ(p.run->rate, "10/s");
  EXPECT_EQ(p.run->headers, std::vector<std::string>{"X-From: cli"});
  EXPECT_EQ(p.run->url, "ws://10.0.0.1/");
  EXPECT_EQ(p.run->scenario.lifecycle.lifetime, "5s");
  EXPECT_EQ(p.run->scenario.lifecycle.backoff_cap, "30s");
}

TEST_F(ScenarioFile, EachBlockIntoTheSpecWithItsPosition) {
  write("users.csv", "user,password\nann,pw1\n");
  const std::string path = write("blocks.yaml",
                                 "feeders:\n"                                            // 1
                                 "  - users.csv\n"                                       // 2
                                 "  - {file: /abs/rooms.csv, mode: once}\n"              // 3
                                 "http:\n"                                               // 4
                                 "  - name: login\n"                                     // 5
                                 "    url: http://127.0.0.1:8000/sessions\n"             // 6
                                 "    headers: {Content-Type: application/json}\n"       // 7
                                 "    body: '{\"user\":\"{user}\"}'\n"                   // 8
                                 "    expect: [200, 201]\n"                              // 9
                                 "    capture:\n"                                        // 10
                                 "      session_id: {json: /session_id}\n"               // 11
                                 "      sid_header: {header: X-Session-Id}\n"            // 12
                                 "    timeout: 5s\n"                                     // 13
                                 "jwt:\n"                                                // 14
                                 "  alg: HS256\n"                                        // 15
                                 "  secret: s3cret\n"                                    // 16
                                 "  claims:\n"                                           // 17
                                 "    sub: '{user}'\n"                                   // 18
                                 "    exp: '{now+3600}'\n"                               // 19
                                 "requests:\n"                                           // 20
                                 "  - name: add\n"                                       // 21
                                 "    send: '{\"id\":{seq},\"method\":\"add\"}'\n"       // 22
                                 "    error: /error/code\n"                              // 23
                                 "    rate: 5/s\n"                                       // 24
                                 "  - name: tokens\n"                                    // 25
                                 "    send: '{\"type\":\"prompt\",\"id\":\"{seq}\"}'\n"  // 26
                                 "    stream: true\n"                                    // 27
                                 "    end: '/type == \"done\"'\n"                        // 28
                                 "    count: 20\n"                                       // 29
                                 "    match-value: '\"{seq}\"'\n"                        // 30
                                 "heartbeat:\n"                                          // 31
                                 "  every: 25s\n"                                        // 32
                                 "  send: ping\n"                                        // 33
                                 "  expect: '/type == \"pong\"'\n"                       // 34
                                 "lifecycle:\n"                                          // 35
                                 "  lifetime: 60s\n"                                     // 36
                                 "  lifetime-jitter: 10s\n"                              // 37
                                 "  reconnect: true\n"                                   // 38
                                 "  backoff-base: 1s\n"                                  // 39
                                 "  max-attempts: 5\n"                                   // 40
                                 "  chaos-rate: 10/s\n"                                  // 41
                                 "  chaos-mode: close\n");                               // 42
  const parsed p = parse_run({"--scenario", path});
  ASSERT_EQ(p.error, "");
  const scenario_spec& s = p.run->scenario;

  ASSERT_EQ(s.feeders.size(), 2u);
  EXPECT_EQ(s.feeders[0].file, (_dir / "users.csv").string());  // beside the scenario
  EXPECT_EQ(s.feeders[0].mode, "cycle");
  EXPECT_EQ(s.feeders[1].file, "/abs/rooms.csv");
  EXPECT_EQ(s.feeders[1].mode, "once");
  EXPECT_EQ(s.feeders[1].origin.line, 3);
  EXPECT_EQ(s.feeders[1].origin.key, "feeders[1]");

  ASSERT_EQ(s.http_steps.size(), 1u);
  const http_step_spec& h = s.http_steps[0];
  EXPECT_EQ(h.name, "login");
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.url, "http://127.0.0.1:8000/sessions");
  EXPECT_EQ(h.headers, std::vector<std::string>{"Content-Type: application/json"});
  EXPECT_EQ(h.body, "{\"user\":\"{user}\"}");
  EXPECT_EQ(h.expect_status, (std::vector<int>{200, 201}));
  EXPECT_EQ(h.timeout, "5s");
  EXPECT_EQ(h.origin.file, path);
  EXPECT_EQ(h.origin.line, 5);
  EXPECT_EQ(h.origin.column, 5);
  EXPECT_EQ(h.origin.key, "http[0]");
  ASSERT_EQ(h.captures.size(), 2u);
  EXPECT_EQ(h.captures[0].variable, "session_id");
  EXPECT_EQ(h.captures[0].json, "/session_id");
  EXPECT_EQ(h.captures[0].origin.line, 11);
  EXPECT_EQ(h.captures[0].origin.key, "http[0].capture.session_id");
  EXPECT_EQ(h.captures[1].header, "X-Session-Id");

  ASSERT_EQ(s.jwt.size(), 1u);
  EXPECT_EQ(s.jwt[0].algorithm, "HS256");
  EXPECT_EQ(s.jwt[0].secret, "s3cret");
  ASSERT_EQ(s.jwt[0].claims.size(), 2u);
  EXPECT_EQ(s.jwt[0].claims[0].name, "sub");
  EXPECT_EQ(s.jwt[0].claims[1].value, "{now+3600}");
  EXPECT_EQ(s.jwt[0].origin.line, 14);

  ASSERT_EQ(s.requests.size(), 2u);
  EXPECT_EQ(s.requests[0].name, "add");
  EXPECT_EQ(s.requests[0].error, "/error/code");
  EXPECT_EQ(s.requests[0].rate, "5/s");
  EXPECT_EQ(s.requests[0].match, "/id");
  EXPECT_FALSE(s.requests[0].stream);
  EXPECT_EQ(s.requests[0].origin.line, 21);
  EXPECT_TRUE(s.requests[1].stream);
  EXPECT_EQ(s.requests[1].end, "/type == \"done\"");
  EXPECT_EQ(s.requests[1].count, 20u);
  EXPECT_EQ(s.requests[1].match_value, "\"{seq}\"");
  EXPECT_EQ(s.requests[1].origin.key, "requests[1]");

  ASSERT_EQ(s.heartbeats.size(), 1u);
  EXPECT_EQ(s.heartbeats[0].every, "25s");
  EXPECT_EQ(s.heartbeats[0].send, "ping");
  EXPECT_EQ(s.heartbeats[0].expect, "/type == \"pong\"");
  EXPECT_EQ(s.heartbeats[0].timeout, "5s");
  EXPECT_EQ(s.heartbeats[0].origin.line, 31);
  EXPECT_EQ(s.heartbeats[0].origin.key, "heartbeat");

  const lifecycle_spec& l = s.lifecycle;
  EXPECT_EQ(l.lifetime, "60s");
  EXPECT_EQ(l.lifetime_jitter, "10s");
  EXPECT_TRUE(l.reconnect);
  EXPECT_EQ(l.backoff_base, "1s");
  EXPECT_EQ(l.backoff_cap, "10s");
  EXPECT_EQ(l.max_attempts, 5u);
  EXPECT_EQ(l.chaos_rate, "10/s");
  EXPECT_EQ(l.chaos_mode, "close");
  EXPECT_EQ(l.origin.line, 35);
  EXPECT_EQ(l.origin.column, 1);
}

TEST_F(ScenarioFile, SetupStepsIntoTheSpecWithTheirGroupFields) {
  const std::string path = write("setup.yaml",
                                 "setup:\n"
                                 "  - name: login\n"
                                 "    url: http://127.0.0.1:8000/login\n"
                                 "    capture: {token: {json: /token}}\n"
                                 "  - url: http://127.0.0.1:8000/groups/{group}\n"
                                 "    for-each-group: yes\n"
                                 "    batch: 5\n"
                                 "    batch-template: '{\"g\":[{items}]}'\n"
                                 "    rate: 100/s\n"
                                 "    concurrency: 2\n");
  const parsed p = parse_run({"--scenario", path});
  ASSERT_EQ(p.error, "");
  const auto& steps = p.run->scenario.setup_steps;
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_TRUE(p.run->scenario.http_steps.empty());
  EXPECT_EQ(steps[0].name, "login");
  EXPECT_EQ(steps[0].origin.key, "setup[0]");
  EXPECT_EQ(steps[0].origin.line, 2);
  ASSERT_EQ(steps[0].captures.size(), 1u);
  EXPECT_EQ(steps[0].captures[0].variable, "token");
  EXPECT_FALSE(steps[0].for_each_group);
  EXPECT_TRUE(steps[1].for_each_group);
  EXPECT_EQ(steps[1].batch, 5u);
  EXPECT_EQ(steps[1].batch_template, R"({"g":[{items}]})");
  EXPECT_EQ(steps[1].rate, "100/s");
  EXPECT_EQ(steps[1].concurrency, 2u);
  // The group fields belong to setup steps only.
  const parsed wrong = parse_run({"--scenario", write("http.yaml",
                                                      "http:\n"
                                                      "  - url: http://127.0.0.1:8000/x\n"
                                                      "    for-each-group: true\n")});
  EXPECT_NE(wrong.error.find("unknown key 'for-each-group'"), std::string::npos) << wrong.error;
}

TEST_F(ScenarioFile, OneLinerFlagsFillTheSpec) {
  const parsed p =
      parse_run({"--request", "{\"id\":{seq}}", "--error-field", "/error/code", "--request-timeout",
                 "2s", "--heartbeat-every", "30s", "--heartbeat-send", "ping", "--feeder",
                 "users.csv", "--reconnect", "--max-attempts", "3"});
  ASSERT_EQ(p.error, "");
  const scenario_spec& s = p.run->scenario;
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.requests[0].send, "{\"id\":{seq}}");
  EXPECT_EQ(s.requests[0].match, "/id");
  EXPECT_EQ(s.requests[0].error, "/error/code");
  EXPECT_EQ(s.requests[0].timeout, "2s");
  EXPECT_EQ(s.requests[0].origin.key, "--request");
  EXPECT_EQ(s.requests[0].origin.file, "");
  ASSERT_EQ(s.heartbeats.size(), 1u);
  EXPECT_EQ(s.heartbeats[0].every, "30s");
  ASSERT_EQ(s.feeders.size(), 1u);
  EXPECT_EQ(s.feeders[0].file, "users.csv");
  EXPECT_TRUE(s.lifecycle.reconnect);
  EXPECT_EQ(s.lifecycle.max_attempts, 3u);
}

TEST_F(ScenarioFile, NoScenarioFlagsLeaveTheSpecEmpty) {
  const parsed p = parse_run({"-c", "10"});
  ASSERT_EQ(p.error, "");
  EXPECT_TRUE(p.run->scenario.empty());
}

TEST_F(ScenarioFile, RequestFlagsFillWhatEntriesLeaveOutAndTheCommandLineOverridesAll) {
  const std::string path = write("req.yaml",
                                 "request-timeout: 3s\n"
                                 "requests:\n"
                                 "  - send: a\n"
                                 "  - send: b\n"
                                 "    timeout: 1s\n"
                                 "    match: /rid\n");
  parsed p = parse_run({"--scenario", path});
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.run->scenario.requests.size(), 2u);
  EXPECT_EQ(p.run->scenario.requests[0].timeout, "3s");
  EXPECT_EQ(p.run->scenario.requests[1].timeout, "1s");
  EXPECT_EQ(p.run->scenario.requests[1].match, "/rid");

  p = parse_run({"--scenario", path, "--match", "/x", "--request-timeout", "9s"});
  ASSERT_EQ(p.error, "");
  for (const request_spec& r : p.run->scenario.requests) {
    EXPECT_EQ(r.match, "/x");
    EXPECT_EQ(r.timeout, "9s");
  }

  p = parse_run({"--scenario", path, "--request", "c"});  // the command line's request
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.run->scenario.requests.size(), 1u);
  EXPECT_EQ(p.run->scenario.requests[0].send, "c");
  EXPECT_EQ(p.run->scenario.requests[0].timeout, "3s");
}

TEST_F(ScenarioFile, UnknownKeyNamesItsPlaceAndTheNearestKey) {
  const std::string path = write("typo.yaml",
                                 "# a comment\n"
                                 "connections: 10\n"
                                 "conections: 100k\n");
  EXPECT_EQ(parse_run({"--scenario", path}).error,
            path + ":3:1: unknown key 'conections' (did you mean 'connections'?)");

  const std::string nested = write("nested.yaml",
                                   "http:\n"
                                   "  - url: http://h/\n"
                                   "    metod: GET\n");
  EXPECT_EQ(parse_run({"--scenario", nested}).error,
            nested + ":3:5: unknown key 'metod' in http[0] (did you mean 'method'?)");

  const std::string far = write("far.yaml", "zzzzzz: 1\n");
  EXPECT_EQ(parse_run({"--scenario", far}).error, far + ":1:1: unknown key 'zzzzzz'");

  const std::string snake = write("snake.yaml", "lifecycle:\n  backoff_cap: 5s\n");
  EXPECT_EQ(parse_run({"--scenario", snake}).error,
            snake + ":2:3: unknown key 'backoff_cap' in lifecycle (did you mean 'backoff-cap'?)");
}

TEST_F(ScenarioFile, WrongTypesAreNamedWithTheirPlace) {
  const std::string map_for_list = write("map.yaml",
                                         "connections: 10\n"
                                         "http:\n"
                                         "  url: http://h/\n");
  EXPECT_EQ(parse_run({"--scenario", map_for_list}).error,
            map_for_list + ":3:3: 'http' takes a list of steps (- url: ...), not a map");

  const std::string list_for_one = write("list.yaml", "connections: [1, 2]\n");
  EXPECT_EQ(
      parse_run({"--scenario", list_for_one}).error,
      list_for_one + ":1:14: 'connections' takes one value (it is --connections), not a list");

  const std::string bad_switch = write("switch.yaml", "lifecycle:\n  reconnect: maybe\n");
  EXPECT_EQ(parse_run({"--scenario", bad_switch}).error,
            bad_switch + ":2:14: 'lifecycle.reconnect' is true or false, not 'maybe'");

  const std::string unquoted = write("unquoted.yaml", "requests:\n  - send: {\"id\": 1}\n");
  EXPECT_NE(
      parse_run({"--scenario", unquoted})
          .error.find(":2:11: 'requests[0].send' takes a string, not a map: quote a JSON template"),
      std::string::npos);

  // What the flag itself refuses, at the key's place.
  const std::string refused = write("refused.yaml", "\nlifecycle: {chaos-mode: explode}\n");
  const std::string error = parse_run({"--scenario", refused}).error;
  EXPECT_EQ(error.rfind(refused + ":2:13: 'lifecycle.chaos-mode': ", 0), 0u) << error;
  const std::string count = write("count.yaml", "shards: many\n");
  EXPECT_EQ(parse_run({"--scenario", count}).error.rfind(count + ":1:1: 'shards': ", 0), 0u);
}

TEST_F(ScenarioFile, SyntaxErrorsCarryYamlCppsPosition) {
  const std::string path = write("syntax.yaml",
                                 "connections: 10\n"
                                 "headers: [a, b\n"
                                 "rate: 1/s\n");
  const std::string error = parse_run({"--scenario", path}).error;
  EXPECT_EQ(error.rfind(path + ":", 0), 0u) << error;
  EXPECT_NE(error.find("YAML syntax:"), std::string::npos) << error;
}

TEST_F(ScenarioFile, AnEmptyFileIsAScenarioWithNoKeys) {
  const std::string path = write("empty.yaml", "");
  const parsed p = parse_run({"--scenario", path});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.run->connections, "1000");
  EXPECT_TRUE(p.run->scenario.empty());
  const std::string comments = write("comments.yaml", "# nothing yet\n");
  EXPECT_EQ(parse_run({"--scenario", comments}).error, "");
}

TEST_F(ScenarioFile, OtherShapesAndMistakes) {
  EXPECT_EQ(parse_run({"--scenario", (_dir / "missing.yaml").string()})
                .error.rfind("--scenario " + (_dir / "missing.yaml").string() + ": cannot open", 0),
            0u);
  const std::string list = write("list.yaml", "- connections: 1\n");
  EXPECT_EQ(parse_run({"--scenario", list}).error,
            list + ":1:1: a scenario is a map of keys (connections: 1000, ...), not a list");
  const std::string twice = write("twice.yaml", "lifetime: 5s\nlifecycle:\n  lifetime: 6s\n");
  EXPECT_EQ(parse_run({"--scenario", twice}).error,
            twice + ":3:3: 'lifecycle.lifetime' sets what 'lifetime' at line 1 already set");
  const std::string plural = write("plural.yaml", "header: 'A: 1'\nheaders: ['B: 2']\n");
  EXPECT_EQ(parse_run({"--scenario", plural}).error,
            plural + ":2:1: 'headers' sets what 'header' at line 1 already set");
  const std::string both = write("both.yaml", "request: a\nrequests:\n  - send: b\n");
  EXPECT_NE(parse_run({"--scenario", both}).error.find(both + ":1:1: 'request'"),
            std::string::npos);
  const std::string nested = write("nested.yaml", "scenario: other.yaml\n");
  EXPECT_NE(parse_run({"--scenario", nested}).error.find(":1:1: 'scenario' cannot be a key"),
            std::string::npos);
  const std::string no_url = write("nourl.yaml", "http:\n  - method: GET\n");
  EXPECT_EQ(parse_run({"--scenario", no_url}).error, no_url + ":2:5: 'http[0]' needs a 'url'");
  const std::string capture =
      write("capture.yaml", "http:\n  - url: http://h/\n    capture: {t: {json: token}}\n");
  EXPECT_NE(parse_run({"--scenario", capture}).error.find("is a JSON pointer starting with '/'"),
            std::string::npos);
}

TEST_F(ScenarioFile, EnvironmentVariablesFillValues) {
  ::setenv("HORDE_TEST_PORT", "4321", 1);
  ::unsetenv("HORDE_TEST_UNSET");
  const std::string path = write("env.yaml",
                                 "url: ws://127.0.0.1:${HORDE_TEST_PORT}/ws\n"
                                 "origin: ${HORDE_TEST_UNSET:-http://default}\n"
                                 "header: 'X-Price: $$5'\n");
  const parsed p = parse_run({"--scenario", path});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.run->url, "ws://127.0.0.1:4321/ws");
  EXPECT_EQ(p.run->origin, "http://default");
  EXPECT_EQ(p.run->headers, std::vector<std::string>{"X-Price: $5"});
  const std::string unset = write("unset.yaml", "url: ws://h:${HORDE_TEST_UNSET}/\n");
  EXPECT_EQ(parse_run({"--scenario", unset}).error,
            unset +
                ":1:6: 'url': the environment variable HORDE_TEST_UNSET is not set (export "
                "it, or write ${HORDE_TEST_UNSET:-default})");
}

TEST(ScenarioKeys, NearestKey) {
  const std::vector<std::string> keys = {"connections", "connect-rate", "rate", "duration"};
  EXPECT_EQ(nearest_key("conections", keys), "connections");
  EXPECT_EQ(nearest_key("connect_rate", keys), "connect-rate");
  EXPECT_EQ(nearest_key("durtaion", keys), "duration");
  EXPECT_EQ(nearest_key("rat", keys), "rate");
  EXPECT_EQ(nearest_key("xyz", keys), "");
}

std::vector<flag_key> run_flag_keys() {
  CLI::App cli{"horde"};
  run_options run;
  return flag_keys(*add_run_command(cli, run));
}

TEST(ScenarioKeys, EveryRunFlagHasItsKey) {
  std::set<std::string> names;
  for (const flag_key& k : run_flag_keys())
    names.insert(k.name);
  for (const char* name : {"url", "connections", "connect-rate", "header", "rate", "groups",
                           "setup-url", "lifetime", "reconnect", "request", "heartbeat-every"})
    EXPECT_EQ(names.count(name), 1u) << name;
  EXPECT_EQ(names.count("help"), 0u);
  EXPECT_EQ(names.count("scenario"), 0u);
}

// docs/scenarios.md names every key, so a new flag is documented as a key too.
TEST(ScenarioKeys, TheDocsNameEveryKey) {
  std::ifstream in(std::string(HORDE_SOURCE_DIR) + "/docs/scenarios.md");
  ASSERT_TRUE(in) << "docs/scenarios.md";
  std::stringstream docs;
  docs << in.rdbuf();
  for (const flag_key& k : run_flag_keys())
    EXPECT_NE(docs.str().find("`" + k.name + "`"), std::string::npos) << k.name;
  for (const char* block :
       {"feeders", "setup", "http", "jwt", "requests", "heartbeat", "lifecycle"})
    EXPECT_NE(docs.str().find("`" + std::string(block) + ":`"), std::string::npos) << block;
}

// Every example loads (with its ${VAR:-default}s) against this horde's flags.
TEST(ScenarioExamples, EveryExampleLoads) {
  const fs::path dir = fs::path(HORDE_SOURCE_DIR) / "examples";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    const parsed p = parse_run({"--scenario", entry.path().string()});
    EXPECT_EQ(p.error, "") << entry.path();
  }
  EXPECT_GE(count, 5);
}

}  // namespace
}  // namespace horde::app

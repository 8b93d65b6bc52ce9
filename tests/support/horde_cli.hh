// Running the real `horde` binary from integration tests: `horde run` with a
// JSON result to read back, and helper servers (a `horde serve`, a Python or
// Node peer) whose first stdout line says where they listen. Needs
// HORDE_BINARY and HORDE_PYTHON defined by the build.
#pragma once

#include <unistd.h>

#include <csignal>
#include <cstdint>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/child_process.hh"
#include "tests/support/process_run.hh"

namespace horde::test {

inline const std::string horde_binary = HORDE_BINARY;

inline std::string temp_json(const std::string& name) {
  return testing::TempDir() + "/horde_" + name + "_" + std::to_string(getpid()) + ".json";
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  nlohmann::json j;
  in >> j;
  return j;
}

struct run_outcome {
  process_outcome process;
  nlohmann::json result;
};

// `horde run --quiet --json FILE args...`; the result is empty when no JSON
// was written.
inline run_outcome horde_run(std::vector<std::string> args, const std::string& name,
                             int timeout_ms = 60000, int interrupt_after_ms = 0) {
  const std::string json = temp_json(name);
  std::remove(json.c_str());
  std::vector<std::string> argv = {horde_binary, "run", "--quiet", "--json", json};
  argv.insert(argv.end(), args.begin(), args.end());
  run_outcome outcome;
  outcome.process = run_process(argv, timeout_ms, interrupt_after_ms);
  std::ifstream probe(json);
  if (probe.good()) outcome.result = read_json(json);
  std::remove(json.c_str());
  return outcome;
}

// The run completed as a test that is not about the verdict needs: exit 0,
// or 3 only because horde was starved or saturated (the test machine's other
// work held its CPUs, so the schedule verdict calls the run invalid). Its
// figures are still the ones the test reads.
inline ::testing::AssertionResult passed_or_starved(const run_outcome& run) {
  const int code = run.process.exit_code;
  if (code == 0) return ::testing::AssertionSuccess();
  if (code == 3 && run.result.contains("self")) {
    const std::string cause = run.result["self"].value("schedule_cause", std::string());
    if (cause == "starved" || cause == "saturated") return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "exit " << code;
}

// A third-party or helper server started for one test; its first stdout line
// (the port, or horde serve's "listening ws://..." line) is kept.
struct peer_server {
  std::unique_ptr<child_process> process;
  std::string port;
};

inline peer_server start_peer(const std::vector<std::string>& argv) {
  peer_server peer;
  peer.process = std::make_unique<child_process>(argv);
  auto line = peer.process->read_line(10000);
  if (line) peer.port = *line;
  return peer;
}

// The broker's counts that `horde serve` prints when it stops
// ("broker: subscribes .. deliveries D dropped X duplicated Y ..."): what a
// pub/sub run against its --drop-every / --duplicate-every hooks must report.
struct broker_counts {
  uint64_t deliveries = 0, dropped = 0, duplicated = 0;
};

// Stops a `horde serve` (SIGTERM) and reads its broker line.
inline broker_counts stop_and_read_broker_line(peer_server& server) {
  server.process->signal(SIGTERM);
  broker_counts counts;
  while (auto line = server.process->read_line(10000)) {
    unsigned long long deliveries = 0, dropped = 0, duplicated = 0;
    const size_t at = line->find("deliveries ");
    if (line->rfind("broker:", 0) == 0 && at != std::string::npos &&
        std::sscanf(line->c_str() + at, "deliveries %llu dropped %llu duplicated %llu", &deliveries,
                    &dropped, &duplicated) == 3)
      counts = {deliveries, dropped, duplicated};
  }
  return counts;
}

// The ws:// URL in horde serve's first line: "listening ws://127.0.0.1:PORT/ (...)".
inline std::string served_url(const std::string& first_line) {
  const size_t start = first_line.find("ws://");
  if (start == std::string::npos) return {};
  const size_t end = first_line.find(' ', start);
  return first_line.substr(start, end - start);
}

// A run against an echo server: every connection opened and none failed,
// some messages sent and every one of them echoed byte for byte.
inline void expect_every_message_echoed(const run_outcome& run, int connections) {
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& r = run.result;
  EXPECT_EQ(r["connections"]["opened"], connections);
  EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"].dump();
  EXPECT_GT(r["messages"]["sent"], 0);
  EXPECT_EQ(r["messages"]["answered"], r["messages"]["sent"]);
  EXPECT_EQ(r["messages"]["bytes_received"], r["messages"]["bytes_sent"]);
}

inline bool python_has_websockets() {
  auto outcome = run_process({HORDE_PYTHON, "-c", "import websockets"}, 20000);
  return outcome.exit_code == 0;
}

}  // namespace horde::test

// The target's own cost sampled from a real `horde serve`, and the
// Prometheus endpoint scraped during a real run and checked by promtool.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/horde_cli.hh"

namespace horde::test {
namespace {

TEST(TargetCost, SamplesASeparateHordeServe) {
  auto server =
      start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--max-connections", "4000"});
  const std::string url = served_url(server.port);
  ASSERT_FALSE(url.empty()) << server.port;
  const std::string pid = std::to_string(server.process->pid());
  auto run =
      horde_run({url, "-c", "2000", "--rate", "0", "-d", "4s", "--target-pid", pid}, "target_pid");
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  const auto& cost = run.result["target_cost"];
  ASSERT_TRUE(cost.is_object()) << run.result.dump(1);
  EXPECT_EQ(cost["targets"][0], "pid " + pid + " (horde)");
  EXPECT_FALSE(cost["includes_horde"].get<bool>());
  EXPECT_GT(cost["rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(cost["open_at_hold"], 2000);
  ASSERT_TRUE(cost["memory_per_connection_bytes"].is_number()) << cost.dump(1);
  EXPECT_GT(cost["memory_per_connection_bytes"].get<double>(), 0);
  EXPECT_GE(cost["peak_rss_bytes"].get<uint64_t>(), cost["rss_at_hold"].get<uint64_t>());
  EXPECT_GT(cost["threads"].get<uint64_t>(), 0u);
  // Sampling one process and the host once a second stays far under 1% of a CPU.
  EXPECT_LT(cost["sampling"]["cpu_share"].get<double>(), 0.01);
  size_t sampled = 0;
  for (const auto& point : run.result["series"]) {
    if (!point.contains("target_rss_bytes")) continue;
    ++sampled;
    EXPECT_GT(point["target_rss_bytes"].get<uint64_t>(), 0u);
    EXPECT_TRUE(point.contains("host"));
  }
  EXPECT_GE(sampled, 3u);
}

TEST(TargetCost, FindsTheListenerOnTheUrlsPort) {
  auto server =
      start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--max-connections", "1000"});
  const std::string url = served_url(server.port);
  ASSERT_FALSE(url.empty()) << server.port;
  auto run = horde_run({url, "-c", "100", "--rate", "0", "-d", "2s"}, "target_found");
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  const std::string pid = std::to_string(server.process->pid());
  ASSERT_TRUE(run.result["target_cost"].is_object()) << run.result["notes"].dump(1);
  EXPECT_EQ(run.result["target_cost"]["targets"][0], "pid " + pid + " (horde)");
  bool noted = false;
  for (const auto& note : run.result["notes"])
    noted = noted || note.get<std::string>().find("target: sampling pid " + pid) == 0;
  EXPECT_TRUE(noted) << run.result["notes"].dump(1);
}

// Seed 000's leak detection: a server that keeps 4 KiB per message, at 500
// messages a second, grows ~2 MiB/s; over 10 s of hold that is past 4 MiB and
// 5% of its RSS, on a straight line. The same run against horde serve is flat.
TEST(TargetCost, LeakingServerIsCalledALeak) {
  const std::string source_dir = HORDE_SOURCE_DIR;
  auto leaky = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/leaky_server.py"});
  ASSERT_FALSE(leaky.port.empty());
  auto run = horde_run({"ws://127.0.0.1:" + leaky.port + "/", "-c", "50", "--rate", "10/s", "-d",
                        "14s", "--target-pid", std::to_string(leaky.process->pid())},
                       "target_leak");
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  const auto& cost = run.result["target_cost"];
  ASSERT_TRUE(cost["memory_slope"].is_object()) << cost.dump(1);
  EXPECT_TRUE(cost["memory_slope"]["growing"].get<bool>()) << cost.dump(1);
  EXPECT_NE(cost["leak_verdict"].get<std::string>().find("a leak?"), std::string::npos);
  // 500 messages/s x 4 KiB = 7 GiB/h, give or take the allocator.
  EXPECT_GT(cost["memory_slope"]["bytes_per_hour"].get<double>(), 3.0 * (1 << 30));

  auto server =
      start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--max-connections", "1000"});
  const std::string url = served_url(server.port);
  auto flat = horde_run({url, "-c", "50", "--rate", "10/s", "-d", "14s", "--target-pid",
                         std::to_string(server.process->pid())},
                        "target_flat");
  ASSERT_EQ(flat.process.exit_code, 0) << flat.process.err;
  EXPECT_EQ(flat.result["target_cost"]["leak_verdict"], "flat")
      << flat.result["target_cost"].dump(1);
}

TEST(TargetCost, UnknownPidIsAUsageError) {
  auto run = horde_run({"-c", "10", "-d", "1s", "--target-pid", "999999999"}, "target_none");
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_NE(run.process.err.find("--target-pid 999999999"), std::string::npos) << run.process.err;
}

// GET path on 127.0.0.1:port with a plain socket; the body, or "" on failure.
std::string http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(uint16_t(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return {};
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[65536];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
    response.append(buffer, size_t(n));
  ::close(fd);
  if (response.rfind("HTTP/1.1 200 ", 0) != 0) return {};
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

TEST(MetricsListen, PromtoolAcceptsAScrapeDuringARun) {
  const std::string promtool = "/usr/bin/promtool";
  if (access(promtool.c_str(), X_OK) != 0) GTEST_SKIP() << "promtool (Debian prometheus) missing";
  // stderr onto stdout: horde prints where the metrics are there.
  child_process run({"/bin/sh", "-c",
                     "exec " + horde_binary +
                         " run -q -c 200 --rate 20/s -d 4s --metrics-listen 127.0.0.1:0 2>&1"});
  int port = 0;
  for (int i = 0; i < 50 && port == 0; ++i) {
    const auto line = run.read_line(5000);
    if (!line) break;
    const size_t at = line->find("metrics at http://127.0.0.1:");
    if (at != std::string::npos) port = std::stoi(line->substr(at + 28));
  }
  ASSERT_GT(port, 0);
  // After two seconds the snapshot has connections and round trips.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const std::string body = http_get(port, "/metrics");
  ASSERT_FALSE(body.empty());
  EXPECT_NE(body.find("horde_round_trip_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(body.find("\nhorde_connections_open 200\n"), std::string::npos) << body;
  EXPECT_TRUE(http_get(port, "/other").empty());
  const std::string file = temp_json("metrics") + ".txt";
  std::ofstream(file) << body;
  const auto checked = run_process({"/bin/sh", "-c", promtool + " check metrics < " + file}, 20000);
  std::remove(file.c_str());
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_EQ(checked.out + checked.err, "") << "promtool's lint";
  EXPECT_TRUE(run.wait(20000));
  EXPECT_EQ(run.exit_code(), 0);
}

}  // namespace
}  // namespace horde::test

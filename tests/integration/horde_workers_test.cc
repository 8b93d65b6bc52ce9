// One plan over several workers and several targets, from the outside:
// `horde run` started 4 times with JOB_COMPLETION_INDEX (as a Kubernetes
// Indexed Job starts it) adds up to the same run made by one process, and
// connections spread over several `horde serve` targets as weighted.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "tests/support/free_port.hh"
#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

using test::free_port;
using test::horde_binary;
using test::horde_run;
using test::read_json;
using test::run_process;
using test::served_url;
using test::start_peer;

// The counters that must add up across workers, summed over their results.
// (Once `horde merge` is on main this becomes its merged file.)
struct counts {
  uint64_t opened = 0, failed = 0, sent = 0, subscribes = 0, publishes = 0, expected = 0,
           delivered = 0, duplicated = 0, unaccounted = 0;
  void add(const nlohmann::json& r) {
    opened += r["connections"]["opened"].get<uint64_t>();
    failed += r["connections"]["failed"].get<uint64_t>();
    sent += r["messages"]["sent"].get<uint64_t>();
    const auto& p = r["pubsub"];
    subscribes += p["subscribes_in_force"].get<uint64_t>();
    publishes += p["publishes"].get<uint64_t>();
    expected += p["expected"].get<uint64_t>();
    delivered += p["delivered"].get<uint64_t>();
    duplicated += p["duplicated"].get<uint64_t>();
    unaccounted += p["unaccounted"].get<uint64_t>();
  }
};

// 200 connections x 3 of 40 groups (uniform: exactly 15 subscribers each),
// 8 publishers at 20/s, against one `horde serve`.
std::vector<std::string> pubsub_plan(const std::string& url) {
  return {url, "-c",     "200",  "--groups", "40", "--subscriptions", "3", "--publishers",
          "8", "--rate", "20/s", "-d",       "3s", "--shards",        "1"};
}

TEST(Workers, FourJobWorkersAddUpToTheSingleRunExactly) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "1"});
  const std::string url = served_url(server.port);
  ASSERT_FALSE(url.empty()) << server.port;

  auto single = horde_run(pubsub_plan(url), "workers_single");
  ASSERT_TRUE(test::passed_or_starved(single)) << single.process.err << single.process.out;
  counts one;
  one.add(single.result);

  const std::string barrier = "127.0.0.1:" + std::to_string(free_port());
  const std::string start_at = "@" + std::to_string(std::time(nullptr) + 3);
  std::vector<std::future<test::process_outcome>> running;
  std::vector<std::string> files;
  for (int i = 0; i < 4; ++i) {
    files.push_back(test::temp_json("worker" + std::to_string(i)));
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "JOB_COMPLETION_INDEX=" + std::to_string(i),
                                     horde_binary,
                                     "run",
                                     "--quiet",
                                     "--json",
                                     files.back(),
                                     "--workers",
                                     "4",
                                     "--barrier",
                                     barrier,
                                     "--start-at",
                                     start_at};
    for (const std::string& a : pubsub_plan(url))
      argv.push_back(a);
    // Workers on one host each bind their own address: their port
    // allocators do not know of each other.
    argv.push_back("--source-ips");
    argv.push_back("127.0.0." + std::to_string(i + 1));
    running.push_back(std::async(std::launch::async, [argv] { return run_process(argv, 60000); }));
  }
  counts merged;
  std::vector<bool> seen(4, false);
  for (int i = 0; i < 4; ++i) {
    const auto outcome = running[size_t(i)].get();
    ASSERT_TRUE(outcome.exit_code == 0 || outcome.exit_code == 3) << outcome.err << outcome.out;
    const nlohmann::json r = read_json(files[size_t(i)]);
    std::remove(files[size_t(i)].c_str());
    const auto& w = r["worker"];
    ASSERT_TRUE(w.is_object()) << r.dump().substr(0, 400);
    EXPECT_EQ(w["count"], 4);
    seen[w["index"].get<size_t>()] = true;
    EXPECT_EQ(w["whole_plan"]["connections"], 200);
    EXPECT_EQ(r["plan"]["connections"], 50);
    EXPECT_GE(w["clock_offset_ns"].get<int64_t>(), 0);
    EXPECT_LT(w["clock_offset_ns"].get<int64_t>(), 1'000'000'000);  // a loaded test host
    std::printf("worker %d: clock_offset_ns %lld\n", w["index"].get<int>(),
                static_cast<long long>(w["clock_offset_ns"].get<int64_t>()));
    EXPECT_GE(r["pubsub"]["publish_start_seconds"].get<double>(), 0.0);
    EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"]["failures"].dump();
    merged.add(r);
  }
  EXPECT_EQ(seen, std::vector<bool>(4, true));

  // Connections and subscriptions: exactly the single run's.
  EXPECT_EQ(one.opened, 200u);
  EXPECT_EQ(merged.opened, one.opened);
  EXPECT_EQ(merged.failed, one.failed);
  EXPECT_EQ(one.subscribes, 600u);
  EXPECT_EQ(merged.subscribes, one.subscribes);
  // Messages: every subscribe and every publish, in both.
  EXPECT_EQ(one.sent, one.subscribes + one.publishes);
  EXPECT_EQ(merged.sent, merged.subscribes + merged.publishes);
  // Deliveries: each publish owes its group's 15 subscribers wherever they
  // run, and every one of them arrived, in both. (How many publishes fit in
  // 3 s depends on when publishing started: the single run's count is not
  // repeatable to the message, so the per-publish identity is what is exact.)
  EXPECT_GT(merged.publishes, 200u);
  EXPECT_EQ(one.expected, 15 * one.publishes);
  EXPECT_EQ(merged.expected, 15 * merged.publishes);
  EXPECT_EQ(one.delivered, one.expected);
  EXPECT_EQ(merged.delivered, merged.expected);
  EXPECT_EQ(merged.duplicated, 0u);
  EXPECT_EQ(merged.unaccounted, 0u);
}

TEST(Targets, ConnectionsSpreadOverTargetsByWeight) {
  auto a = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "1"});
  auto b = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "1"});
  const std::string url_a = served_url(a.port), url_b = served_url(b.port);
  ASSERT_FALSE(url_a.empty());
  ASSERT_FALSE(url_b.empty());
  const std::string file = testing::TempDir() + "/horde_targets_" + std::to_string(getpid());
  std::ofstream(file) << "# two nodes\n" << url_a << " 3\n" << url_b << "   # weight 1\n";
  auto run = horde_run({"--targets-file", file, "-c", "400", "--rate", "5/s", "-d", "2s"},
                       "targets_weighted");
  std::remove(file.c_str());
  ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& t = run.result["targets"];
  ASSERT_EQ(t.size(), 2u) << run.result.dump().substr(0, 400);
  EXPECT_EQ(t[0]["url"], url_a);
  EXPECT_EQ(t[0]["weight"], 3);
  EXPECT_EQ(t[0]["connections"]["opened"], 300);
  EXPECT_EQ(t[1]["connections"]["opened"], 100);
  EXPECT_EQ(run.result["connections"]["opened"], 400);
  // Each target's figures are its own connections': they add up to the total.
  for (const char* key : {"sent", "answered"}) {
    EXPECT_EQ(t[0]["messages"][key].get<uint64_t>() + t[1]["messages"][key].get<uint64_t>(),
              run.result["messages"][key].get<uint64_t>())
        << key;
  }
  EXPECT_EQ(t[0]["latency"]["connect"]["count"], 300);
  EXPECT_EQ(t[1]["latency"]["upgrade"]["count"], 100);
  EXPECT_EQ(t[1]["failures_by_reason"]["connect_refused"], 0);
}

TEST(Targets, ADeadTargetsFailuresAreItsOwn) {
  auto a = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "1"});
  const std::string url_a = served_url(a.port);
  const std::string dead = "ws://127.0.0.1:" + std::to_string(free_port()) + "/";
  auto run = horde_run({url_a, dead, "-c", "20", "--rate", "0", "-d", "1s"}, "targets_dead");
  ASSERT_FALSE(run.result.is_null()) << run.process.err;
  const auto& t = run.result["targets"];
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0]["connections"]["opened"], 10);
  EXPECT_EQ(t[0]["connections"]["failed"], 0);
  EXPECT_EQ(t[1]["connections"]["opened"], 0);
  EXPECT_EQ(t[1]["failures_by_reason"]["connect_refused"], 10);
}

TEST(Workers, JsonToStdoutSitsBetweenMarkers) {
  auto outcome = run_process({"/usr/bin/env", "JOB_COMPLETION_INDEX=1", horde_binary, "run",
                              "--quiet", "--json", "-", "--workers", "2", "-c", "10", "-d", "1s"},
                             60000);
  const std::string& out = outcome.out;
  const std::string begin = "-----BEGIN HORDE RESULT-----\n", end = "-----END HORDE RESULT-----\n";
  const size_t b = out.find(begin), e = out.find(end);
  ASSERT_NE(b, std::string::npos) << out;
  ASSERT_NE(e, std::string::npos) << out;
  const auto r = nlohmann::json::parse(out.substr(b + begin.size(), e - b - begin.size()));
  EXPECT_EQ(r["schema"], "horde.run/1");
  EXPECT_EQ(r["worker"]["index"], 1);
  EXPECT_EQ(r["plan"]["connections"], 5);
  EXPECT_TRUE(r["worker"]["start_at_unix_ns"].is_null());
}

}  // namespace
}  // namespace horde

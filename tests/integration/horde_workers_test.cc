// One plan over several workers and several targets, from the outside:
// `horde run` started 4 times with JOB_COMPLETION_INDEX (as a Kubernetes
// Indexed Job starts it) adds up to the same run made by one process, and
// connections spread over several `horde serve` targets as weighted.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <future>
#include <map>
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

using json = nlohmann::json;

// 200 connections x 3 of 40 groups (uniform: exactly 15 subscribers each),
// 8 publishers at 20/s, against one `horde serve`.
std::vector<std::string> pubsub_plan(const std::string& url) {
  return {url, "-c",     "200",  "--groups", "40", "--subscriptions", "3", "--publishers",
          "8", "--rate", "20/s", "-d",       "3s", "--shards",        "1"};
}

// One plan run by 4 `horde run` processes at once, as an Indexed Job starts
// them (JOB_COMPLETION_INDEX, --workers 4), meeting at a --barrier on a free
// port and starting at one instant. Returns each worker's JSON file, by index.
std::vector<std::string> run_four_workers(const std::vector<std::string>& plan,
                                          const std::string& name) {
  const std::string barrier = "127.0.0.1:" + std::to_string(free_port());
  const std::string start_at = "@" + std::to_string(std::time(nullptr) + 3);
  std::vector<std::future<test::process_outcome>> running;
  std::vector<std::string> files;
  for (int i = 0; i < 4; ++i) {
    files.push_back(test::temp_json(name + std::to_string(i)));
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
    argv.insert(argv.end(), plan.begin(), plan.end());
    // Workers on one host each bind their own address: their port
    // allocators do not know of each other.
    argv.push_back("--source-ips");
    argv.push_back("127.0.0." + std::to_string(i + 1));
    running.push_back(std::async(std::launch::async, [argv] { return run_process(argv, 60000); }));
  }
  for (int i = 0; i < 4; ++i) {
    const auto outcome = running[size_t(i)].get();
    EXPECT_TRUE(outcome.exit_code == 0 || outcome.exit_code == 3)
        << "worker " << i << ": " << outcome.err << outcome.out;
  }
  return files;
}

// `horde merge FILES -o OUT` with the real binary; the merged result, or
// null when it wrote none. Exit 3 is a worker starved on a busy host.
json merge_files(const std::vector<std::string>& files, const std::string& name) {
  const std::string out = test::temp_json(name);
  std::vector<std::string> argv = {horde_binary, "merge"};
  argv.insert(argv.end(), files.begin(), files.end());
  argv.insert(argv.end(), {"-o", out});
  const auto outcome = run_process(argv, 60000);
  EXPECT_TRUE(outcome.exit_code == 0 || outcome.exit_code == 3) << outcome.err << outcome.out;
  std::ifstream probe(out);
  if (!probe.good()) return nullptr;
  json merged = read_json(out);
  std::remove(out.c_str());
  return merged;
}

// A histogram's sparse buckets as index -> count, added into `into`.
void add_buckets(std::map<uint64_t, uint64_t>& into, const json& histogram) {
  for (const auto& pair : histogram.value("buckets", json::array()))
    into[pair[0].get<uint64_t>()] += pair[1].get<uint64_t>();
}

// Every histogram of the merged result (latency.*, pubsub.*_latency) holds,
// bucket for bucket, the union of the workers' own.
void expect_histograms_are_the_union(const json& merged, const std::vector<json>& workers) {
  size_t compared = 0;
  for (const char* section : {"latency", "pubsub"}) {
    for (const auto& [key, h] : merged[section].items()) {
      if (!h.is_object() || !h.contains("buckets")) continue;
      std::map<uint64_t, uint64_t> sum, got;
      uint64_t count = 0;
      for (const json& w : workers) {
        add_buckets(sum, w[section][key]);
        count += w[section][key]["count"].get<uint64_t>();
      }
      add_buckets(got, h);
      EXPECT_EQ(got, sum) << section << "." << key;
      EXPECT_EQ(h["count"], count) << section << "." << key;
      ++compared;
    }
  }
  EXPECT_GE(compared, 4u);  // connect, upgrade, subscribe, fan-out at least
  for (const char* key : {"connect", "upgrade"})
    EXPECT_GT(merged["latency"][key]["count"].get<uint64_t>(), 0u) << key;
}

TEST(Workers, FourJobWorkersAddUpToTheSingleRunExactly) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "1"});
  const std::string url = served_url(server.port);
  ASSERT_FALSE(url.empty()) << server.port;

  auto single = horde_run(pubsub_plan(url), "workers_single");
  ASSERT_TRUE(test::passed_or_starved(single)) << single.process.err << single.process.out;
  const json& one = single.result;

  const auto files = run_four_workers(pubsub_plan(url), "worker");
  std::vector<json> workers;
  std::vector<bool> seen(4, false);
  for (const std::string& file : files) {
    const json r = read_json(file);
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
    workers.push_back(r);
  }
  EXPECT_EQ(seen, std::vector<bool>(4, true));
  const json merged = merge_files(files, "workers_merged");
  for (const std::string& file : files)
    std::remove(file.c_str());
  ASSERT_TRUE(merged.is_object());
  EXPECT_EQ(merged["worker"]["merged"], json({0, 1, 2, 3}));
  EXPECT_EQ(merged["worker"]["missing"], json::array());
  EXPECT_EQ(merged["plan"]["connections"], 200);

  // Connections and subscriptions: exactly the single run's.
  EXPECT_EQ(one["connections"]["opened"], 200);
  for (const char* key : {"attempted", "opened", "failed"})
    EXPECT_EQ(merged["connections"][key], one["connections"][key]) << key;
  EXPECT_EQ(one["pubsub"]["subscribes_in_force"], 600);
  EXPECT_EQ(merged["pubsub"]["subscribes_in_force"], one["pubsub"]["subscribes_in_force"]);
  // Messages: every subscribe and every publish, in both.
  for (const json* r : {&one, &merged})
    EXPECT_EQ((*r)["messages"]["sent"].get<uint64_t>(),
              (*r)["pubsub"]["subscribes_in_force"].get<uint64_t>() +
                  (*r)["pubsub"]["publishes"].get<uint64_t>());
  // Deliveries: each publish owes its group's 15 subscribers wherever they
  // run, and every one of them arrived, in both. (How many publishes fit in
  // 3 s depends on when publishing started: the single run's count is not
  // repeatable to the message, so the per-publish identity is what is exact.)
  EXPECT_GT(merged["pubsub"]["publishes"].get<uint64_t>(), 200u);
  for (const json* r : {&one, &merged}) {
    const auto& p = (*r)["pubsub"];
    EXPECT_EQ(p["expected"].get<uint64_t>(), 15 * p["publishes"].get<uint64_t>());
    EXPECT_EQ(p["delivered"], p["expected"]);
    EXPECT_EQ(p["lost"], 0);
    EXPECT_EQ(p["duplicated"], 0);
    EXPECT_EQ(p["unaccounted"], 0);
  }
  // Histograms: the merged file's are the workers' added bucket by bucket.
  expect_histograms_are_the_union(merged, workers);
  EXPECT_EQ(merged["latency"]["connect"]["count"], 200);
}

// Pub/sub over 4 workers against a server that drops every 7th delivery and
// duplicates every 11th: the merged lost and duplicated are exactly what the
// server did, though a publish's subscribers sit in all 4 workers.
TEST(Workers, FourWorkersReportExactlyWhatTheServerLostOrDuplicated) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--shards", "1",
                            "--drop-every", "7", "--duplicate-every", "11"});
  const std::string url = served_url(server.port);
  ASSERT_FALSE(url.empty()) << server.port;
  const auto files =
      run_four_workers({url, "-c", "400", "--groups", "40", "--subscriptions", "2", "--publishers",
                        "8", "--rate", "10/s", "-d", "3s", "--shards", "1"},
                       "lossy_worker");
  const json merged = merge_files(files, "lossy_merged");
  for (const std::string& file : files)
    std::remove(file.c_str());
  const test::broker_counts counts = test::stop_and_read_broker_line(server);
  ASSERT_TRUE(merged.is_object());
  const auto& p = merged["pubsub"];
  std::printf("server: deliveries %llu dropped %llu duplicated %llu; merged: %s\n",
              static_cast<unsigned long long>(counts.deliveries),
              static_cast<unsigned long long>(counts.dropped),
              static_cast<unsigned long long>(counts.duplicated),
              json({{"publishes", p["publishes"]},
                    {"expected", p["expected"]},
                    {"expected_elsewhere", p["expected_elsewhere"]},
                    {"delivered", p["delivered"]},
                    {"deliveries_received", p["deliveries_received"]},
                    {"lost", p["lost"]},
                    {"duplicated", p["duplicated"]}})
                  .dump()
                  .c_str());
  EXPECT_EQ(merged["connections"]["opened"], 400);
  EXPECT_EQ(p["subscribes_in_force"], 800);
  ASSERT_GT(counts.dropped, 0u);
  ASSERT_GT(counts.duplicated, 0u);
  EXPECT_EQ(p["deliveries_received"], counts.deliveries);
  EXPECT_EQ(p["lost"], counts.dropped);
  EXPECT_EQ(p["duplicated"], counts.duplicated);
  EXPECT_EQ(p["reordered"], 0);
  EXPECT_EQ(p["unaccounted"], 0);
  // Each publish owes its group's 20 subscribers, wherever they run.
  EXPECT_EQ(p["expected"].get<uint64_t>(), 20 * p["publishes"].get<uint64_t>());
  EXPECT_EQ(p["delivered"].get<uint64_t>() + p["lost"].get<uint64_t>(), p["expected"]);
  EXPECT_EQ(p["deliveries_received"].get<uint64_t>(),
            p["delivered"].get<uint64_t>() + p["duplicated"].get<uint64_t>());
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

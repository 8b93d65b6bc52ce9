// `horde merge` on real results: three `horde run --worker i/3`s, one after
// the other, against one `horde serve` on loopback, each writing its slice
// of one plan; merged; the merged file read by horde report, horde compare
// and thresholds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

using json = nlohmann::json;
using test::horde_binary;
using test::run_process;

constexpr int workers = 3;
constexpr int connections_each = 20;

std::string scratch(const std::string& name) {
  return testing::TempDir() + "/horde_merge_" + std::to_string(getpid()) + "_" + name;
}

void write(const std::string& path, const json& j) {
  std::ofstream(path) << j.dump(1) << "\n";
}

// Real runs, once for the whole suite: each a worker's file on disk.
class HordeMerge : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = test::start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0"});
    const std::string url = test::served_url(server.port);
    ASSERT_FALSE(url.empty()) << server.port;
    for (int i = 0; i < workers; ++i) {
      // The whole plan: 60 connections at 600/s; each slice 20 at 200/s.
      auto run =
          test::horde_run({url, "--worker", std::to_string(i) + "/" + std::to_string(workers), "-c",
                           std::to_string(workers * connections_each), "--connect-rate",
                           std::to_string(workers * 200) + "/s", "--duration", "2s", "--rate",
                           "20/s", "--threshold", "errors<1%"},
                          "merge_w" + std::to_string(i));
      ASSERT_TRUE(test::passed_or_starved(run)) << run.process.err << run.process.out;
      ASSERT_EQ(run.result["worker"]["index"], i);
      ASSERT_EQ(run.result["plan"]["connections"], connections_each);
      runs().push_back(run.result);
      files().push_back(scratch("w" + std::to_string(i) + ".json"));
      write(files().back(), run.result);
    }
  }
  static void TearDownTestSuite() {
    for (const auto& f : files())
      std::remove(f.c_str());
  }
  static std::vector<json>& runs() {
    static std::vector<json> r;
    return r;
  }
  static std::vector<std::string>& files() {
    static std::vector<std::string> f;
    return f;
  }

  test::process_outcome merge(std::vector<std::string> inputs, const std::string& out,
                              std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {horde_binary, "merge"};
    argv.insert(argv.end(), inputs.begin(), inputs.end());
    argv.insert(argv.end(), {"-o", out});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, 60000);
  }
};

// A worker starved of CPU on a busy test machine makes its run invalid
// (exit 3), and so the merged verdict: the figures are still read.
bool a_run_was_invalid(const std::vector<json>& runs) {
  for (const auto& r : runs)
    if (r["verdict"]["outcome"] == "invalid") return true;
  return false;
}

uint64_t sum_of(const std::vector<json>& runs, const json::json_pointer& p) {
  uint64_t n = 0;
  for (const auto& r : runs)
    n += r.at(p).get<uint64_t>();
  return n;
}

TEST_F(HordeMerge, AddsCountersAndHistogramsOfEveryWorker) {
  ASSERT_EQ(runs().size(), size_t(workers));
  const std::string out = scratch("all.json");
  auto merged = merge(files(), out);
  const bool invalid = a_run_was_invalid(runs());
  ASSERT_EQ(merged.exit_code, invalid ? 3 : 0) << merged.err << merged.out;
  const json m = test::read_json(out);
  EXPECT_EQ(m["schema"], "horde.run/1");
  for (const char* p :
       {"/connections/opened", "/connections/attempted", "/messages/sent", "/messages/answered",
        "/counters/bytes_sent", "/latency/round_trip/count", "/latency/connect/count"})
    EXPECT_EQ(m.at(json::json_pointer(p)), sum_of(runs(), json::json_pointer(p))) << p;
  EXPECT_EQ(m["connections"]["opened"], workers * connections_each);
  EXPECT_EQ(m["plan"]["connections"], workers * connections_each);
  EXPECT_EQ(m["worker"]["merged"], json({0, 1, 2}));
  EXPECT_EQ(m["worker"]["missing"], json::array());
  // Without --start-at a worker started when it started: no lateness.
  EXPECT_EQ(m["worker"]["clock_offsets_ns"], json({0, 0, 0}));
  // The merged p99 lies within the workers' own, and the max is the highest.
  uint64_t low = UINT64_MAX, high = 0, max = 0;
  for (const auto& r : runs()) {
    const uint64_t p99 = r["latency"]["round_trip"]["percentiles_ns"]["p99"];
    low = std::min(low, p99);
    high = std::max(high, p99);
    max = std::max(max, r["latency"]["round_trip"]["max_ns"].get<uint64_t>());
  }
  const uint64_t p99 = m["latency"]["round_trip"]["percentiles_ns"]["p99"];
  EXPECT_GE(p99, low);
  EXPECT_LE(p99, high);
  EXPECT_EQ(m["latency"]["round_trip"]["max_ns"], max);
  // The runs' own threshold, judged again on the whole.
  ASSERT_FALSE(m["thresholds"].empty());
  EXPECT_EQ(m["thresholds"][0]["expr"], "errors<1%");
  EXPECT_EQ(m["thresholds"][0]["passed"], true);
  EXPECT_EQ(m["verdict"]["outcome"], invalid ? "invalid" : "passed");
  // The runs ran one after the other: the merged series spans them all.
  const double last_t = runs().back()["series"].back()["t"];
  EXPECT_GT(m["series"].size(), size_t(last_t) + 1) << m["series"].size();
  std::remove(out.c_str());
}

TEST_F(HordeMerge, TheMergedFileIsReadByReportCompareAndThresholds) {
  const std::string out = scratch("judged.json"), html = scratch("judged.html");
  auto failed = merge(files(), out, {"--threshold", "rtt.p50<1ns"});
  const bool invalid = a_run_was_invalid(runs());
  EXPECT_EQ(failed.exit_code, invalid ? 3 : 1) << failed.err << failed.out;
  EXPECT_NE(failed.out.find("FAIL  rtt.p50<1ns"), std::string::npos) << failed.out;
  const json m = test::read_json(out);
  EXPECT_EQ(m["verdict"]["outcome"], invalid ? "invalid" : "failed");
  const json& judged = m["thresholds"][1];
  EXPECT_EQ(judged["expr"], "rtt.p50<1ns");
  EXPECT_EQ(judged["passed"], false);
  EXPECT_EQ(judged["value"], m["latency"]["round_trip"]["percentiles_ns"]["p50"]);
  auto report = run_process({horde_binary, "report", out, "-o", html}, 60000);
  EXPECT_EQ(report.exit_code, 0) << report.err;
  std::ifstream page(html);
  EXPECT_TRUE(page.good());
  auto compare = run_process({horde_binary, "compare", files()[0], out}, 60000);
  EXPECT_EQ(compare.exit_code, 0) << compare.err;
  EXPECT_NE(compare.out.find("opened"), std::string::npos) << compare.out;
  for (const auto& f : {out, html})
    std::remove(f.c_str());
}

TEST_F(HordeMerge, AMissingWorkerIsNamedAndMakesTheMergeInvalid) {
  const std::string out = scratch("partial.json");
  auto merged = merge({files()[0], files()[2]}, out);
  EXPECT_EQ(merged.exit_code, 3) << merged.err << merged.out;
  EXPECT_NE(merged.out.find("MISSING      worker slices 1 of 3"), std::string::npos) << merged.out;
  const json m = test::read_json(out);
  EXPECT_EQ(m["worker"]["missing"], json({1}));
  EXPECT_EQ(m["verdict"]["outcome"], "invalid");
  std::remove(out.c_str());
}

TEST_F(HordeMerge, RefusesSlicesOfAnotherPlanOrOneSliceTwice) {
  const std::string other = scratch("other.json"), out = scratch("refused.json");
  json changed = test::read_json(files()[1]);
  changed["worker"]["whole_plan"]["duration_seconds"] = 99;
  write(other, changed);
  auto refused = merge({files()[0], other}, out);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find(other + ": worker.whole_plan.duration_seconds is 99"),
            std::string::npos)
      << refused.err;
  auto twice = merge({files()[0], files()[1], files()[1]}, out);
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("are both worker.index 1 of 3"), std::string::npos) << twice.err;
  auto absent = merge({files()[0], scratch("no-such.json")}, out);
  EXPECT_EQ(absent.exit_code, 2);
  EXPECT_NE(absent.err.find("no-such.json"), std::string::npos) << absent.err;
  std::remove(other.c_str());
}

}  // namespace
}  // namespace horde

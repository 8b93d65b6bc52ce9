// horde merge's pure part (app/result_merge.hh): what it refuses, naming the
// file and the field; histograms merged exactly as one process would; the
// series placed on the wall-clock second. The files from real runs are in
// tests/integration/horde_merge_test.cc.
#include "app/result_merge.hh"

#include <gtest/gtest.h>

#include "app/report.hh"
#include "app/result_figures.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

json worker_file(uint64_t index, uint64_t count, uint64_t connections = 1000) {
  return {{"schema", "horde.run/1"},
          {"plan", {{"connections", connections / count}, {"percentiles", {50, 99}}}},
          {"connections", {{"attempted", 10}, {"opened", 9}, {"peak_open", 9}}},
          {"counters", {{"attempts", 10}, {"upgraded", 9}}},
          {"worker",
           {{"index", index},
            {"count", count},
            {"host", "node-" + std::to_string(index)},
            {"start_at_unix_ns", nullptr},
            {"clock_offset_ns", 0},
            {"whole_plan", {{"connections", connections}, {"targets", {"ws://t/"}}}}}}};
}

std::string error_of(const std::vector<merge_input>& inputs) {
  auto merged = merge_results(inputs);
  return merged ? std::string("(merged)") : merged.error().message;
}

TEST(ResultMerge, RefusesSlicesOfDifferentPlansNamingTheFileAndTheField) {
  const std::string e =
      error_of({{"a.json", worker_file(0, 2, 1000)}, {"b.json", worker_file(1, 2, 2000)}});
  EXPECT_NE(e.find("b.json: worker.whole_plan.connections is 2000"), std::string::npos) << e;
  EXPECT_NE(e.find("a.json's is 1000"), std::string::npos) << e;
}

TEST(ResultMerge, RefusesDifferentCountsAndSchemas) {
  std::string e = error_of({{"a.json", worker_file(0, 2)}, {"b.json", worker_file(1, 3)}});
  EXPECT_NE(e.find("b.json: worker.count is 3, a.json's is 2"), std::string::npos) << e;
  json other = worker_file(1, 2);
  other["schema"] = "horde.run/2";
  e = error_of({{"a.json", worker_file(0, 2)}, {"b.json", other}});
  EXPECT_NE(e.find("b.json: schema is \"horde.run/2\""), std::string::npos) << e;
}

TEST(ResultMerge, RefusesOneSliceTwiceNamingBothFiles) {
  const std::string e = error_of({{"a.json", worker_file(0, 3)},
                                  {"b.json", worker_file(1, 3)},
                                  {"c.json", worker_file(1, 3)}});
  EXPECT_NE(e.find("b.json and c.json are both worker.index 1 of 3"), std::string::npos) << e;
}

TEST(ResultMerge, RefusesWorkersMixedWithIndependentRunsAndBadIndexes) {
  json plain = worker_file(1, 2);
  plain.erase("worker");
  std::string e = error_of({{"a.json", worker_file(0, 2)}, {"b.json", plain}});
  EXPECT_NE(e.find("b.json: has no \"worker\" object"), std::string::npos) << e;
  json far = worker_file(5, 2);
  e = error_of({{"a.json", worker_file(0, 2)}, {"b.json", far}});
  EXPECT_NE(e.find("b.json: worker.index is 5 of worker.count 2"), std::string::npos) << e;
  json text = worker_file(1, 2);
  text["worker"]["index"] = "one";
  e = error_of({{"a.json", worker_file(0, 2)}, {"b.json", text}});
  EXPECT_NE(e.find("b.json: worker.index is \"one\""), std::string::npos) << e;
  EXPECT_NE(error_of({{"a.json", worker_file(0, 2)}}).find("at least two"), std::string::npos);
}

// A damaged file is an error naming it and the field, never a crash.
TEST(ResultMerge, RefusesSectionsOfTheWrongKind) {
  json damaged = worker_file(1, 2);
  damaged["series"] = {{"t", 1}};
  std::string e = error_of({{"a.json", worker_file(0, 2)}, {"b.json", damaged}});
  EXPECT_NE(e.find("b.json: series is object, not an array"), std::string::npos) << e;
  damaged = worker_file(1, 2);
  damaged["worker"]["whole_plan"] = json::array();
  e = error_of({{"a.json", worker_file(0, 2)}, {"b.json", damaged}});
  EXPECT_NE(e.find("b.json: worker.whole_plan is [], not an object"), std::string::npos) << e;
}

TEST(ResultMerge, ADeadWorkerLeavesItsSliceNamedMissing) {
  auto merged = merge_results({{"a.json", worker_file(0, 4)},
                               {"c.json", worker_file(2, 4)},
                               {"d.json", worker_file(3, 4)}});
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->missing, std::vector<uint64_t>{1});
  const json& w = merged->merged["worker"];
  EXPECT_EQ(w["merged"], json({0, 2, 3}));
  EXPECT_EQ(w["missing"], json({1}));
  EXPECT_EQ(w["count"], 4);
  EXPECT_EQ(w["hosts"], json({"node-0", "node-2", "node-3"}));
  EXPECT_EQ(merged->merged["plan"]["connections"], 1000);  // the whole plan
  EXPECT_EQ(merged->merged["connections"]["attempted"], 30);
  EXPECT_EQ(merged->merged["counters"]["upgraded"], 27);
}

// Two processes' histograms written as a run writes them, merged from the
// JSON: the same buckets, count, min, max and percentiles as adding them in
// one process.
TEST(ResultMerge, HistogramsAddBucketByBucketExactly) {
  core::histogram a, b;
  for (uint64_t v = 1; v <= 5000; ++v)
    a.record(v * 997);  // 1 us .. 5 ms
  for (uint64_t v = 1; v <= 300; ++v)
    b.record(40'000'000 + v * 13'001);  // a slow worker, 40 ms and up
  const std::vector<double> pct{50, 99, 99.9};
  json fa = worker_file(0, 2), fb = worker_file(1, 2);
  fa["latency"] = {{"round_trip", histogram_json(a, pct)}};
  fb["latency"] = {{"round_trip", histogram_json(b, pct)}};
  fa["plan"]["percentiles"] = pct;
  auto merged = merge_results({{"a.json", fa}, {"b.json", fb}});
  ASSERT_TRUE(merged) << merged.error().message;
  core::histogram whole = a;
  whole.add(b);
  const json expected = histogram_json(whole, pct);
  const json& got = merged->merged["latency"]["round_trip"];
  EXPECT_EQ(got["buckets"], expected["buckets"]);
  EXPECT_EQ(got["count"], 5300);
  EXPECT_EQ(got["min_ns"], a.min());
  EXPECT_EQ(got["max_ns"], b.max());
  EXPECT_EQ(got["percentiles_ns"], expected["percentiles_ns"]);
  EXPECT_NEAR(got["mean_ns"].get<double>(), whole.mean(), whole.mean() * 1e-9);
  // The p99 is the slow worker's: neither file's own p99 says so.
  EXPECT_GT(got["percentiles_ns"]["p99"].get<double>(), 40e6);
  EXPECT_LT(fa["latency"]["round_trip"]["percentiles_ns"]["p99"].get<double>(), 6e6);
}

json point(double t, uint64_t sent, uint64_t open) {
  return {{"t", t}, {"sent", sent}, {"open", open}, {"interval", {{"round_trip", {{"count", 1}}}}}};
}

// Worker 1 started 2 s after worker 0: its first point lands on second 3.
TEST(ResultMerge, SeriesAlignByTheWallClockSecond) {
  json a = worker_file(0, 2), b = worker_file(1, 2);
  a["started_unix_ns"] = int64_t(1'000'000'000'000'000'000);
  b["started_unix_ns"] = int64_t(1'000'000'002'000'000'000);
  a["series"] = {point(1, 10, 5), point(2, 20, 5), point(3, 30, 5)};
  b["series"] = {point(1.02, 100, 7), point(2.01, 200, 7), point(3, 300, 7)};
  auto merged = merge_results({{"a.json", a}, {"b.json", b}});
  ASSERT_TRUE(merged) << merged.error().message;
  const json& s = merged->merged["series"];
  ASSERT_EQ(s.size(), 5u) << s.dump();
  EXPECT_EQ(s[0]["t"], 1.0);
  EXPECT_EQ(s[0]["sent"], 10);
  EXPECT_EQ(s[2]["sent"], 130);  // a's 30 and b's first 100
  EXPECT_EQ(s[2]["open"], 12);
  EXPECT_EQ(s[2]["interval"]["round_trip"]["count"], 2);
  EXPECT_EQ(s[3]["sent"], 230);  // a has ended: its count stays, its open does not
  EXPECT_EQ(s[3]["open"], 7);
  EXPECT_EQ(s[3]["workers_reporting"], 1);
  EXPECT_EQ(s[4]["sent"], 330);
}

// Several targets: each one's breakdown adds by its URL.
TEST(ResultMerge, PerTargetBreakdownsAddByUrl) {
  core::histogram h;
  h.record(1000);
  const std::vector<double> pct{50};
  json a = worker_file(0, 2), b = worker_file(1, 2);
  for (json* f : {&a, &b})
    (*f)["targets"] = {{{"url", "ws://t1/"},
                        {"weight", 3},
                        {"connections", {{"opened", 4}}},
                        {"latency", {{"round_trip", histogram_json(h, pct)}}}},
                       {{"url", f == &a ? "ws://t2/" : "ws://t3/"}, {"weight", 1}}};
  auto merged = merge_results({{"a.json", a}, {"b.json", b}});
  ASSERT_TRUE(merged) << merged.error().message;
  const json& t = merged->merged["targets"];
  ASSERT_EQ(t.size(), 3u) << t.dump();
  EXPECT_EQ(t[0]["url"], "ws://t1/");
  EXPECT_EQ(t[0]["weight"], 3);
  EXPECT_EQ(t[0]["connections"]["opened"], 8);
  EXPECT_EQ(t[0]["latency"]["round_trip"]["count"], 2);
  EXPECT_EQ(t[2]["url"], "ws://t3/");
}

// A codec's failure texts add per (reason, text), as TLS's do; its metrics
// add, and a protocol.* threshold judges the merged file.
TEST(ResultMerge, ProtocolFailureTextsAndMetricsAddAndAreJudged) {
  const json refused = {{"reason", "app_protocol_handshake"},
                        {"text", "MQTT: CONNACK refused: not authorized"},
                        {"count", 3}};
  const json silent = {{"reason", "app_protocol_error"},
                       {"text", "MQTT: no PINGRESP within the keep-alive"},
                       {"count", 1}};
  core::histogram h;
  h.record(2'000'000);
  const std::vector<double> pct{50, 99};
  json a = worker_file(0, 2), b = worker_file(1, 2);
  // json::array: a one-element brace list is the element itself under clang.
  a["connections"]["protocol_failures"] = json::array({refused});
  a["connections"]["protocol_failures_unlisted"] = 2;
  b["connections"]["protocol_failures"] = json::array({silent, refused});
  b["connections"]["protocol_failures_unlisted"] = 0;
  for (json* f : {&a, &b})
    (*f)["scenario"] = {{"counters", {{"protocol.mqtt.connects_refused", 3}}},
                        {"latency", {{"protocol.mqtt.connack", histogram_json(h, pct)}}}};
  auto merged = merge_results({{"a.json", a}, {"b.json", b}});
  ASSERT_TRUE(merged) << merged.error().message;
  const json& c = merged->merged["connections"];
  ASSERT_EQ(c["protocol_failures"].size(), 2u) << c.dump();
  EXPECT_EQ(c["protocol_failures"][0]["text"], refused["text"]);
  EXPECT_EQ(c["protocol_failures"][0]["count"], 6);
  EXPECT_EQ(c["protocol_failures"][1]["count"], 1);
  EXPECT_EQ(c["protocol_failures_unlisted"], 2);

  const json judged =
      judge_result_json(merged->merged, {*parse_threshold("protocol.mqtt.connects_refused<5"),
                                         *parse_threshold("protocol.mqtt.connack.p99<10ms"),
                                         *parse_threshold("protocol.mqtt.suback.p99<10ms")});
  ASSERT_GE(judged.size(), 3u) << judged.dump();
  EXPECT_EQ(judged[0]["value"], 6);
  EXPECT_EQ(judged[0]["passed"], false);
  EXPECT_EQ(judged[1]["passed"], true) << judged[1].dump();
  EXPECT_EQ(judged[2]["passed"], false) << "no such histogram in the file: nothing to measure";
}

TEST(ResultMerge, IndependentRunsAddWithoutAPlanCheck) {
  json a = worker_file(0, 1, 100), b = worker_file(0, 1, 300);
  a.erase("worker");
  b.erase("worker");
  auto merged = merge_results({{"a.json", a}, {"b.json", b}});
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_FALSE(merged->workers);
  EXPECT_EQ(merged->merged["plan"]["connections"], 400.0);
  EXPECT_EQ(merged->merged["worker"]["independent_runs"], true);
}

}  // namespace
}  // namespace horde::app

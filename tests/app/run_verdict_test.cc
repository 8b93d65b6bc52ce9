// The exit code's verdict from made-up results, and how the report and the
// JSON give it.
#include "app/run_verdict.hh"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "app/report.hh"

namespace horde::app {
namespace {

std::string summary_of(const run_result& r) {
  char* text = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  print_summary(out, r);
  std::fclose(out);
  std::string s(text, size);
  std::free(text);
  return s;
}

// 100 connections opened of 100, 1,000 messages sent and answered in 1..10 ms.
std::unique_ptr<run_result> healthy_run() {
  auto r = std::make_unique<run_result>();
  auto& c = r->metrics.counters;
  c.attempts = c.upgraded = 100;
  c.messages_sent = c.messages_answered = 1000;
  for (uint64_t i = 0; i < 1000; ++i)
    r->metrics.latency.round_trip.record((1 + i % 10) * 1'000'000);
  r->percentiles = {50, 95, 99};
  return r;
}

std::vector<threshold> parsed(std::initializer_list<const char*> texts) {
  std::vector<threshold> out;
  for (const char* t : texts)
    out.push_back(*parse_threshold(t));
  return out;
}

TEST(RunVerdict, PassesWhenEveryThresholdDoes) {
  auto r = healthy_run();
  judge_thresholds(parsed({"rtt.p99<50ms", "errors<0.1%"}), *r);
  // Two asked for, and the implicit ones: a connection opened, a message answered.
  ASSERT_EQ(r->thresholds.size(), 4u);
  EXPECT_TRUE(r->thresholds[2].implicit);
  const auto verdict = judge_run(*r);
  EXPECT_EQ(verdict.exit_code, exit_passed);
  EXPECT_EQ(verdict.outcome, "passed");
  const std::string text = summary_of(*r);
  EXPECT_NE(text.find("thresholds   PASS  rtt.p99<50ms"), std::string::npos) << text;
  EXPECT_NE(text.find("verdict      passed (exit 0)"), std::string::npos) << text;
  EXPECT_EQ(text.find("check        FAIL"), std::string::npos) << text;
  const auto j = to_json(*r);
  ASSERT_EQ(j["thresholds"].size(), 4u);
  EXPECT_EQ(j["thresholds"][0]["expr"], "rtt.p99<50ms");
  EXPECT_EQ(j["thresholds"][0]["metric"], "rtt.p99");
  EXPECT_EQ(j["thresholds"][0]["op"], "<");
  EXPECT_DOUBLE_EQ(j["thresholds"][0]["limit"].get<double>(), 50e6);
  EXPECT_EQ(j["thresholds"][0]["unit"], "ns");
  EXPECT_TRUE(j["thresholds"][0]["value"].is_number());
  EXPECT_EQ(j["thresholds"][0]["passed"], true);
  EXPECT_EQ(j["verdict"]["exit_code"], 0);
  // p95 is among the default percentiles, in the text and the JSON.
  EXPECT_NE(text.find("p95"), std::string::npos);
  EXPECT_TRUE(j["latency"]["round_trip"]["percentiles_ns"].contains("p95"));
}

TEST(RunVerdict, AFailedThresholdIsExitOne) {
  auto r = healthy_run();
  judge_thresholds(parsed({"rtt.p99<1ns"}), *r);
  const auto verdict = judge_run(*r);
  EXPECT_EQ(verdict.exit_code, exit_check_failed);
  ASSERT_EQ(verdict.reasons.size(), 1u);
  EXPECT_NE(verdict.reasons[0].find("rtt.p99<1ns (measured 10.0"), std::string::npos)
      << verdict.reasons[0];
  EXPECT_NE(summary_of(*r).find("FAIL  rtt.p99<1ns"), std::string::npos);
}

TEST(RunVerdict, NothingWorkedNeverPasses) {
  auto r = std::make_unique<run_result>();
  r->metrics.counters.attempts = 50;
  r->metrics.counters.failures[0] = 50;
  judge_thresholds({}, *r);
  const auto verdict = judge_run(*r);
  EXPECT_EQ(verdict.exit_code, exit_check_failed);
  EXPECT_EQ(verdict.reasons, std::vector<std::string>{"no connection opened"});
  EXPECT_NE(summary_of(*r).find("check        FAIL  no connection opened"), std::string::npos);
}

TEST(RunVerdict, AShardErrorMakesTheRunInvalid) {
  auto r = healthy_run();
  judge_thresholds(parsed({"rtt.p99<1ns"}), *r);
  r->errors.push_back("io_uring_submit: EBADF");
  const auto verdict = judge_run(*r);
  EXPECT_EQ(verdict.exit_code, exit_invalid);
  EXPECT_EQ(verdict.outcome, "invalid");
}

TEST(RunVerdict, AStopByAThresholdFailsAndSaysWhen) {
  auto r = healthy_run();
  const auto checks = parsed({"rtt.p99<50ms:abort"});
  judge_thresholds(checks, *r);  // passes on the final figures ...
  threshold_outcome stop;
  stop.check = checks[0];
  stop.value = 80e6;  // ... but failed live, at 2 s
  r->stopped_by = stop;
  r->stopped_at_seconds = 2.0;
  const auto verdict = judge_run(*r);
  EXPECT_EQ(verdict.exit_code, exit_check_failed);
  const std::string text = summary_of(*r);
  EXPECT_NE(text.find("stopped      at 2.0 s: threshold rtt.p99<50ms:abort failed (measured "
                      "80.000 ms)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("[stopped by a threshold]"), std::string::npos);
  const auto j = to_json(*r);
  EXPECT_DOUBLE_EQ(j["verdict"]["stopped_by"]["at_seconds"].get<double>(), 2.0);
  EXPECT_EQ(j["verdict"]["stopped_by"]["expr"], "rtt.p99<50ms:abort");
}

}  // namespace
}  // namespace horde::app

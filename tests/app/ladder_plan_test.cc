// horde ladder's arithmetic: the levels it steps through, the limits a
// level is judged by, and the break rule, on made-up results.
#include "app/ladder_plan.hh"

#include <gtest/gtest.h>

#include <memory>

#include "app/ladder_report.hh"
#include "app/run_verdict.hh"

namespace horde::app {
namespace {

ladder_spec spec_of(ladder_options options, uint64_t run_start = 1000) {
  if (options.hold.empty()) options.hold = "10s";
  auto spec = parse_ladder(options, run_start);
  EXPECT_TRUE(spec) << spec.error().message;
  return *spec;
}

TEST(LadderPlan, DoublesFromTheStartByDefault) {
  ladder_options o;
  o.start = "200";
  o.levels = 6;
  EXPECT_EQ(ladder_values(spec_of(o)), (std::vector<uint64_t>{200, 400, 800, 1600, 3200, 6400}));
}

TEST(LadderPlan, MultipliesByAFractionalFactorRounded) {
  ladder_options o;
  o.start = "10k";
  o.factor = 1.5;
  o.levels = 5;
  EXPECT_EQ(ladder_values(spec_of(o)), (std::vector<uint64_t>{10000, 15000, 22500, 33750, 50625}));
}

TEST(LadderPlan, AddsAStepWhenAsked) {
  ladder_options o;
  o.start = "100";
  o.add = "250";
  o.levels = 4;
  EXPECT_EQ(ladder_values(spec_of(o)), (std::vector<uint64_t>{100, 350, 600, 850}));
}

TEST(LadderPlan, EveryLevelRisesEvenWhenRoundingWouldRepeatOne) {
  ladder_options o;
  o.start = "1";
  o.factor = 1.1;
  o.levels = 4;
  EXPECT_EQ(ladder_values(spec_of(o)), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(LadderPlan, StartsFromTheRunFlagsWithoutStart) {
  ladder_options o;
  EXPECT_EQ(spec_of(o, 5000).start, 5000u);
}

TEST(LadderPlan, RefusesFlagsThatMakeNoLadder) {
  const auto refused = [](ladder_options o, const std::string& says) {
    if (o.hold.empty()) o.hold = "10s";
    auto spec = parse_ladder(o, 1000);
    ASSERT_FALSE(spec);
    EXPECT_NE(spec.error().message.find(says), std::string::npos) << spec.error().message;
  };
  ladder_options o;
  o.step = "memory";
  refused(o, "--step");
  o = {};
  o.factor = 1;
  refused(o, "--factor");
  o = {};
  o.add = "0";
  refused(o, "--add");
  o = {};
  o.levels = 0;
  refused(o, "--levels");
  o = {};
  o.hold = "500ms";
  refused(o, "--hold");
  o = {};
  o.start = "lots";
  refused(o, "--start");
}

TEST(LadderPlan, DefaultLimitsFollowWhatTheRunSends) {
  ladder_options o;
  o.p99_limit = "100ms";
  const auto spec = spec_of(o);
  EXPECT_EQ(
      ladder_limits(spec, {}, true, false),
      (std::vector<std::string>{"rtt.p99<=100ms", "errors<=0.1%", "connections.failed<=0.1%"}));
  // No messages: no latency to judge (a p99 of nothing would fail).
  EXPECT_EQ(ladder_limits(spec, {}, false, false),
            (std::vector<std::string>{"errors<=0.1%", "connections.failed<=0.1%"}));
  EXPECT_EQ(ladder_limits(spec, {}, false, true),
            (std::vector<std::string>{"fanout.p99<=100ms", "errors<=0.1%",
                                      "connections.failed<=0.1%", "pubsub.lost==0"}));
  // The user's thresholds replace them.
  EXPECT_EQ(ladder_limits(spec, {"rtt.p95<5ms"}, true, false),
            (std::vector<std::string>{"rtt.p95<5ms"}));
  for (const auto& text : ladder_limits(spec, {}, true, true))
    EXPECT_TRUE(parse_threshold(text)) << text;
}

// 100 connections, `sent` messages answered but `unanswered`, round trips
// of `rtt_ms`, judged by the default limits.
std::unique_ptr<run_result> level_run(uint64_t rtt_ms, uint64_t sent = 1000,
                                      uint64_t unanswered = 0) {
  auto r = std::make_unique<run_result>();
  auto& c = r->metrics.counters;
  c.attempts = c.upgraded = 100;
  c.messages_sent = sent;
  c.messages_answered = sent - unanswered;
  for (uint64_t i = 0; i < sent - unanswered; ++i)
    r->metrics.latency.round_trip.record(rtt_ms * 1'000'000);
  ladder_options o;
  std::vector<threshold> limits;
  for (const auto& text : ladder_limits(spec_of(o), {}, true, false))
    limits.push_back(*parse_threshold(text));
  judge_thresholds(limits, *r);
  return r;
}

TEST(LadderBreakRule, HoldsWithinEveryLimit) {
  const auto judged = judge_level(*level_run(20));
  EXPECT_TRUE(judged.valid);
  EXPECT_FALSE(judged.broke);
  EXPECT_TRUE(judged.reasons.empty());
}

TEST(LadderBreakRule, BreaksOnTheP99AndSaysSo) {
  const auto judged = judge_level(*level_run(250));
  EXPECT_TRUE(judged.valid);
  EXPECT_TRUE(judged.broke);
  ASSERT_EQ(judged.reasons.size(), 1u);
  EXPECT_NE(judged.reasons[0].find("rtt.p99<=100ms (measured 2"), std::string::npos)
      << judged.reasons[0];
}

TEST(LadderBreakRule, BreaksOnErrorsAboveATenthOfAPercent) {
  EXPECT_FALSE(judge_level(*level_run(5, 10000, 5)).broke);   // 0.05%
  const auto judged = judge_level(*level_run(5, 10000, 50));  // 0.5%
  EXPECT_TRUE(judged.broke);
  EXPECT_NE(judged.reasons[0].find("errors"), std::string::npos) << judged.reasons[0];
}

TEST(LadderBreakRule, ALevelHordeCouldNotDriveIsInvalidNeverABreak) {
  auto r = level_run(500);  // far past the limit, but horde was late itself
  core::client_plan plan;
  plan.cpus = {0};
  plan.shards = 1;
  plan.message_rate = 10;
  r->plan = &plan;
  r->elapsed_seconds = 1;
  r->metrics.counters.cpu_run_ns = 990'000'000;  // saturated
  for (int i = 0; i < 100; ++i)
    r->metrics.latency.send_lag.record(200'000'000);
  const auto judged = judge_level(*r);
  EXPECT_FALSE(judged.valid);
  EXPECT_FALSE(judged.broke);
  ASSERT_FALSE(judged.reasons.empty());
  EXPECT_NE(judged.reasons[0].find("saturated"), std::string::npos) << judged.reasons[0];
  EXPECT_TRUE(retry_level(judged, 1));
  EXPECT_FALSE(retry_level(judged, 2));
  EXPECT_FALSE(retry_level(judge_level(*level_run(5)), 1));
}

TEST(LadderBreakRule, AnInterruptedLevelNeitherHoldsNorBreaks) {
  auto r = level_run(5, 1000, 500);
  r->interrupted = true;
  const auto judged = judge_level(*r);
  EXPECT_TRUE(judged.interrupted);
  EXPECT_FALSE(judged.broke);
}

level_judgement held() {
  return {};
}
level_judgement broke() {
  level_judgement j;
  j.broke = true;
  return j;
}
level_judgement invalid() {
  level_judgement j;
  j.valid = false;
  return j;
}

TEST(LadderConclusion, TheFirstBreakIsTheKnee) {
  const auto c = conclude_ladder({held(), held(), held(), broke()});
  EXPECT_EQ(c.last_held, 2u);
  EXPECT_EQ(c.broke_at, 3u);
  EXPECT_EQ(c.outcome, "broke");
  EXPECT_EQ(c.exit_code, 0);
}

TEST(LadderConclusion, NoBreakUpToTheLastLevelStillExitsZero) {
  const auto c = conclude_ladder({held(), held()});
  EXPECT_EQ(c.last_held, 1u);
  EXPECT_FALSE(c.broke_at);
  EXPECT_EQ(c.outcome, "held");
  EXPECT_EQ(c.exit_code, 0);
}

TEST(LadderConclusion, HordeAsTheLimitExitsThree) {
  const auto c = conclude_ladder({held(), invalid()});
  EXPECT_EQ(c.last_held, 0u);
  EXPECT_EQ(c.invalid_at, 1u);
  EXPECT_FALSE(c.broke_at);
  EXPECT_EQ(c.exit_code, exit_invalid);
}

TEST(LadderConclusion, BreakingAtTheFirstLevelHoldsNone) {
  const auto c = conclude_ladder({broke()});
  EXPECT_FALSE(c.last_held);
  EXPECT_EQ(c.broke_at, 0u);
}

TEST(LadderReport, ConclusionAndJsonNameTheKnee) {
  std::vector<ladder_level> levels(2);
  levels[0].level = 1;
  levels[0].value = 800;
  levels[1].level = 2;
  levels[1].value = 1600;
  levels[1].judged = broke();
  levels[1].judged.reasons = {"rtt.p99<=100ms (measured 412.000 ms)"};
  const auto c = conclude_ladder({levels[0].judged, levels[1].judged});
  EXPECT_EQ(conclusion_text(ladder_step::rate, levels, c),
            "last level held: level 1 (800 msgs/s), broke at: level 2 (1,600 msgs/s) because "
            "rtt.p99<=100ms (measured 412.000 ms)");
  ladder_options o;
  const auto j = ladder_json(spec_of(o), {"rtt.p99<=100ms"}, levels, c);
  EXPECT_EQ(j["schema"], "horde.ladder/1");
  EXPECT_EQ(j["last_held"], 800);
  EXPECT_EQ(j["broke_at"], 1600);
  EXPECT_EQ(j["broke_at_level"], 2);
  EXPECT_EQ(j["because"], "rtt.p99<=100ms (measured 412.000 ms)");
  ASSERT_EQ(j["levels"].size(), 2u);
  EXPECT_EQ(j["levels"][1]["broke"], true);
  EXPECT_TRUE(j["levels"][1]["round_trip_p99_ns"].is_number());
}

}  // namespace
}  // namespace horde::app

#include "app/threshold.hh"

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>

#include "core/plan.hh"

namespace horde::app {
namespace {

TEST(Threshold, ParsesEachKindOfLimit) {
  auto rtt = parse_threshold("rtt.p99<50ms");
  ASSERT_TRUE(rtt) << rtt.error().message;
  EXPECT_EQ(rtt->metric, "rtt.p99");
  EXPECT_EQ(rtt->op, compare_op::less);
  EXPECT_DOUBLE_EQ(rtt->limit, 50e6);
  EXPECT_EQ(rtt->unit, figure_unit::ns);
  EXPECT_FALSE(rtt->abort);

  auto errors = parse_threshold(" errors < 0.1% ");
  ASSERT_TRUE(errors) << errors.error().message;
  EXPECT_EQ(errors->metric, "errors");
  EXPECT_DOUBLE_EQ(errors->limit, 0.001);
  EXPECT_EQ(errors->unit, figure_unit::ratio);

  auto opened = parse_threshold("connections.opened>=10k");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->op, compare_op::greater_equal);
  EXPECT_DOUBLE_EQ(opened->limit, 10'000);
  EXPECT_EQ(opened->unit, figure_unit::count);

  auto lost = parse_threshold("pubsub.lost==0");
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->op, compare_op::equal);
  EXPECT_EQ(lost->unit, figure_unit::count);

  auto aborting = parse_threshold("errors<1%:abort");
  ASSERT_TRUE(aborting);
  EXPECT_TRUE(aborting->abort);
  EXPECT_EQ(aborting->expr, "errors<1%:abort");
  EXPECT_EQ(aborting->metric, "errors");

  EXPECT_EQ(parse_threshold("connect.p95<=200ms")->op, compare_op::less_equal);
  EXPECT_EQ(parse_threshold("messages.unanswered!=3")->op, compare_op::not_equal);
  EXPECT_EQ(parse_threshold("connections.peak_open>1M")->limit, 1e6);
  EXPECT_DOUBLE_EQ(parse_threshold("rtt.p99.9<1s")->limit, 1e9);
  EXPECT_DOUBLE_EQ(parse_threshold("fanout_last.max<250us")->limit, 250e3);
  EXPECT_DOUBLE_EQ(parse_threshold("send_lag.mean<7ns")->limit, 7);
}

TEST(Threshold, UnknownNamesSuggestTheNearest) {
  auto typo = parse_threshold("rt.p99<50ms");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("unknown name 'rt.p99'"), std::string::npos);
  EXPECT_NE(typo.error().message.find("did you mean 'rtt.p99'"), std::string::npos)
      << typo.error().message;
  auto lost = parse_threshold("pubsub.loss==0");
  ASSERT_FALSE(lost);
  EXPECT_NE(lost.error().message.find("'pubsub.lost'"), std::string::npos) << lost.error().message;
  auto failed = parse_threshold("connection.failed<1%");
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("'connections.failed'"), std::string::npos);
}

// Each text refused, its error saying what it should.
struct refusal {
  const char* text;
  const char* says;
};
void expect_refused(std::initializer_list<refusal> cases) {
  for (const auto& c : cases) {
    auto parsed = parse_threshold(c.text);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_NE(parsed.error().message.find(c.says), std::string::npos)
        << c.text << ": " << parsed.error().message;
  }
}

TEST(Threshold, RefusesWhatCannotBeMeant) {
  expect_refused({
      {"rtt.p99", "no comparison"},
      {"rtt.p99=50ms", "bad operator"},
      {"<50ms", "no name"},
      {"rtt.p99<50", "give its unit"},
      {"rtt.p99<5%", "give its unit"},
      {"rtt.p99<", "not a value"},
      {"rtt.p99<-1ms", "not a value"},
      {"errors<1ms", "not a time"},
      {"messages.sent<5%", "not a share"},
      {"connections.opened>5x", "unknown unit"},
      {"rtt.p100<1ms", "unknown name"},
      {"rtt.p0<1ms", "unknown name"},
      {"rtt.pxx<1ms", "unknown name"},
      {"connections.opened>=1000:abort", "only grows"},
  });
  // A share can still be a floor with :abort, and a ceiling always can.
  EXPECT_TRUE(parse_threshold("connections.opened>=99%:abort"));
  EXPECT_TRUE(parse_threshold("connections.failed<1:abort"));
}

// A run's figures made up: 1,000 attempted, 990 opened, 10 failed; 10,000
// sent, 9,950 answered of which 5 corrupted; round trips of 1..100 ms.
struct made_up_run {
  std::unique_ptr<core::metrics_snapshot> m = std::make_unique<core::metrics_snapshot>();
  made_up_run() {
    auto& c = m->counters;
    c.attempts = 1000;
    c.upgraded = 990;
    c.failures[0] = 10;
    c.messages_sent = 10'000;
    c.messages_answered = 9'950;
    c.messages_corrupted = 5;
    for (uint64_t ms = 1; ms <= 100; ++ms)
      m->latency.round_trip.record(ms * 1'000'000);
  }
  threshold_input input() const { return {&m->counters, &m->latency, nullptr, false}; }
};

double value_of(const std::string& text, const threshold_input& in) {
  auto parsed = parse_threshold(text);
  EXPECT_TRUE(parsed) << text;
  return measure(*parsed, in).value_or(-1);
}

TEST(Threshold, MeasuresTheReportsFigures) {
  made_up_run run;
  const auto in = run.input();
  EXPECT_NEAR(value_of("rtt.p50<1s", in), 50e6, 50e6 / 500);
  EXPECT_NEAR(value_of("rtt.p99<1s", in), 99e6, 99e6 / 500);
  EXPECT_NEAR(value_of("rtt.max<1s", in), 100e6, 100e6 / 500);
  EXPECT_DOUBLE_EQ(value_of("connections.failed<1", in), 10);
  EXPECT_DOUBLE_EQ(value_of("connections.failed<1%", in), 0.01);
  EXPECT_DOUBLE_EQ(value_of("connections.opened>1", in), 990);
  EXPECT_DOUBLE_EQ(value_of("messages.unanswered==0", in), 50);
  EXPECT_DOUBLE_EQ(value_of("messages.unanswered<1%", in), 0.005);
  // errors: 10 failed + 50 unanswered + 5 corrupted, of 1,000 + 10,000.
  EXPECT_DOUBLE_EQ(value_of("errors<1%", in), 65.0 / 11'000);
  EXPECT_DOUBLE_EQ(value_of("errors<1", in), 65);
}

TEST(Threshold, JudgesEachOperator) {
  made_up_run run;
  const auto in = run.input();
  const struct {
    const char* text;
    bool passes;
  } cases[] = {
      {"connections.failed<10", false}, {"connections.failed<=10", true},
      {"connections.failed>9", true},   {"connections.failed>=11", false},
      {"connections.failed==10", true}, {"connections.failed!=10", false},
      {"rtt.p99<50ms", false},          {"rtt.p99<200ms", true},
      {"errors<0.1%", false},           {"errors<1%", true},
      {"rtt.p99<1ns", false},           {"connections.opened>=990", true},
  };
  std::vector<threshold> checks;
  for (const auto& c : cases)
    checks.push_back(*parse_threshold(c.text));
  const auto outcomes = evaluate_thresholds(checks, in);
  ASSERT_EQ(outcomes.size(), std::size(cases));
  for (size_t i = 0; i < outcomes.size(); ++i)
    EXPECT_EQ(outcomes[i].passed, cases[i].passes) << cases[i].text;
}

TEST(Threshold, NothingToMeasureFailsAtTheEndAndWaitsLive) {
  auto m = std::make_unique<core::metrics_snapshot>();
  const threshold_input in{&m->counters, &m->latency, nullptr, false};
  const std::vector<threshold> checks = {*parse_threshold("rtt.p99<50ms:abort"),
                                         *parse_threshold("pubsub.lost<1%:abort")};
  for (const auto& outcome : evaluate_thresholds(checks, in)) {
    EXPECT_FALSE(outcome.value);
    EXPECT_FALSE(outcome.passed);
  }
  EXPECT_FALSE(first_failed_abort(checks, in));
}

TEST(Threshold, LiveCountsOnlyWhatIsNoLongerInFlight) {
  auto before = std::make_unique<core::metrics_snapshot>();
  auto now = std::make_unique<core::metrics_snapshot>();
  before->counters.attempts = now->counters.attempts = 100;
  before->counters.messages_sent = 1000;
  now->counters.messages_sent = 1100;  // 100 sent this second, in flight
  now->counters.messages_answered = 1000;
  const std::vector<threshold> checks = {*parse_threshold("messages.unanswered<1:abort")};
  threshold_input live{&now->counters, &now->latency, &before->counters, false};
  EXPECT_FALSE(first_failed_abort(checks, live));
  now->counters.messages_answered = 990;  // 10 of the older ones still missing
  auto failed = first_failed_abort(checks, live);
  ASSERT_TRUE(failed);
  EXPECT_DOUBLE_EQ(*failed->value, 10);
  // Only :abort thresholds are judged live.
  EXPECT_FALSE(first_failed_abort({*parse_threshold("messages.unanswered<1")}, live));
}

TEST(Threshold, PubsubErrorsAreLostDeliveries) {
  auto m = std::make_unique<core::metrics_snapshot>();
  auto& c = m->counters;
  c.attempts = 100;
  c.messages_sent = 500;  // subscribes and publishes: nobody answers them
  c.pubsub.expected = 900;
  c.pubsub.in_order = 890;
  const threshold_input in{&c, &m->latency, nullptr, true};
  EXPECT_DOUBLE_EQ(value_of("errors<1", in), 10);
  EXPECT_DOUBLE_EQ(value_of("errors<1%", in), 10.0 / 1000);
  EXPECT_DOUBLE_EQ(value_of("pubsub.lost==0", in), 10);
  EXPECT_DOUBLE_EQ(value_of("pubsub.lost<1%", in), 10.0 / 900);
}

TEST(Threshold, ARunInWhichNothingWorkedFailsItsImplicitChecks) {
  auto m = std::make_unique<core::metrics_snapshot>();
  auto& c = m->counters;
  c.attempts = 50;
  c.failures[0] = 50;
  const threshold_input in{&c, &m->latency, nullptr, false};
  auto checks = implicit_checks(in, 50);
  ASSERT_EQ(checks.size(), 1u);  // nothing sent: no message check
  EXPECT_EQ(checks[0].expr, "connections.opened>0");
  EXPECT_EQ(checks[0].description, "no connection opened");
  EXPECT_FALSE(evaluate_thresholds(checks, in)[0].passed);

  c.upgraded = 50;
  c.messages_sent = 100;
  checks = implicit_checks(in, 50);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[1].description, "no message answered");
  auto outcomes = evaluate_thresholds(checks, in);
  EXPECT_TRUE(outcomes[0].passed);
  EXPECT_FALSE(outcomes[1].passed);
  c.messages_answered = 1;
  EXPECT_TRUE(evaluate_thresholds(checks, in)[1].passed);

  c.pubsub.expected = 10;
  const threshold_input pubsub{&c, &m->latency, nullptr, true};
  checks = implicit_checks(pubsub, 50);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[1].description, "every delivery lost");
  EXPECT_FALSE(evaluate_thresholds(checks, pubsub)[1].passed);
}

// --protocol: every WebSocket opened, but no handshake of the protocol
// inside completed, so the scenario never began: that run failed too.
TEST(Threshold, ARunWhoseProtocolHandshakesAllFailedFailsItsImplicitChecks) {
  auto m = std::make_unique<core::metrics_snapshot>();
  auto& c = m->counters;
  c.attempts = 20;
  c.upgraded = 20;
  core::named_metrics names;
  names.counter("protocol.socketio.handshakes");
  const threshold_input in{&c, &m->latency, nullptr, false, &names};
  auto checks = implicit_checks(in, 20);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[1].expr, "connections.ready>0");
  EXPECT_EQ(checks[1].description, "no protocol handshake completed");
  EXPECT_FALSE(evaluate_thresholds(checks, in)[1].passed);
  c.protocol_ready = 1;
  EXPECT_TRUE(evaluate_thresholds(checks, in)[1].passed);
  // Without --protocol, ready is opened, and no such check is added.
  EXPECT_EQ(implicit_checks({&c, &m->latency, nullptr, false}, 20).size(), 1u);
  EXPECT_DOUBLE_EQ(value_of("connections.ready>0", {&c, &m->latency, nullptr, false}), 20);
}

TEST(Threshold, FiguresReadAsTheReportWritesThem) {
  EXPECT_EQ(figure_text(1'234'000.0, figure_unit::ns), "1.234 ms");
  EXPECT_EQ(figure_text(12.0, figure_unit::ns), "12 ns");
  EXPECT_EQ(figure_text(0.0025, figure_unit::ratio), "0.25%");
  EXPECT_EQ(figure_text(12345.0, figure_unit::count), "12,345");
  EXPECT_EQ(figure_text(std::nullopt, figure_unit::count), "no samples");
}

// --protocol's metrics: counts and times, under their report names.
TEST(Threshold, ProtocolMetricsAreNamesWithTheirUnits) {
  auto refused = parse_threshold("protocol.mqtt.publishes_refused==0");
  ASSERT_TRUE(refused) << refused.error().message;
  EXPECT_EQ(refused->unit, figure_unit::count);
  auto puback = parse_threshold("protocol.mqtt.puback.p99<5ms");
  ASSERT_TRUE(puback) << puback.error().message;
  EXPECT_EQ(puback->unit, figure_unit::ns);
  EXPECT_DOUBLE_EQ(puback->limit, 5e6);
  auto handshake = parse_threshold("protocol.socketio.handshake.p99.9<1s:abort");
  ASSERT_TRUE(handshake) << handshake.error().message;
  EXPECT_TRUE(handshake->abort);
  EXPECT_TRUE(parse_threshold("protocol.socketio.handshake.max<1s"));
  EXPECT_TRUE(parse_threshold("protocol.socketio.connect_errors<10"));

  expect_refused({
      {"protocol.mqtt.pubak.p99<5ms", "did you mean 'protocol.mqtt.puback.p99'"},
      {"protocol.socketio.handshakes_x<1", "did you mean 'protocol.socketio.handshakes'"},
      {"protocol.nosuch.handshakes<1", "unknown name"},
      {"protocol.mqtt.puback<5ms", "unknown name"},  // a time needs its statistic
      {"protocol.mqtt.puback.p100<5ms", "unknown name"},
      {"protocol.mqtt.puback.p99<5", "give its unit"},
      {"protocol.mqtt.publishes_refused<1ms", "not a time"},
      {"protocol.mqtt.publishes_refused<1%", "not a share"},
      {"protocol.socketio.handshakes>=10:abort", "only grows"},
  });
}

// A protocol.* name is one codec's: a run with another --protocol (or none)
// refuses it before it starts.
TEST(Threshold, AProtocolMetricFitsOnlyARunOfThatProtocol) {
  const auto puback = *parse_threshold("protocol.mqtt.puback.p99<5ms");
  EXPECT_TRUE(threshold_fits_protocol(puback, "mqtt"));
  auto other = threshold_fits_protocol(puback, "socketio");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("a metric of --protocol mqtt"), std::string::npos)
      << other.error().message;
  EXPECT_NE(other.error().message.find("this run's --protocol is socketio"), std::string::npos);
  auto none = threshold_fits_protocol(puback, "ws");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("this run has no --protocol"), std::string::npos);
  EXPECT_TRUE(threshold_fits_protocol(*parse_threshold("rtt.p99<5ms"), "ws"));
}

// Measured among the run's named metrics, by name; a run without the
// metric has nothing to measure, and the threshold fails.
TEST(Threshold, MeasuresAProtocolsCountersAndTimes) {
  made_up_run run;
  core::named_metrics names;
  names.counter("request.add.sent");
  names.counter("protocol.mqtt.publishes_refused");
  names.histogram("protocol.mqtt.puback");
  run.m->counters.named = {500, 3};
  run.m->latency.named.resize(1);
  for (uint64_t ms = 1; ms <= 100; ++ms)
    run.m->latency.named[0].record(ms * 1'000'000);
  threshold_input in = run.input();
  in.names = &names;
  EXPECT_DOUBLE_EQ(value_of("protocol.mqtt.publishes_refused==0", in), 3);
  EXPECT_NEAR(value_of("protocol.mqtt.puback.p99<5ms", in), 99e6, 99e6 / 500);
  EXPECT_NEAR(value_of("protocol.mqtt.puback.max<5ms", in), 100e6, 100e6 / 500);
  EXPECT_DOUBLE_EQ(value_of("protocol.mqtt.connack.p99<5ms", in), -1);  // none recorded here

  const std::vector<threshold> checks = {*parse_threshold("protocol.mqtt.publishes_refused==0"),
                                         *parse_threshold("protocol.mqtt.puback.p99<200ms"),
                                         *parse_threshold("protocol.mqtt.pubacks>0")};
  const auto outcomes = evaluate_thresholds(checks, in);
  EXPECT_FALSE(outcomes[0].passed);
  EXPECT_TRUE(outcomes[1].passed);
  EXPECT_FALSE(outcomes[2].passed) << "not among the run's metrics: nothing to measure";
  EXPECT_FALSE(outcomes[2].value);
  EXPECT_FALSE(evaluate_thresholds({checks[1]}, run.input())[0].passed) << "no names given";
}

TEST(Threshold, EveryListedNameParses) {
  for (const auto& name : threshold_names()) {
    auto as_time = parse_threshold(name + "<1ms");
    auto as_count = parse_threshold(name + "<1");
    EXPECT_TRUE(as_time || as_count) << name;
  }
}

}  // namespace
}  // namespace horde::app

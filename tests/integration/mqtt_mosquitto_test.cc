// `horde run --protocol mqtt` against a real broker: Mosquitto (Debian's),
// its WebSocket listener on a free loopback port (tests/peers/mosquitto_ws.py
// writes the config and prints the port, then the broker's pid). Every
// delivery is accounted exactly through the broker at QoS 0 and 1, in MQTT
// 3.1.1 and 5; the protocol's own counters agree with pub/sub's. Echo and
// request/response run through each connection's own topic.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"
#include "tests/support/sanitizer.hh"

namespace horde {
namespace {

using test::horde_run;
using test::passed_or_starved;

struct broker {
  test::peer_server peer;
  std::string pid;
  std::string url;
};

broker start_mosquitto() {
  broker b;
  b.peer = test::start_peer(
      {HORDE_PYTHON, std::string(HORDE_SOURCE_DIR) + "/tests/peers/mosquitto_ws.py"});
  if (auto pid = b.peer.process->read_line(10000)) b.pid = *pid;
  b.url = "ws://127.0.0.1:" + b.peer.port + "/";
  return b;
}

uint64_t counter(const test::run_outcome& run, const std::string& name) {
  const auto& counters = run.result["scenario"]["counters"];
  const std::string key = "protocol.mqtt." + name;
  EXPECT_TRUE(counters.contains(key)) << key;
  return counters.value(key, uint64_t(0));
}

uint64_t timed(const test::run_outcome& run, const std::string& name) {
  return run.result["scenario"]["latency"]["protocol.mqtt." + name]["count"].get<uint64_t>();
}

// A pub/sub run through the broker: C connections, each subscribed to one of
// G topics, G publishers, and exact accounting.
void expect_exact_fan_out(const test::run_outcome& run, uint64_t connections) {
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& p = run.result["pubsub"];
  EXPECT_EQ(run.result["connections"]["opened"], connections);
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  EXPECT_EQ(p["subscribes_in_force"], connections);
  EXPECT_GT(p["publishes"].get<uint64_t>(), 0u);
  EXPECT_EQ(p["lost"], 0);
  EXPECT_EQ(p["duplicated"], 0);
  EXPECT_EQ(p["reordered"], 0);
  EXPECT_EQ(p["unaccounted"], 0);
  EXPECT_EQ(p["delivered"], p["expected"]);
  EXPECT_EQ(counter(run, "connacks"), connections);
  EXPECT_EQ(counter(run, "subscribes"), connections);
  EXPECT_EQ(counter(run, "subacks"), connections);
  EXPECT_EQ(timed(run, "suback"), connections);
  EXPECT_EQ(counter(run, "publishes"), p["publishes"].get<uint64_t>());
  EXPECT_EQ(counter(run, "deliveries"), p["deliveries_received"].get<uint64_t>());
  EXPECT_EQ(counter(run, "unencodable"), 0u);
}

TEST(MqttMosquitto, Qos0Mqtt311EveryDeliveryExact) {
  broker b = start_mosquitto();
  ASSERT_FALSE(b.peer.port.empty()) << "mosquitto_ws.py did not start";
  // 200 subscribers over 20 topics (10 each), 20 publishers: ~1,000
  // deliveries a second, which loopback carries without loss at QoS 0.
  auto run = horde_run({b.url, "--protocol", "mqtt", "-c", "200", "--groups", "20",
                        "--subscriptions", "1", "--publishers", "20", "--rate", "100/s",
                        "--duration", "3s", "--protocol-option", "keepalive=1"},
                       "mqtt_qos0");
  expect_exact_fan_out(run, 200);
  // Pub/sub never pays for echo: not one SUBSCRIBE to a connection's own topic.
  EXPECT_EQ(counter(run, "echo_subscribes"), 0u);
  EXPECT_EQ(counter(run, "echo_deliveries"), 0u);
  EXPECT_EQ(counter(run, "pubacks"), 0u);
  // The 180 subscribers that never publish are idle: each sends a PINGREQ
  // a second, and every one but those still out at the end was answered.
  EXPECT_GE(counter(run, "pingreqs"), 180u);
  EXPECT_GE(counter(run, "pingresps") + 200, counter(run, "pingreqs"));
  EXPECT_EQ(timed(run, "pingresp"), counter(run, "pingresps"));
}

TEST(MqttMosquitto, Qos1Mqtt5PubacksTimedAndSent) {
  broker b = start_mosquitto();
  ASSERT_FALSE(b.peer.port.empty()) << "mosquitto_ws.py did not start";
  auto run =
      horde_run({b.url, "--protocol", "mqtt", "-c", "200", "--groups", "20", "--subscriptions", "1",
                 "--publishers", "20", "--rate", "100/s", "--duration", "3s", "--protocol-option",
                 "version=5", "--protocol-option", "qos=1"},
                "mqtt_qos1");
  expect_exact_fan_out(run, 200);
  const uint64_t publishes = run.result["pubsub"]["publishes"];
  // Every publish acknowledged by the broker, and timed; every delivery
  // acknowledged by horde.
  EXPECT_EQ(counter(run, "pubacks"), publishes);
  EXPECT_EQ(timed(run, "puback"), publishes);
  EXPECT_EQ(counter(run, "publishes_unacked"), 0u);
  EXPECT_EQ(counter(run, "pubacks_sent"), counter(run, "deliveries"));
}

// The issue's scale: 10,000 clients over 1,000 topics (10 subscribers
// each, one publisher per topic), exact at QoS 0 and 1, and the broker's
// own memory per connection measured. Mosquitto's WebSocket listener takes
// connections slowly (libwebsockets' poll loop: upgrades take seconds at a
// few thousand a second), so the ramp is paced at 1,000/s and the run is
// long enough that publishing starts after it on a loaded machine too.
class MqttMosquittoTenThousand : public testing::TestWithParam<const char*> {};

TEST_P(MqttMosquittoTenThousand, EveryDeliveryExact) {
  if (testing_support::under_sanitizer)
    GTEST_SKIP() << "10,000 clients for 30 s: the Release build's test (the 200-client tests run "
                    "this codec under the sanitizers)";
  broker b = start_mosquitto();
  ASSERT_FALSE(b.peer.port.empty()) << "mosquitto_ws.py did not start";
  const std::string qos = GetParam();
  auto run = horde_run({b.url,        "--protocol",
                        "mqtt",       "--protocol-option",
                        "qos=" + qos, "-c",
                        "10000",      "--connect-rate",
                        "1k/s",       "--groups",
                        "1000",       "--subscriptions",
                        "1",          "--publishers",
                        "1000",       "--rate",
                        "1/s",        "--duration",
                        "25s",        "--drain",
                        "5s",         "--subscribe-timeout",
                        "20s",        "--target-pid",
                        b.pid},
                       "mqtt_10k_qos" + qos, 120000);
  expect_exact_fan_out(run, 10000);
  if (qos == "1") {
    EXPECT_EQ(counter(run, "pubacks"), run.result["pubsub"]["publishes"].get<uint64_t>());
    EXPECT_EQ(counter(run, "pubacks_sent"), counter(run, "deliveries"));
  }
  const auto& target = run.result["target_cost"];
  EXPECT_GT(target["rss_at_hold"].get<uint64_t>(), 0u) << target.dump();
  EXPECT_FALSE(target["memory_per_connection_bytes"].is_null()) << target.dump();
}

INSTANTIATE_TEST_SUITE_P(Qos, MqttMosquittoTenThousand, testing::Values("0", "1"));

// The default echo load over MQTT: each connection's stamps go to its own
// topic and come back through the broker; every one is answered and timed.
struct echo_case {
  const char* name;
  std::vector<std::string> options;  // --protocol-option and --text
};

class MqttMosquittoEcho : public testing::TestWithParam<echo_case> {};

TEST_P(MqttMosquittoEcho, EveryStampComesBackThroughTheBroker) {
  broker b = start_mosquitto();
  ASSERT_FALSE(b.peer.port.empty()) << "mosquitto_ws.py did not start";
  std::vector<std::string> args = {b.url,    "--protocol", "mqtt",       "-c", "200",
                                   "--rate", "4/s",        "--duration", "2s"};
  args.insert(args.end(), GetParam().options.begin(), GetParam().options.end());
  auto run = horde_run(args, std::string("mqtt_echo_") + GetParam().name);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& r = run.result;
  const auto& m = r["messages"];
  EXPECT_EQ(r["connections"]["opened"], 200);
  EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"].dump();
  const uint64_t sent = m["sent"];
  EXPECT_GE(sent, 200u * 4) << m.dump();  // 200 connections x 4/s for most of 2 s
  EXPECT_EQ(m["answered"], sent) << m.dump();
  EXPECT_EQ(m["unanswered"], 0) << m.dump();
  EXPECT_EQ(m["unstamped"], 0) << m.dump();
  EXPECT_EQ(m["corrupted"], 0) << m.dump();
  EXPECT_EQ(r["latency"]["round_trip"]["count"], sent);
  // One echo subscription per connection, acknowledged; every message
  // published to the connection's topic and delivered back on it.
  EXPECT_EQ(counter(run, "echo_subscribes"), 200u);
  EXPECT_EQ(counter(run, "echo_subacks"), 200u);
  EXPECT_EQ(timed(run, "echo_suback"), 200u);
  EXPECT_EQ(counter(run, "subscribes"), 0u);
  EXPECT_EQ(counter(run, "echo_publishes"), sent);
  EXPECT_EQ(counter(run, "echo_deliveries"), sent);
  EXPECT_EQ(counter(run, "unencodable"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Qos, MqttMosquittoEcho,
                         testing::Values(echo_case{"qos0_binary", {}},
                                         echo_case{"qos1_mqtt5_text",
                                                   {"--text", "--protocol-option", "qos=1",
                                                    "--protocol-option", "version=5"}}),
                         [](const testing::TestParamInfo<echo_case>& info) {
                           return std::string(info.param.name);
                         });

TEST(MqttMosquitto, Qos1EchoIsAcknowledgedBothWays) {
  broker b = start_mosquitto();
  ASSERT_FALSE(b.peer.port.empty()) << "mosquitto_ws.py did not start";
  auto run = horde_run({b.url, "--protocol", "mqtt", "--protocol-option", "qos=1", "-c", "50",
                        "--rate", "4/s", "--duration", "2s"},
                       "mqtt_echo_qos1_acks");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const uint64_t sent = run.result["messages"]["sent"];
  EXPECT_GT(sent, 0u);
  EXPECT_EQ(run.result["messages"]["answered"], sent);
  EXPECT_EQ(counter(run, "pubacks"), sent);
  EXPECT_EQ(timed(run, "puback"), sent);
  EXPECT_EQ(counter(run, "pubacks_sent"), sent);
  EXPECT_EQ(counter(run, "publishes_unacked"), 0u);
}

uint64_t scenario_counter(const test::run_outcome& run, const std::string& name) {
  return run.result["scenario"]["counters"].value(name, uint64_t(0));
}

// Request/response through the broker: the request comes back on the
// connection's own topic and is matched by its id; a stream ends on the
// frame its `end` names (here its echo, one frame).
TEST(MqttMosquitto, RequestsAndStreamsAreMatchedThroughTheBroker) {
  broker b = start_mosquitto();
  ASSERT_FALSE(b.peer.port.empty()) << "mosquitto_ws.py did not start";
  const std::string yaml = "url: " + b.url +
                           "\n"
                           "protocol: mqtt\n"
                           "protocol-options: [qos=1]\n"
                           "connections: 100\n"
                           "duration: 2s\n"
                           "requests:\n"
                           "  - name: call\n"
                           "    send: '{\"id\":\"c{seq}\",\"method\":\"add\"}'\n"
                           "    match-value: 'c{seq}'\n"
                           "    rate: 4/s\n"
                           "  - name: tokens\n"
                           "    send: '{\"type\":\"done\",\"id\":\"t{seq}\"}'\n"
                           "    match-value: 't{seq}'\n"
                           "    stream: true\n"
                           "    end: '/type == \"done\"'\n"
                           "    rate: 2/s\n";
  const std::string path =
      testing::TempDir() + "/horde_mqtt_requests_" + std::to_string(getpid()) + ".yaml";
  std::ofstream(path) << yaml;
  auto run = horde_run({"--scenario", path}, "mqtt_requests");
  std::remove(path.c_str());
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  const std::string dump = run.result["scenario"].dump();
  const uint64_t calls = scenario_counter(run, "request.call.sent");
  EXPECT_GE(calls, 100u * 4) << dump;
  EXPECT_EQ(scenario_counter(run, "request.call.answered"), calls) << dump;
  EXPECT_EQ(scenario_counter(run, "request.call.timeouts"), 0u) << dump;
  EXPECT_EQ(run.result["scenario"]["latency"]["request.call"]["count"], calls) << dump;
  const uint64_t streams = scenario_counter(run, "stream.tokens.sent");
  EXPECT_GE(streams, 100u * 2) << dump;
  EXPECT_EQ(scenario_counter(run, "stream.tokens.completed"), streams) << dump;
  EXPECT_EQ(scenario_counter(run, "stream.tokens.cut"), 0u) << dump;
  EXPECT_EQ(scenario_counter(run, "replies.unmatched"), 0u) << dump;
  EXPECT_EQ(counter(run, "echo_subscribes"), 100u);
  EXPECT_EQ(counter(run, "echo_deliveries"), calls + streams);
}

// A request/response service behind the broker (tests/peers/mqtt_responder.py,
// MQTT 5): requests go to its topic with the connection's echo topic as the
// Response Topic, and its answers come back there, matched by id.
TEST(MqttMosquitto, AServiceBehindTheBrokerAnswersOnTheResponseTopic) {
  broker b = start_mosquitto();
  ASSERT_FALSE(b.peer.port.empty()) << "mosquitto_ws.py did not start";
  auto service = test::start_peer({HORDE_PYTHON,
                                   std::string(HORDE_SOURCE_DIR) + "/tests/peers/mqtt_responder.py",
                                   b.url, "service/#"});
  ASSERT_EQ(service.port, "ready");
  auto run = horde_run(
      {b.url, "--protocol", "mqtt", "--protocol-option", "version=5", "--protocol-option",
       "request-topic=service/add/{conn}", "-c", "100", "--request",
       R"({"id":"{seq}","method":"add"})", "--match", "/id", "--rate", "4/s", "--duration", "2s"},
      "mqtt_service");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const std::string dump = run.result["scenario"].dump();
  const uint64_t sent = scenario_counter(run, "request.request0.sent");
  EXPECT_GE(sent, 100u * 4) << dump;
  EXPECT_EQ(scenario_counter(run, "request.request0.answered"), sent) << dump;
  EXPECT_EQ(scenario_counter(run, "replies.unmatched"), 0u) << dump;
  // Every answer was the service's: it counts what it answered when it
  // ends (SIGTERM).
  service.process->signal(SIGTERM);
  const auto line = service.process->read_line(5000);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "answered " + std::to_string(sent));
  EXPECT_EQ(counter(run, "echo_deliveries"), sent);
}

TEST(MqttMosquitto, AServerThatIsNotABrokerFailsTheHandshake) {
  // An echo server sends our CONNECT back: a packet before any CONNACK.
  auto peer = test::start_peer(
      {HORDE_PYTHON, std::string(HORDE_SOURCE_DIR) + "/tests/peers/python_ws_server.py"});
  ASSERT_FALSE(peer.port.empty());
  auto run = horde_run({"ws://127.0.0.1:" + peer.port + "/", "--protocol", "mqtt", "-c", "5",
                        "--groups", "5", "--duration", "1s"},
                       "mqtt_not_a_broker");
  EXPECT_EQ(run.result["connections"]["failures"]["app_protocol_handshake"], 5)
      << run.process.err << run.result["connections"].dump();
  EXPECT_EQ(counter(run, "connacks"), 0u);
}

}  // namespace
}  // namespace horde

// `horde run --protocol mqtt` against a real broker: Mosquitto (Debian's),
// its WebSocket listener on a free loopback port (tests/peers/mosquitto_ws.py
// writes the config and prints the port, then the broker's pid). Every
// delivery is accounted exactly through the broker at QoS 0 and 1, in MQTT
// 3.1.1 and 5; the protocol's own counters agree with pub/sub's.
#include <gtest/gtest.h>

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

// The scale: 10,000 clients over 1,000 topics (10 subscribers
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

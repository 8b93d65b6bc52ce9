// Flags -> plan, with made-up hosts and no sockets: the root given for
// /proc is an empty directory (no reserved or listening ports).
#include "app/run_plan.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "app/preflight.hh"

namespace horde::app {
namespace {

host_facts two_cpus(uint64_t table_cap = 20000) {
  host_facts host;
  host.cpus = {0, 1};
  host.table_cap = table_cap;
  host.fd_soft = table_cap;
  host.root = testing::TempDir() + "/no-proc";
  return host;
}

run_plan plan_of(const run_options& o, const host_facts& host = two_cpus()) {
  auto plan = build_run_plan(o, host);
  EXPECT_TRUE(plan) << plan.error().message;
  return plan ? std::move(*plan) : run_plan{};
}

std::string error_of(const run_options& o, const host_facts& host = two_cpus()) {
  auto plan = build_run_plan(o, host);
  EXPECT_FALSE(plan);
  return plan ? std::string() : plan.error().message;
}

bool has(const std::vector<uint16_t>& ports, uint16_t port) {
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

TEST(RunPlan, DefaultsPlanTheEmbeddedServerRun) {
  const run_plan plan = plan_of(run_options{});
  const core::client_plan& c = plan.client;
  EXPECT_TRUE(plan.embedded);
  EXPECT_EQ(c.connections, 1000u);
  EXPECT_DOUBLE_EQ(c.connect_rate, 20000);
  EXPECT_EQ(c.max_pending_connects, 4096u);
  EXPECT_EQ(c.duration_ns, 10'000'000'000u);
  EXPECT_DOUBLE_EQ(c.message_rate, 1);
  EXPECT_DOUBLE_EQ(plan.sends_per_second, 1000);
  EXPECT_EQ(c.message_size, 64u);
  EXPECT_TRUE(c.binary);
  EXPECT_EQ(c.shards, 2u);
  EXPECT_EQ(c.file_slots_per_shard, 500u);
  EXPECT_EQ(c.cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(c.port_low, 1025);
  EXPECT_EQ(c.port_high, 65535);
  EXPECT_EQ(c.connect_timeout_ns, 10'000'000'000u);
  EXPECT_EQ(c.close_timeout_ns, 3'000'000'000u);
  EXPECT_EQ(c.wake_interval_ns, 100'000u);
  EXPECT_EQ(c.send_backlog_bytes, 1u << 20);
  EXPECT_EQ(plan.sources, (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(plan.percentiles, (std::vector<double>{50, 90, 95, 99, 99.9}));
  // The embedded server's target exists once it listens.
  EXPECT_TRUE(c.targets.empty());
}

TEST(RunPlan, TheEmbeddedServerIsTargetedOnceItListens) {
  run_options o;
  run_plan plan = plan_of(o);
  ASSERT_TRUE(target_embedded_server(plan, o, 5555));
  ASSERT_EQ(plan.client.targets.size(), 1u);
  EXPECT_TRUE(has(plan.client.excluded_ports, 5555));
  EXPECT_EQ(plan.target_text, "ws://127.0.0.1:5555/");
  EXPECT_EQ(plan.url.port, 5555);
}

TEST(RunPlan, TimeoutsAndSizesAsTyped) {
  run_options o;
  o.connections = "2k";
  o.connect_timeout = "3s";
  o.upgrade_timeout = "4s";
  o.pong_timeout = "5s";
  o.drain = "500ms";
  o.close_timeout = "1s";
  o.ping_interval = "10s";
  o.wake_interval = "0";
  o.size = "4KiB";
  o.text = true;
  o.poisson = true;
  o.ports = "2000-60000";
  const core::client_plan c = std::move(plan_of(o).client);
  EXPECT_EQ(c.connections, 2000u);
  EXPECT_EQ(c.connect_timeout_ns, 3'000'000'000u);
  EXPECT_EQ(c.upgrade_timeout_ns, 4'000'000'000u);
  EXPECT_EQ(c.pong_timeout_ns, 5'000'000'000u);
  EXPECT_EQ(c.drain_ns, 500'000'000u);
  EXPECT_EQ(c.close_timeout_ns, 1'000'000'000u);
  EXPECT_EQ(c.ping_interval_ns, 10'000'000'000u);
  EXPECT_EQ(c.wake_interval_ns, 0u);
  EXPECT_EQ(c.message_size, 4096u);
  EXPECT_FALSE(c.binary);
  EXPECT_EQ(c.arrivals, core::arrival::poisson);
  EXPECT_EQ(c.port_low, 2000);
  EXPECT_EQ(c.port_high, 60000);
}

TEST(RunPlan, SendBacklogDefaultsToEightMessagesAndAtLeastOneMiB) {
  EXPECT_EQ(default_send_backlog(64), 1u << 20);
  EXPECT_EQ(default_send_backlog(1 << 20), 8u * ((1u << 20) + 14));
  run_options o;
  o.size = "1MiB";
  EXPECT_EQ(plan_of(o).client.send_backlog_bytes, 8u * ((1u << 20) + 14));
  o.send_backlog = "256KiB";
  EXPECT_EQ(plan_of(o).client.send_backlog_bytes, 256u * 1024);
  o.send_backlog = "32KiB";
  EXPECT_EQ(error_of(o), "--send-backlog is between 64KiB and 1024MiB");
}

TEST(RunPlan, TotalRateIsSharedByTheConnections) {
  run_options o;
  o.connections = "1000";
  o.rate = "5/s";
  o.total_rate = "10k/s";  // wins over --rate
  const run_plan plan = plan_of(o);
  EXPECT_DOUBLE_EQ(plan.client.message_rate, 10);
  EXPECT_DOUBLE_EQ(plan.sends_per_second, 10000);
  EXPECT_DOUBLE_EQ(needs_of(plan).messages_per_second_per_connection, 10);
}

TEST(RunPlan, PubSubRatesAreThePublishersAndTheirDeliveries) {
  run_options o;
  o.connections = "1000";
  o.pubsub.groups = "100";
  o.pubsub.per_connection = 5;
  o.pubsub.publishers = "10";
  o.total_rate = "1000/s";
  const run_plan plan = plan_of(o);
  EXPECT_TRUE(plan.client.pubsub.enabled());
  EXPECT_DOUBLE_EQ(plan.client.message_rate, 0) << "no echo traffic in a pub/sub run";
  EXPECT_FALSE(plan.client.binary);
  EXPECT_DOUBLE_EQ(plan.client.pubsub.publish_rate, 100);  // 1000/s over 10 publishers
  EXPECT_DOUBLE_EQ(plan.sends_per_second, 1000);
  // Each publish reaches 1000 x 5 / 100 = 50 subscriptions on average.
  EXPECT_DOUBLE_EQ(plan.deliveries_per_second, 50'000);
  EXPECT_DOUBLE_EQ(needs_of(plan).messages_per_second_per_connection, 51);
  ASSERT_NE(plan.pubsub_shared, nullptr);
  EXPECT_EQ(plan.client.pubsub.shared, plan.pubsub_shared.get());

  o.total_rate.clear();
  o.rate = "3/s";  // per publisher
  EXPECT_DOUBLE_EQ(plan_of(o).client.pubsub.publish_rate, 3);
}

TEST(RunPlan, MoreShardsThanCpusWhenTheDescriptorTableIsCapped) {
  run_options o;
  o.connections = "100k";
  const run_plan plan = plan_of(o, two_cpus(20000));
  // 100,000 / 20,000 = 5 rings, rounded up to a multiple of the 2 CPUs.
  EXPECT_EQ(plan.client.shards, 6u);
  EXPECT_EQ(plan.client.file_slots_per_shard, 16667u);
  EXPECT_NE(plan.notes[0].find("6 shards on 2 CPUs"), std::string::npos) << plan.notes[0];
  o.shards = 2;
  EXPECT_NE(error_of(o, two_cpus(20000)).find("one ring's descriptor table is capped at 20000"),
            std::string::npos);
}

TEST(RunPlan, LoopbackSourcesGrowWithTheConnections) {
  run_options o;
  o.connections = "100k";
  const run_plan plan = plan_of(o, two_cpus(1 << 20));
  EXPECT_EQ(plan.sources, (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
  EXPECT_EQ(plan.client.sources.size(), 2u);
  o.source_ips = "127.0.0.1-127.0.0.4";
  EXPECT_EQ(plan_of(o, two_cpus(1 << 20)).sources.size(), 4u);
}

TEST(RunPlan, AUrlTargetKeepsItsPortAndRedactsSecrets) {
  run_options o;
  o.url = "ws://127.0.0.1:9000/chat?token=abc";
  o.headers = {"Authorization: Bearer xyz", "X-Trace: 1"};
  o.subprotocols = {"chat.v1"};
  const run_plan plan = plan_of(o);
  EXPECT_FALSE(plan.embedded);
  ASSERT_EQ(plan.client.targets.size(), 1u);
  EXPECT_TRUE(has(plan.client.excluded_ports, 9000));
  EXPECT_EQ(plan.target_text.find("abc"), std::string::npos) << plan.target_text;
  ASSERT_EQ(plan.headers_shown.size(), 2u);
  EXPECT_EQ(plan.headers_shown[0].second, "Bearer [redacted]");
  EXPECT_EQ(plan.headers_shown[1].second, "1");
  EXPECT_EQ(plan.client.targets[0].subprotocols, o.subprotocols);
}

TEST(RunPlan, BadFlagsSayWhichAndWhy) {
  const auto with = [](auto change) {
    run_options o;
    change(o);
    return error_of(o);
  };
  EXPECT_NE(with([](run_options& o) { o.duration = "ten"; }).find("bad duration"),
            std::string::npos);
  EXPECT_EQ(with([](run_options& o) { o.connections = "0"; }),
            "-c/--connections must be at least 1");
  EXPECT_NE(with([](run_options& o) { o.size = "16"; }).find("smaller than the 32-byte stamp"),
            std::string::npos);
  EXPECT_NE(with([](run_options& o) {
              o.text = true;
              o.size = "40";
            }).find("47-byte stamp"),
            std::string::npos);
  EXPECT_NE(with([](run_options& o) { o.size = "17MiB"; }).find("at most 16MiB"),
            std::string::npos);
  EXPECT_NE(with([](run_options& o) { o.wake_interval = "20ms"; }).find("longer than 10ms"),
            std::string::npos);
  EXPECT_EQ(with([](run_options& o) { o.close_timeout = "0"; }),
            "--close-timeout must be more than 0");
  EXPECT_NE(with([](run_options& o) { o.ports = "9-2"; }).find("bad --ports '9-2'"),
            std::string::npos);
  EXPECT_NE(with([](run_options& o) { o.total_rate = "fast"; }).find("--total-rate:"),
            std::string::npos);
  EXPECT_EQ(with([](run_options& o) {
              o.raw = true;
              o.url = "wss://127.0.0.1:9000/";
            }),
            "--raw is plain TCP; it does not go with wss://");
  EXPECT_EQ(with([](run_options& o) {
              o.raw = true;
              o.pubsub.groups = "10";
            }),
            "--groups needs WebSocket; drop --raw");
  EXPECT_EQ(with([](run_options& o) { o.group_setup.url = "http://127.0.0.1:1/groups"; }),
            "--setup-url creates groups: it needs --groups");
  EXPECT_EQ(with([](run_options& o) { o.headers = {"NoColon"}; }),
            "bad -H 'NoColon': expected 'Name: value'");
  EXPECT_NE(with([](run_options& o) { o.url = "http://x/"; }).find("not a WebSocket URL"),
            std::string::npos);
  EXPECT_NE(with([](run_options& o) {
              o.url = "ws://127.0.0.1:9/";
              o.connections = "100";
              o.source_ips = "127.0.0.1";
              o.ports = "2000-2010";
            }).find("--source-ips"),
            std::string::npos);
  EXPECT_NE(with([](run_options& o) { o.percentiles = "99,50"; }).find("ascending"),
            std::string::npos);
}

TEST(RunPlan, PercentilesAreChosen) {
  EXPECT_EQ(*parse_percentiles("50,95,99,99.9"), (std::vector<double>{50, 95, 99, 99.9}));
  EXPECT_EQ(*parse_percentiles("99.99"), (std::vector<double>{99.99}));
  for (const char* bad : {"", "0", "100", "50,", "p99", "50,50", "-1"}) {
    auto parsed = parse_percentiles(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message.find("--percentiles"), std::string::npos) << bad;
  }
}

// --compression: the offer goes into the upgrade request as one header;
// its companions alone, or with --raw, are refused with the fix.
TEST(RunPlan, CompressionShapesTheOfferInTheRequest) {
  run_options o;
  o.url = "ws://127.0.0.1:9000/";
  o.compression = "require";
  o.compression_window_bits = 10;
  o.compression_no_context_takeover = "server";
  const run_plan plan = plan_of(o);
  EXPECT_EQ(plan.client.compression, core::compression_mode::require);
  EXPECT_EQ(plan.client.deflate.client_max_window_bits, 10);
  EXPECT_FALSE(plan.client.deflate.client_no_context_takeover);
  EXPECT_TRUE(plan.client.deflate.server_no_context_takeover);
  ASSERT_EQ(plan.client.targets.size(), 1u);
  const std::string request = plan.client.targets[0].request.render(std::string(24, 'k'));
  EXPECT_NE(request.find("\r\nSec-WebSocket-Extensions: permessage-deflate; "
                         "client_max_window_bits=10; server_max_window_bits=10; "
                         "server_no_context_takeover\r\n"),
            std::string::npos)
      << request;

  run_options plain;
  plain.url = o.url;
  EXPECT_EQ(
      plan_of(plain).client.targets[0].request.render(std::string(24, 'k')).find("Extensions"),
      std::string::npos);
  plain.compression_no_context_takeover = "both";
  EXPECT_NE(error_of(plain).find("add --compression offer"), std::string::npos);
  o.raw = true;
  EXPECT_NE(error_of(o).find("not with --raw"), std::string::npos);
}

}  // namespace
}  // namespace horde::app

namespace horde::app {
namespace {

http_step_spec setup_step(const std::string& name, const std::string& url,
                          const std::string& capture = {}) {
  http_step_spec s;
  s.name = name;
  s.url = url;
  if (!capture.empty()) s.captures.push_back({capture, "/" + capture, "", {}});
  return s;
}

TEST(RunPlan, SetupCapturesAreRunVariablesOfEveryLaterTemplate) {
  run_options o;
  o.url = "ws://127.0.0.1:9000/rooms/{room}";
  o.headers = {"Authorization: Bearer {token}"};
  o.scenario.setup_steps = {setup_step("login", "http://127.0.0.1:9001/login", "token"),
                            setup_step("room", "http://127.0.0.1:9001/rooms?t={token}", "room")};
  const run_plan plan = plan_of(o);
  ASSERT_EQ(plan.setup.size(), 2u);
  EXPECT_EQ(plan.setup[0].known_before, 0u);
  EXPECT_EQ(plan.setup[1].known_before, 1u);  // the login's token, not its own room
  EXPECT_TRUE(plan.setup[1].target.uses("token"));
  const core::vars_plan& vars = plan.client.vars;
  EXPECT_EQ(vars.run_count, 2u);
  EXPECT_EQ(vars.names, (std::vector<std::string>{"token", "room"}));
  EXPECT_EQ(vars.stored(), 0u);
  EXPECT_EQ(vars.run_values.size(), 2u);
}

TEST(RunPlan, SetupRefusesWhatItCannotRun) {
  run_options o;
  o.url = "ws://127.0.0.1:9000/";
  // A step may not use its own capture, nor a later one's.
  o.scenario.setup_steps = {setup_step("login", "http://127.0.0.1:9001/login?t={token}", "token")};
  EXPECT_NE(error_of(o).find("token"), std::string::npos);
  o.scenario.setup_steps = {setup_step("login", "https://127.0.0.1:9001/login")};
  EXPECT_NE(error_of(o).find("plain HTTP"), std::string::npos);
  auto groups = setup_step("groups", "http://127.0.0.1:9001/groups/{group}");
  groups.for_each_group = true;
  o.scenario.setup_steps = {groups};
  EXPECT_NE(error_of(o).find("needs --groups"), std::string::npos);
}

TEST(RunPlanProtocol, AnUnknownProtocolIsRefusedWithTheList) {
  run_options o;
  o.url = "ws://127.0.0.1:9/";
  o.urls = {o.url};
  o.protocol = "socket.io-v9";
  const std::string message = error_of(o);
  EXPECT_NE(message.find("--protocol 'socket.io-v9': unknown (one of: ws"), std::string::npos)
      << message;
}

TEST(RunPlanProtocol, ProtocolOptionsNeedAProtocol) {
  run_options o;
  o.url = "ws://127.0.0.1:9/";
  o.urls = {o.url};
  o.protocol_options = {"qos=1"};
  EXPECT_NE(error_of(o).find("--protocol-option needs --protocol"), std::string::npos);
}

TEST(RunPlanProtocol, BareWebSocketPlansNoCodec) {
  run_options o;
  o.url = "ws://127.0.0.1:9/";
  o.urls = {o.url};
  EXPECT_FALSE(plan_of(o).client.protocol.enabled());
}

}  // namespace
}  // namespace horde::app

// `horde run` over a network that misbehaves on purpose: a fixed delay, a
// steady loss, a server that dies and comes back. Each test that changes the
// network does it in a private network namespace (tests/support/
// private_network.hh) with `tc` or `nft` on its own `lo`, so the host's
// loopback and the other tests are untouched; one without root or without
// the kernel feature skips and says which. The delay is also reached without
// netem, through a user-space delay line on plain loopback.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sysctl/net_counters.hh"
#include "tests/support/horde_cli.hh"
#include "tests/support/private_network.hh"

namespace horde {
namespace {

const std::string source_dir = HORDE_SOURCE_DIR;
using test::horde_binary;
using test::horde_run;
using test::private_network;
using test::run_outcome;
using test::run_tool;
using test::start_peer;
using test::system_tool;

double ms(const nlohmann::json& ns) {
  return double(ns) / 1e6;
}

double round_trip_p50_ms(const nlohmann::json& result) {
  return ms(result["latency"]["round_trip"]["percentiles_ns"]["p50"]);
}

// A `horde serve` on `listen` and its ws:// URL.
struct served {
  test::peer_server server;
  std::string url;
};

served serve(const std::string& listen) {
  served s;
  s.server = start_peer({horde_binary, "serve", "--listen", listen});
  s.url = test::served_url(s.server.port);
  return s;
}

// 20 connections at 20 messages/s each: 400 round trips a second, few
// enough that neither horde, the server nor a Python delay line queues, so
// the p50 is the path's latency, not a backlog's.
const std::vector<std::string> modest_load = {"-c", "20", "--rate", "20/s", "--duration", "4s"};

std::vector<std::string> with_url(const std::string& url, std::vector<std::string> args) {
  args.insert(args.begin(), url);
  return args;
}

// netem on lo delays every packet once on its way out of lo, and a request
// and its echo each cross lo once: 10 ms each way is 20 ms per round trip.
TEST(NetworkFaults, NetemDelayShowsInRoundTripP50) {
  private_network net;
  if (!net.error().empty()) GTEST_SKIP() << net.error();
  const auto tc = system_tool("tc");
  if (!tc) GTEST_SKIP() << "tc not installed (iproute2)";
  // Probe before measuring anything, so a kernel without netem skips at once.
  const auto probe = run_tool({*tc, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "10ms"});
  if (probe.exit_code != 0) {
    GTEST_SKIP() << "kernel lacks sch_netem (CONFIG_NET_SCH_NETEM): tc said: " << probe.err
                 << "(NetworkFaults.DelayLineShowsInRoundTripP50 covers the delay without it)";
  }
  ASSERT_EQ(run_tool({*tc, "qdisc", "del", "dev", "lo", "root"}).exit_code, 0);

  auto server = serve("127.0.0.1:0");
  ASSERT_FALSE(server.url.empty()) << server.server.port;
  auto direct = horde_run(with_url(server.url, modest_load), "netem_direct");
  ASSERT_TRUE(passed_or_starved(direct)) << direct.process.err;
  const auto add = run_tool({*tc, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "10ms"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto delayed = horde_run(with_url(server.url, modest_load), "netem_delayed");
  ASSERT_TRUE(passed_or_starved(delayed)) << delayed.process.err;
  EXPECT_EQ(delayed.result["messages"]["answered"], delayed.result["messages"]["sent"]);

  const double base = round_trip_p50_ms(direct.result);
  const double p50 = round_trip_p50_ms(delayed.result);
  RecordProperty("direct_p50_ms", std::to_string(base));
  RecordProperty("netem_p50_ms", std::to_string(p50));
  EXPECT_NEAR(p50, base + 20.0, 1.0) << "direct p50 " << base << " ms";
}

// The same claim without netem: tests/peers/delay_proxy.py holds every chunk
// 10 ms in each direction between horde and the server. The delay line costs
// something of its own (two more loopback hops and a thread hand-off each
// way, 0.05-0.15 ms at p50 here), measured with a 0 ms line in the same test.
// On plain loopback: no namespace, no root, runs everywhere.
TEST(NetworkFaults, DelayLineShowsInRoundTripP50) {
  auto server = serve("127.0.0.1:0");
  ASSERT_FALSE(server.url.empty()) << server.server.port;
  const std::string port = server.url.substr(server.url.rfind(':') + 1, std::string::npos);
  const std::string upstream_port = port.substr(0, port.find('/'));
  const std::string proxy = source_dir + "/tests/peers/delay_proxy.py";
  auto line0 = start_peer({HORDE_PYTHON, proxy, "127.0.0.1", upstream_port, "0"});
  auto line10 = start_peer({HORDE_PYTHON, proxy, "127.0.0.1", upstream_port, "10"});
  ASSERT_FALSE(line0.port.empty());
  ASSERT_FALSE(line10.port.empty());

  double p50[3] = {};
  const std::string urls[3] = {server.url, "ws://127.0.0.1:" + line0.port + "/",
                               "ws://127.0.0.1:" + line10.port + "/"};
  for (int i = 0; i < 3; ++i) {
    auto run = horde_run(with_url(urls[i], modest_load), "delay_line" + std::to_string(i));
    ASSERT_FALSE(run.process.timed_out);
    test::expect_every_message_echoed(run, 20);
    p50[i] = round_trip_p50_ms(run.result);
  }
  RecordProperty("direct_p50_ms", std::to_string(p50[0]));
  RecordProperty("line0_p50_ms", std::to_string(p50[1]));
  RecordProperty("line10_p50_ms", std::to_string(p50[2]));
  const std::string figures = "p50 direct " + std::to_string(p50[0]) + " ms, 0 ms line " +
                              std::to_string(p50[1]) + " ms, 10 ms line " + std::to_string(p50[2]) +
                              " ms";
  // The claim: 2 x 10 ms plus the direct p50, within 1 ms, overhead and all.
  EXPECT_NEAR(p50[2], p50[0] + 20.0, 1.0) << figures;
  // And the delay line's own delay, its overhead taken out.
  EXPECT_NEAR(p50[2] - p50[1], 20.0, 1.0) << figures;
}

// 1% of TCP packets arriving on lo dropped at random: nftables' numgen, or
// iptables' statistic match. On the input hook, not output: a packet dropped
// on output fails the sender's own transmit call, and TCP simply sends it
// again with its next write (here 20 ms later, no retransmission counted) —
// a local hiccup, not a loss on the wire. Dropped on input, it was sent and
// never arrived, as on a lossy link.
std::string drop_one_percent() {
  if (const auto nft = system_tool("nft")) {
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{*nft, "add", "table", "inet", "faults"},
          {*nft, "add", "chain", "inet", "faults", "in", "{ type filter hook input priority 0; }"},
          {*nft, "add", "rule", "inet", "faults", "in", "meta", "l4proto", "tcp", "numgen",
           "random", "mod", "100", "<", "1", "drop"}}) {
      const auto r = run_tool(command);
      if (r.exit_code != 0) return "nft failed (kernel without nf_tables?): " + r.err;
    }
    return {};
  }
  if (const auto iptables = system_tool("iptables")) {
    const auto r = run_tool({*iptables, "-A", "INPUT", "-p", "tcp", "-m", "statistic", "--mode",
                             "random", "--probability", "0.01", "-j", "DROP"});
    if (r.exit_code != 0) return "iptables failed (kernel without xt_statistic?): " + r.err;
    return {};
  }
  return "neither nft (nftables) nor iptables installed";
}

// A lost segment on loopback is recovered by the next one's duplicate ACK
// if the next comes soon, else by a tail-loss probe, which with one segment
// in flight waits 2 x SRTT + 200 ms (TCP_RTO_MIN), or by a retransmission
// timeout (>= 200 ms). 200 connections at 2 messages/s each leave 500 ms
// between one connection's messages, so nearly every loss of a request or
// its echo costs that round trip 200 ms or more: with 1% of packets lost,
// about 2% of round trips, so p99.9 (and here p99) lands past 200 ms while
// p50 stays a tenth of a millisecond. At 50/s per connection most losses
// are repaired by the next message instead and the tail is 20 ms.
//
// Inside the namespace /proc/net/snmp is the namespace's own and starts at
// zero, so the retransmissions the report counts are this run's; the test
// reads the same counters after horde exits, and horde's figure must fit in
// them.
TEST(NetworkFaults, OnePercentLossShowsInKernelSectionAndTail) {
  private_network net;
  if (!net.error().empty()) GTEST_SKIP() << net.error();
  const auto before = sysctl::read_net_counters("/");
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->retransmitted_segments, 0u) << "not a fresh namespace";
  if (const auto why = drop_one_percent(); !why.empty()) GTEST_SKIP() << why;

  auto server = serve("127.0.0.1:0");
  ASSERT_FALSE(server.url.empty()) << server.server.port;
  auto run =
      horde_run({server.url, "-c", "200", "--rate", "2/s", "--duration", "5s"}, "loss", 60000);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto after = sysctl::read_net_counters("/");
  ASSERT_TRUE(after.has_value());
  const auto& r = run.result;
  const auto& kernel = r["kernel_network"];
  const auto& rtt = r["latency"]["round_trip"];
  const std::string figures = "kernel_network " + kernel.dump() + "; round trip p50 " +
                              std::to_string(ms(rtt["percentiles_ns"]["p50"])) + " p99 " +
                              std::to_string(ms(rtt["percentiles_ns"]["p99"])) + " p99.9 " +
                              std::to_string(ms(rtt["percentiles_ns"]["p99.9"])) + " max " +
                              std::to_string(ms(rtt["max_ns"])) + " ms; namespace retransmitted " +
                              std::to_string(after->retransmitted_segments) + " in all";
  RecordProperty("figures", figures);
  // The counters are this namespace's, and the report says so.
  EXPECT_EQ(kernel["scope"], "network_namespace") << figures;

  // TCP repairs every loss: nothing fails, every message comes back.
  EXPECT_EQ(r["connections"]["opened"], 200) << r["connections"].dump();
  EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"].dump();
  EXPECT_EQ(r["messages"]["answered"], r["messages"]["sent"]);
  // The kernel section: ~8,000 packets at 1% is ~80 lost; 10 is far below.
  EXPECT_GE(uint64_t(kernel["retransmitted_segments"]), 10u) << figures;
  EXPECT_GT(uint64_t(kernel["loss_probes"]) + uint64_t(kernel["retransmit_timeouts"]), 0u)
      << figures;
  EXPECT_LE(uint64_t(kernel["retransmitted_segments"]), after->retransmitted_segments)
      << "horde's counters are not this namespace's: " << figures;
  EXPECT_NE(run.process.out.find("TCP segments retransmitted"), std::string::npos);
  // The tail, and not the median (0.05-0.1 ms here; 5 ms leaves room for a
  // busy CI machine and is still far from a repaired loss's 200 ms).
  EXPECT_LT(ms(rtt["percentiles_ns"]["p50"]), 5.0) << figures;
  EXPECT_GE(ms(rtt["percentiles_ns"]["p99.9"]), 200.0) << figures;
  EXPECT_GE(ms(rtt["max_ns"]), 200.0) << figures;
}

// `horde run ARGS` against a `horde serve` on a fixed port that is killed
// with SIGKILL 2 s into the run and started again on the same port at 3 s.
// A fixed port is safe in a private namespace, where nothing else listens;
// the restart binds beside the dead server's closing sockets (SO_REUSEADDR).
struct outage {
  run_outcome run;
  std::string restarted_url;
  double wall_seconds = 0;
};

outage run_through_outage(std::vector<std::string> args, const std::string& name) {
  const std::string listen = "127.0.0.1:8080";
  outage o;
  auto server = serve(listen);
  EXPECT_EQ(server.url, "ws://" + listen + "/") << server.server.port;
  const auto start = std::chrono::steady_clock::now();
  // A thread started now is in this thread's namespace, and so is its child.
  auto running = std::async(std::launch::async, [args, url = server.url, name]() mutable {
    args.insert(args.begin(), url);
    return horde_run(args, name, 30000);
  });
  std::this_thread::sleep_until(start + std::chrono::seconds(2));
  server.server.process->signal(SIGKILL);
  EXPECT_TRUE(server.server.process->wait(5000));
  std::this_thread::sleep_until(start + std::chrono::seconds(3));
  auto restarted = serve(listen);
  o.restarted_url = restarted.url;
  o.run = running.get();
  o.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return o;
}

// Every connection open when the server dies is closed by its kernel (a FIN,
// or a reset where unread data was left) and counted failed by that reason.
// Nobody reconnects yet (a later issue), so with all 50 gone horde has no
// more to do and ends then, about 2 s in, well inside its 6 s.
TEST(NetworkFaults, ServerKilledMidRunIsCountedForEveryConnection) {
  private_network net;
  if (!net.error().empty()) GTEST_SKIP() << net.error();
  const auto o = run_through_outage({"-c", "50", "--rate", "10/s", "--duration", "6s"}, "killed");
  EXPECT_EQ(o.restarted_url, "ws://127.0.0.1:8080/") << "the server did not come back";
  ASSERT_FALSE(o.run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(o.run)) << o.run.process.err;
  ASSERT_FALSE(o.run.result.is_null()) << "no JSON written";
  const auto& c = o.run.result["connections"];
  RecordProperty("connections", c.dump());
  RecordProperty("elapsed_seconds", std::to_string(double(o.run.result["elapsed_seconds"])));
  EXPECT_EQ(c["attempted"], 50);
  EXPECT_EQ(c["opened"], 50);
  EXPECT_EQ(c["failed"], 50) << c.dump();
  const auto& failures = c["failures"];
  EXPECT_EQ(failures.value("reset_by_server", 0) + failures.value("eof_from_server", 0), 50)
      << c.dump();
  EXPECT_GT(o.run.result["messages"]["answered"], 0) << "the server died before any echo";
  EXPECT_LT(double(o.run.result["elapsed_seconds"]), 6.5);
  EXPECT_LT(o.wall_seconds, 9.0);
}

// The same outage with connections opened one every 100 ms across the run:
// those open at 2 s fail as above, those tried while nothing listens are
// refused, those tried after the restart open on the new server and run to
// the end. Every connection is in exactly one of the three.
TEST(NetworkFaults, ServerRestartedMidRunServesLaterConnections) {
  private_network net;
  if (!net.error().empty()) GTEST_SKIP() << net.error();
  const auto o = run_through_outage(
      {"-c", "50", "--connect-rate", "10/s", "--rate", "10/s", "--duration", "6s"}, "restarted");
  ASSERT_EQ(o.restarted_url, "ws://127.0.0.1:8080/") << "the server did not come back";
  ASSERT_FALSE(o.run.process.timed_out);
  ASSERT_TRUE(passed_or_starved(o.run)) << o.run.process.err;
  ASSERT_FALSE(o.run.result.is_null()) << "no JSON written";
  const auto& c = o.run.result["connections"];
  RecordProperty("connections", c.dump());
  const auto& failures = c["failures"];
  const int dropped = failures.value("reset_by_server", 0) + failures.value("eof_from_server", 0);
  const int refused = failures.value("connect_refused", 0);
  const int clean = c["closed_clean"];
  EXPECT_EQ(c["attempted"], 50);
  EXPECT_EQ(c["failed"], dropped + refused) << c.dump();
  EXPECT_EQ(dropped + refused + clean, 50) << c.dump();
  // ~20 tried before 2 s, ~10 in the outage, ~20 after; 3 connections are
  // 300 ms of slack for the schedule and the restart.
  EXPECT_NEAR(dropped, 20, 3) << c.dump();
  EXPECT_NEAR(refused, 10, 3) << c.dump();
  EXPECT_NEAR(clean, 20, 3) << c.dump();
  // On time: the drain after the last send waits for echoes still owed, and
  // a connection that died owes none (it once kept this run to 8 s, the
  // whole 2 s --drain).
  EXPECT_NEAR(double(o.run.result["elapsed_seconds"]), 6.0, 0.5);
}

}  // namespace
}  // namespace horde

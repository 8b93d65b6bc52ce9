// read_net_counters over a fake /proc/net, its two table parsers, and one
// read of this machine's real /proc/net.
#include "sysctl/net_counters.hh"

#include <gtest/gtest.h>

#include "sysctl/planner.hh"
#include "sysctl/proc_file.hh"
#include "tests/sysctl/fake_root.hh"

namespace horde::sysctl {
namespace {

using testing_support::fake_root;

// Trimmed from a 6.18 kernel: Tcp's MaxConn is -1, which must not spoil the rest.
const char* const snmp =
    "Ip: Forwarding DefaultTTL InReceives\n"
    "Ip: 2 64 530679920\n"
    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens OutSegs RetransSegs\n"
    "Tcp: 1 200 120000 -1 3521685 3521000 530633592 1234\n"
    "Udp: InDatagrams NoPorts\n"
    "Udp: 5 0\n";
const char* const netstat =
    "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPTimeouts TCPLossProbes\n"
    "TcpExt: 0 17 19 5 300\n"
    "IpExt: InNoRoutes InTruncatedPkts\n"
    "IpExt: 0 0\n";
const char* const softnet =
    "0feced9f 0000b7d1 00000013 00000000 00000000 00000000 00000000 00000000 00000000\n"
    "0fb49ae9 0000c023 00000008 00000000 00000000 00000000 00000000 00000000 00000000\n";

void lay_out(const fake_root& root) {
  root.write("proc/net/snmp", snmp);
  root.write("proc/net/netstat", netstat);
  root.write("proc/net/softnet_stat", softnet);
}

TEST(NetCounters, ReadsEveryCounterFromTheTables) {
  fake_root root;
  lay_out(root);
  const auto counters = read_net_counters(root.path());
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters->retransmitted_segments, 1234u);
  EXPECT_EQ(counters->retransmit_timeouts, 5u);
  EXPECT_EQ(counters->loss_probes, 300u);
  EXPECT_EQ(counters->listen_overflows, 17u);
  EXPECT_EQ(counters->input_queue_drops, 0xb7d1u + 0xc023u);
}

TEST(NetCounters, AMissingFileOrCounterMeansNoFigures) {
  fake_root root;
  root.write("proc/net/snmp", snmp);
  root.write("proc/net/netstat", netstat);
  EXPECT_FALSE(read_net_counters(root.path()));  // no softnet_stat: a container, say
  root.write("proc/net/softnet_stat", softnet);
  root.write("proc/net/netstat", "TcpExt: SyncookiesSent\nTcpExt: 0\n");
  EXPECT_FALSE(read_net_counters(root.path()));
}

TEST(NetCounters, TableValuesAreFoundByNameNotPosition) {
  EXPECT_EQ(proc_table_value(snmp, "Tcp:", "RetransSegs"), 1234u);
  EXPECT_EQ(proc_table_value(snmp, "Tcp:", "ActiveOpens"), 3521685u);
  EXPECT_EQ(proc_table_value(snmp, "Udp:", "NoPorts"), 0u);
  EXPECT_FALSE(proc_table_value(snmp, "Tcp:", "MaxConn"));  // -1: not a count
  EXPECT_FALSE(proc_table_value(snmp, "Tcp:", "NoSuchCounter"));
  EXPECT_FALSE(proc_table_value(snmp, "Sctp:", "RetransSegs"));
  EXPECT_FALSE(proc_table_value("Tcp: RetransSegs\n", "Tcp:", "RetransSegs"));  // no values
  EXPECT_FALSE(proc_table_value("Tcp: RetransSegs\nTcp: 12x\n", "Tcp:", "RetransSegs"));
}

TEST(NetCounters, SoftnetDropsAreTheHexSecondColumnSummed) {
  EXPECT_EQ(softnet_dropped(softnet), 0xb7d1u + 0xc023u);
  EXPECT_EQ(softnet_dropped("00000001 0000000a\n"), 10u);
  EXPECT_FALSE(softnet_dropped(""));
  EXPECT_FALSE(softnet_dropped("00000001\n"));
  EXPECT_FALSE(softnet_dropped("00000001 zz\n"));
}

TEST(NetCounters, ADifferenceNeverGoesBelowZero) {
  const net_counters before{10, 2, 30, 4, 50};
  const net_counters after{15, 2, 29, 6, 50};
  const net_counters d = counters_between(before, after);
  EXPECT_EQ(d.retransmitted_segments, 5u);
  EXPECT_EQ(d.retransmit_timeouts, 0u);
  EXPECT_EQ(d.loss_probes, 0u);  // went down: a reset, not -1
  EXPECT_EQ(d.listen_overflows, 2u);
  EXPECT_EQ(d.input_queue_drops, 0u);
}

TEST(NetCounters, ThisMachinesProcNetReads) {
  if (!read_small_file("/proc/net/snmp")) GTEST_SKIP() << "no /proc/net/snmp here";
  EXPECT_TRUE(read_net_counters("/"));
}

// The report's fix for input-queue drops is the planner's need for the run.
TEST(NetCounters, InputQueueFixAsksForWhatThePlannerNeeds) {
  plan_needs needs;
  needs.connections = 100000;
  needs.cpus = 2;
  needs.connect_rate = 30000;
  const uint64_t planned = netdev_backlog_need(needs).needed;
  EXPECT_EQ(backlog_after_drops(planned, 1000), 16384u);
  EXPECT_EQ(input_queue_fix(planned, 1000), "sysctl -w net.core.netdev_max_backlog=16384");
  EXPECT_EQ(input_queue_fix(planned, std::nullopt), "sysctl -w net.core.netdev_max_backlog=16384");
  // Already at the plan's need and still dropping: the next power of two.
  EXPECT_EQ(backlog_after_drops(planned, 16384), 32768u);
  EXPECT_EQ(backlog_after_drops(1000, 1000), 1024u);
  EXPECT_EQ(backlog_after_drops(1000, 5000), 8192u);
  // Never past the cap; at the cap the fix is the load, not the queue.
  EXPECT_EQ(backlog_after_drops(planned, 65536), 65536u);
  EXPECT_EQ(backlog_after_drops(planned, 100000), 65536u);
  EXPECT_EQ(
      input_queue_fix(planned, 65536),
      "net.core.netdev_max_backlog is already 65536: lower --connect-rate or spread the load");
}

}  // namespace
}  // namespace horde::sysctl

// The host's network-stack counters that explain a latency spike or a slow
// connect: segments TCP sent again, input-queue drops, listen-queue
// overflows. Read from a root directory ("/" in production; tests lay out a
// fake /proc), before and after a run: the difference is what happened on
// the whole host during it, horde's traffic and anyone else's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace horde::sysctl {

struct net_counters {
  uint64_t retransmitted_segments = 0;  // Tcp RetransSegs (/proc/net/snmp)
  uint64_t retransmit_timeouts = 0;     // TcpExt TCPTimeouts: an RTO fired (>= 200 ms late)
  uint64_t loss_probes = 0;             // TcpExt TCPLossProbes: tail-loss probes (often spurious)
  uint64_t listen_overflows = 0;        // TcpExt ListenOverflows: accept queue full, SYN dropped
  uint64_t input_queue_drops = 0;       // /proc/net/softnet_stat column 2, every CPU
};

// Every counter, or nullopt when a file is missing or unreadable (a
// container without /proc/net): the report then says nothing of them.
std::optional<net_counters> read_net_counters(const std::string& root);

// after - before, each counter on its own (0 if it went down: a reset).
net_counters counters_between(const net_counters& before, const net_counters& after) noexcept;

// The value of `name` in a /proc/net/snmp-style table: a "Prefix: names"
// line followed by a "Prefix: values" line. nullopt when absent or negative.
std::optional<uint64_t> proc_table_value(std::string_view text, std::string_view prefix,
                                         std::string_view name);

// The sum of the second (hex) column of /proc/net/softnet_stat over its lines.
std::optional<uint64_t> softnet_dropped(std::string_view text);

// The net.core.netdev_max_backlog to ask for when input_queue_drops grew
// during a run: the planner's need for that run (planned_need:
// netdev_backlog_need(needs).needed, sysctl/planner.hh), or, when the host
// already had that much and still dropped, the next power of two above what
// it had; at most netdev_backlog_cap (65,536).
uint64_t backlog_after_drops(uint64_t planned_need, std::optional<uint64_t> current) noexcept;

// The report's fix for input-queue drops: "sysctl -w
// net.core.netdev_max_backlog=16384", or, when the host is already at the
// cap, "net.core.netdev_max_backlog is already 65,536: lower --connect-rate or
// spread the load".
std::string input_queue_fix(uint64_t planned_need, std::optional<uint64_t> current);

}  // namespace horde::sysctl

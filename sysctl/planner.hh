// The planner: from what a run asks for (plan_needs) and what the kernel
// allows (kernel_limits), the numbers the run needs (plan_sizing) and one
// check_line per knob that can stop it: the knob, its value, the value
// needed, the formula, a verdict and the exact command that fixes it.
// Pure functions: no I/O, so every formula is tested on made-up machines.
// `horde tune` prints the lines; `horde run` refuses a plan that does not fit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sysctl/kernel_limits.hh"

namespace horde::sysctl {

struct plan_needs {
  uint64_t connections = 0;
  uint32_t targets = 1;
  uint32_t source_addresses = 1;
  bool target_on_this_host = true;  // both ends of every connection count here
  bool tls = false;
  uint64_t message_bytes = 64;
  double messages_per_second_per_connection = 0;
  uint32_t cpus = 1;  // CPUs horde's shards may use
  // The local ports horde binds from; 0/0 means the kernel's ip_local_port_range.
  uint32_t port_low = 0;
  uint32_t port_high = 0;
  // Ports horde must not bind (e.g. the target's listening port on this
  // host); only those inside the range cost a port.
  std::vector<uint16_t> excluded_ports;
  // ports_to_avoid(...).ports (sysctl/proc_ports.hh): reserved ports and
  // ports with a listener on a source address. Those not reserved show as
  // "listening" on the ports line; a port in several lists costs one port.
  std::vector<uint16_t> avoided_ports;
  // New connections per second, all shards (horde run's --connect-rate);
  // 0 = unlimited, planned as netdev_unlimited_connect_rate.
  double connect_rate = 0;
  // 1 / --ping-interval: a ping and its pong move like a message and its echo.
  double pings_per_second_per_connection = 0;
};

// Measured on this kernel (PLATFORM.md): an idle loopback TCP socket holds
// about 4.3 KB of kernel memory (tcp_sock 2,368 B, inode 832, file 192,
// dentry 192, plus slab and hash overhead).
inline constexpr uint64_t kernel_bytes_per_socket = 4300;
// DESIGN.md's budget for horde's own user memory per idle connection.
inline constexpr uint64_t horde_bytes_per_connection = 4096;
// What an idle wss:// connection adds to horde's RSS over a ws:// one after a
// full handshake (measured: about 19.7 KB; 16.8 KB after a resumed one;
// README "wss://"). OpenSSL's own allocations are 18.2 KB (bench/tls_bench.cc);
// the rest is the allocator's rounding.
inline constexpr uint64_t tls_bytes_per_connection = 20 * 1024;
// A ring's registered file table never exceeds this, whatever RLIMIT_NOFILE says.
inline constexpr uint64_t max_ring_file_slots = 1048576;

// net.core.netdev_max_backlog, the per-CPU queue every loopback packet waits
// in (netif_rx) until the CPU's softirq drains it, 64 per poll
// (net.core.dev_weight). The queue must hold what one CPU sends during the
// longest softirq gap planned for: past 2 ms of softirq work the kernel hands
// it to ksoftirqd, an ordinary thread that waits behind horde's shards and the
// target for a few scheduler periods (sched_latency is 6-24 ms). 100 ms covers
// that with room; on this project's 2-core VM a 30k/s ramp dropped 7,775
// packets at 1,000, i.e. gaps past 11 ms at 90,000 packets/s per CPU.
inline constexpr uint64_t netdev_softirq_gap_ms = 100;
// A WebSocket connect on loopback: SYN, ACK, upgrade request from horde;
// SYN-ACK, upgrade response, ACK from the target.
inline constexpr uint64_t netdev_packets_per_connect = 6;
// A message and its echo (or a ping and its pong): data and ACK each way.
inline constexpr uint64_t netdev_packets_per_round_trip = 4;
// --connect-rate 0: the ramp is as fast as the shards go (about 100k/s seen).
inline constexpr double netdev_unlimited_connect_rate = 100000;
inline constexpr uint64_t netdev_backlog_floor = 1000;  // the kernel's default
inline constexpr uint64_t netdev_backlog_cap = 65536;   // past it, spread the load instead

struct backlog_need {
  uint64_t packets_per_cpu = 0;  // arriving on one CPU within one softirq gap
  uint64_t needed = 0;           // floor 1,000; else the next power of two, at most 65,536
  bool capped = false;           // packets_per_cpu > 65,536: drops remain possible
  bool on_loopback = true;       // false: the target is elsewhere, NAPI bypasses the queue
  std::string formula;           // the arithmetic, for the check line and the report
};

// The backlog the plan needs. Loopback only (needs.target_on_this_host):
//   packets = min(connections, connect_rate x gap) x 6 + connections x
//             (messages + pings per second) x gap x 4
//   per CPU = ceil(packets / cpus) (a loopback packet waits on the CPU that
//             sends it; shards spread connections evenly)
// For a remote target the need is the floor: a NIC's NAPI poll delivers
// without this queue (unless RPS steers packets through it).
backlog_need netdev_backlog_need(const plan_needs& needs);

// The numbers behind the checks; `horde run` uses them to size shards and
// source addresses, so the preflight and the engine agree.
struct plan_sizing {
  bool port_range_known = false;
  port_span port_range;                  // the range horde binds from
  bool port_range_is_kernel = false;     // taken from ip_local_port_range
  uint64_t reserved_in_range = 0;        // ip_local_reserved_ports inside the range
  uint64_t listening_in_range = 0;       // plan_needs::avoided_ports inside the range, not reserved
  uint64_t excluded_in_range = 0;        // plan_needs::excluded_ports inside the range, neither
  uint64_t ports_per_pair = 0;           // range - reserved - listening - excluded
  uint64_t port_capacity = 0;            // ports_per_pair x sources x targets
  uint32_t source_addresses_needed = 0;  // ceil(connections / (ports_per_pair x targets))
  // RLIMIT_NOFILE soft once raised to hard (hard up to fs.nr_open with CAP_SYS_RESOURCE).
  uint64_t fd_limit_after_raise = 0;
  uint64_t ring_file_slots = 0;  // min(fd_limit_after_raise, 1048576): one ring's table
  uint32_t shards = 1;           // max(cpus, ceil(connections / ring_file_slots))
  uint64_t sockets_on_host = 0;  // connections, x2 when the target runs here too
  uint64_t kernel_bytes = 0;     // sockets_on_host x (4300 + message_bytes when sending)
  uint64_t user_bytes = 0;       // connections x (4096 + 20 KiB with TLS): horde's own
};

enum class verdict { ok, adapted, warn, fail };

struct check_line {
  std::string knob;     // "net.ipv4.ip_local_port_range", "RLIMIT_NOFILE", "MemAvailable"
  std::string current;  // what is in force
  std::string needed;   // what the plan needs
  std::string formula;  // how `needed` was computed, in words and arithmetic
  sysctl::verdict verdict = sysctl::verdict::ok;
  std::string fix;   // the exact command(s); empty when nothing is to be done
  std::string note;  // why it matters, or how horde adapted
  // For apply_fixes and sysctl_conf_text: the knob under /proc/sys
  // ("net/core/somaxconn", empty when it is not a sysctl) and the value that
  // would fix it ("4096", "1025 65535"; for RLIMIT_NOFILE the limit to set).
  std::string proc_sys_path;
  std::string raise_to;
};

const char* verdict_name(verdict v) noexcept;  // "ok", "adapted", "warn", "FAIL"

// The sysctl name of a /proc/sys path: "net/core/somaxconn" -> "net.core.somaxconn".
std::string sysctl_name(const std::string& proc_sys_path);

plan_sizing size_plan(const plan_needs& needs, const kernel_limits& limits);

// One line per knob, in a fixed order: ports, descriptors, memory, queues,
// TIME_WAIT, conntrack, memlock, THP.
std::vector<check_line> plan_checks(const plan_needs& needs, const kernel_limits& limits);

// True when no line fails (adapted and warn lines still let a run start).
bool plan_fits(const std::vector<check_line>& lines);

}  // namespace horde::sysctl

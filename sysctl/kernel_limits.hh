// Every kernel and process limit that caps a connection generator, read from
// a root directory ("/" in production; tests lay out a fake /proc and /sys).
// Even the process limits come from <root>/proc/self/limits and CapEff in
// <root>/proc/self/status rather than getrlimit/capget, so a test can fake
// "20,000 and not raisable". A knob whose file is absent is nullopt: a module
// not loaded (conntrack) or a kernel built without it (THP) is normal.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace horde::sysctl {

// An RLIMIT value as /proc/self/limits prints it; "unlimited" is UINT64_MAX.
inline constexpr uint64_t unlimited = UINT64_MAX;

struct rlimit_pair {
  uint64_t soft = 0;
  uint64_t hard = 0;
};

// An inclusive port range, as ip_local_port_range and ip_local_reserved_ports hold them.
struct port_span {
  uint32_t low = 0;
  uint32_t high = 0;
  friend bool operator==(const port_span&, const port_span&) = default;
};

struct kernel_limits {
  rlimit_pair nofile;                           // RLIMIT_NOFILE
  bool can_raise_hard = false;                  // CAP_SYS_RESOURCE in CapEff (bit 24)
  std::optional<uint64_t> nr_open;              // fs.nr_open: the ceiling of any RLIMIT_NOFILE
  std::optional<uint64_t> file_max;             // fs.file-max: struct files on the host
  std::optional<uint64_t> files_in_use;         // fs.file-nr, first field
  std::optional<port_span> local_port_range;    // net.ipv4.ip_local_port_range
  std::vector<port_span> reserved_ports;        // net.ipv4.ip_local_reserved_ports
  std::optional<uint64_t> somaxconn;            // net.core.somaxconn
  std::optional<uint64_t> tcp_max_syn_backlog;  // net.ipv4.tcp_max_syn_backlog
  std::optional<uint64_t> tcp_tw_reuse;         // 0 off, 1 on, 2 loopback only
  std::optional<uint64_t> tcp_max_tw_buckets;
  std::optional<uint64_t> tcp_max_orphans;
  std::optional<std::array<uint64_t, 3>> tcp_mem;   // pages: low, pressure, high
  std::optional<std::array<uint64_t, 3>> tcp_rmem;  // bytes: min, default, max
  std::optional<std::array<uint64_t, 3>> tcp_wmem;  // bytes: min, default, max
  std::optional<uint64_t> netdev_max_backlog;       // net.core.netdev_max_backlog
  std::optional<uint64_t> nf_conntrack_max;         // absent when conntrack is not loaded
  std::optional<uint64_t> nf_conntrack_count;
  std::optional<uint64_t> max_map_count;      // vm.max_map_count
  rlimit_pair memlock;                        // RLIMIT_MEMLOCK, bytes
  std::optional<std::string> thp_mode;        // "always", "madvise" or "never"
  std::optional<uint64_t> mem_available;      // bytes, MemAvailable in /proc/meminfo
  std::optional<std::string> kernel_release;  // kernel.osrelease, e.g. "6.18.44"
  uint64_t page_size = 4096;                  // sysconf: the same for every root on one machine
};

// Reads every limit under root. Fails only when <root>/proc/self/limits is
// unreadable or a file that is present does not parse; the error names the file.
result<kernel_limits> read_kernel_limits(const std::string& root);

// "8080,9000-9010" (ip_local_reserved_ports; empty means none) as spans.
result<std::vector<port_span>> parse_port_list(std::string_view text);

// How many ports of [low, high] the spans cover, overlaps counted once.
uint64_t ports_within(const std::vector<port_span>& spans, uint32_t low, uint32_t high);

// The bracketed word of a sysfs choice list: "always [madvise] never" -> "madvise".
std::optional<std::string> bracketed_choice(std::string_view text);

}  // namespace horde::sysctl

// The host beside the target, read under a root directory ("/" in
// production): CPU time by kind (/proc/stat), memory available
// (/proc/meminfo) and loopback traffic (/proc/net/dev). I/O-free parsers
// that never throw; bad text is nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace horde::sysctl {

// The "cpu " line of /proc/stat: every CPU's time in clock ticks.
struct host_cpu_ticks {
  uint64_t user = 0;  // user + nice (guest time is inside user already)
  uint64_t system = 0;
  uint64_t softirq = 0;
  uint64_t total = 0;  // user nice system idle iowait irq softirq steal
};
std::optional<host_cpu_ticks> parse_host_cpu(std::string_view proc_stat) noexcept;

// Shares (0..1) of all CPUs' time between two readings; 0 when no time passed.
struct host_cpu_shares {
  double user = 0, system = 0, softirq = 0;
};
host_cpu_shares shares_between(const host_cpu_ticks& before, const host_cpu_ticks& after) noexcept;

// An interface's received and sent bytes in /proc/net/dev ("  lo: 123 ...").
struct interface_bytes {
  uint64_t received = 0;
  uint64_t sent = 0;
};
std::optional<interface_bytes> parse_interface_bytes(std::string_view proc_net_dev,
                                                     std::string_view interface) noexcept;

struct host_sample {
  std::optional<host_cpu_ticks> cpu;
  std::optional<uint64_t> memory_available_bytes;
  std::optional<interface_bytes> loopback;
};

// <root>/proc/stat, proc/meminfo (MemAvailable) and proc/net/dev (lo); each
// figure absent when its file is.
host_sample read_host_sample(const std::string& root);

}  // namespace horde::sysctl

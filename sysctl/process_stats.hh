// What a target process and a cgroup cost, read under a root directory ("/"
// in production, a fake /proc in tests): CPU ticks, resident memory, threads
// and open descriptors. The parsers are I/O-free and never throw: bad text
// is nullopt. Sampled once a second by `horde run --target-pid` /
// `--target-cgroup` (app/target_watch.hh).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace horde::sysctl {

// The fields of /proc/PID/stat horde uses (proc(5)): one file holds CPU,
// threads and RSS, so a sample is one read. Its rss is the counter VmRSS
// prints (get_mm_rss), in pages.
struct process_stat {
  uint64_t utime_ticks = 0;  // field 14, in clock ticks (sysconf(_SC_CLK_TCK))
  uint64_t stime_ticks = 0;  // field 15
  uint64_t threads = 0;      // field 20
  uint64_t rss_pages = 0;    // field 24
};

// "PID (comm) S ..."; the command may hold spaces and parentheses, so the
// fields count from the *last* ')'. nullopt when a field is missing or not a
// number, or when rss ends the text (every kernel prints more after it: a
// text that stops there may be cut short).
std::optional<process_stat> parse_process_stat(std::string_view text) noexcept;

// A "Key:   value [kB]" line of /proc/PID/status or /proc/meminfo, in the
// unit shown (kB stays kB); nullopt when absent or not a number.
std::optional<uint64_t> status_value(std::string_view text, std::string_view key) noexcept;

struct process_sample {
  uint64_t rss_bytes = 0;
  double cpu_user_seconds = 0;  // since the process started
  double cpu_system_seconds = 0;
  uint64_t threads = 0;
  std::optional<uint64_t> fds;  // when counted this time
};

// <root>/proc/<pid>/stat as a sample; nullopt when the process is gone.
// `ticks_per_second` and `page_bytes` are sysconf's (tests pass their own).
std::optional<process_sample> read_process_sample(const std::string& root, int pid,
                                                  uint64_t ticks_per_second, uint64_t page_bytes);

// Open descriptors of <root>/proc/<pid>/fd. Since Linux 6.2 stat() of that
// directory gives the count as its size, from the fd bitmap (no walk); an
// older kernel gives 0 and the entries are counted, which costs about a
// microsecond per descriptor. nullopt when the directory cannot be read
// (the process is gone, or another user's).
struct fd_count {
  uint64_t fds = 0;
  bool walked = false;  // counted entry by entry: expensive for big tables
};
std::optional<fd_count> count_process_fds(const std::string& root, int pid);

// A cgroup v2 directory's memory.current, cpu.stat (user_usec, system_usec)
// and pids.current; a file the controller lacks leaves its figure 0.
struct cgroup_sample {
  uint64_t memory_bytes = 0;
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  uint64_t pids = 0;
};

// "usage_usec 123\nuser_usec 100\nsystem_usec 23\n..." (cpu.stat).
std::optional<uint64_t> flat_keyed_value(std::string_view text, std::string_view key) noexcept;

// nullopt when the directory has none of the three files (not a cgroup v2
// directory, or gone).
std::optional<cgroup_sample> read_cgroup_sample(const std::string& directory);

}  // namespace horde::sysctl

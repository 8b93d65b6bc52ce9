// The planner's formulas. Each check_* function owns one knob: it states the
// need in the plan's own numbers, compares it with what is in force and names
// the fix. Numbers for people carry thousands separators; numbers inside
// commands never do, so a fix can be pasted as is.
#include "sysctl/planner.hh"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <utility>

namespace horde::sysctl {
namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) {
  return b == 0 ? 0 : a / b + (a % b != 0);
}

uint64_t pow2_at_least(uint64_t n) {
  uint64_t p = 1;
  while (p < n && p < (uint64_t(1) << 62))
    p <<= 1;
  return p;
}

// 100000 -> "100,000"
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string limit_text(uint64_t n) {
  return n == unlimited ? "unlimited" : grouped(n);
}

// 860000000 -> "820.2 MiB"
std::string bytes_text(uint64_t n) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = double(n);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  }
  return text;
}

std::string triple_text(const std::array<uint64_t, 3>& v) {
  return std::to_string(v[0]) + " " + std::to_string(v[1]) + " " + std::to_string(v[2]);
}

std::string joined(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// "1 port", "2 ports"; words ending in s take "es" ("2 addresses").
std::string plural(uint64_t n, const std::string& word) {
  if (n == 1) return "1 " + word;
  return grouped(n) + " " + word + (word.back() == 's' ? "es" : "s");
}

// "sysctl -w net.core.somaxconn=4096", quoting values with spaces.
std::string sysctl_command(const std::string& proc_sys_path, const std::string& value) {
  const bool quote = value.find(' ') != std::string::npos;
  return "sysctl -w " + sysctl_name(proc_sys_path) + "=" + (quote ? "\"" : "") + value +
         (quote ? "\"" : "");
}

check_line unreadable(std::string knob, const std::string& proc_sys_path) {
  check_line line;
  line.knob = std::move(knob);
  line.current = "unreadable";
  line.needed = "?";
  line.formula = "-";
  line.verdict = verdict::warn;
  line.note = "could not read /proc/sys/" + proc_sys_path + "; the plan cannot be checked here";
  return line;
}

// A scalar sysctl that must be at least `needed`; `level` is the verdict when short.
check_line at_least(const std::string& proc_sys_path, const std::optional<uint64_t>& current,
                    uint64_t needed, std::string formula, verdict level, uint64_t suggested) {
  if (!current) return unreadable(sysctl_name(proc_sys_path), proc_sys_path);
  check_line line;
  line.knob = sysctl_name(proc_sys_path);
  line.current = grouped(*current);
  line.needed = grouped(needed);
  line.formula = std::move(formula);
  if (*current < needed) {
    line.verdict = level;
    line.proc_sys_path = proc_sys_path;
    line.raise_to = std::to_string(std::max(suggested, needed));
    line.fix = sysctl_command(proc_sys_path, line.raise_to);
  }
  return line;
}

// "a-b" of loopback addresses, for the example in a --source-ips fix.
std::string loopback_range(uint64_t count) {
  if (count <= 1) return "127.0.0.1";
  if (count <= 254) return "127.0.0.1-127.0.0." + std::to_string(count);
  return "127.0.0.1-127.0." + std::to_string(count / 254) + "." + std::to_string(count % 254 + 1);
}

void add_ports(std::vector<port_span>& spans, const std::vector<uint16_t>& ports) {
  for (uint16_t port : ports)
    spans.push_back({port, port});
}

// Every port horde may not take: reserved, avoided (listening) and excluded.
std::vector<port_span> unavailable_spans(const plan_needs& needs, const kernel_limits& limits) {
  std::vector<port_span> spans = limits.reserved_ports;
  add_ports(spans, needs.avoided_ports);
  add_ports(spans, needs.excluded_ports);
  return spans;
}

check_line check_ports(const plan_needs& needs, const kernel_limits& limits,
                       const plan_sizing& size) {
  const std::string path = "net/ipv4/ip_local_port_range";
  const std::string knob = size.port_range_is_kernel ? sysctl_name(path) : "--ports";
  if (!size.port_range_known) return unreadable(knob, path);
  check_line line;
  line.knob = knob;
  const port_span range = size.port_range;
  line.current = std::to_string(range.low) + "-" + std::to_string(range.high) + ": " +
                 plural(size.ports_per_pair, "port") + " x " +
                 plural(needs.source_addresses, "source") + " x " +
                 plural(needs.targets, "target") + " = " + grouped(size.port_capacity);
  line.needed = grouped(needs.connections);
  // "listening" appears once the caller looked for listeners (ports_to_avoid).
  const std::string listening =
      needs.avoided_ports.empty() ? "" : grouped(size.listening_in_range) + " listening - ";
  line.formula = "(" + std::to_string(range.high) + " - " + std::to_string(range.low) + " + 1 - " +
                 grouped(size.reserved_in_range) + " reserved - " + listening +
                 grouped(size.excluded_in_range) + " excluded) x " +
                 plural(needs.source_addresses, "source") + " x " +
                 plural(needs.targets, "target") + " = " + grouped(size.port_capacity) +
                 "; a (source address, port) pair carries one connection per target";
  line.note =
      "horde binds each port itself: the kernel's own port search slows 30-40x past half a range";
  if (size.port_capacity >= needs.connections) return line;

  line.verdict = verdict::fail;
  const uint64_t wide = 65535 - 1025 + 1;
  const bool can_widen = range.low > 1025 || range.high < 65535;
  std::string addresses;
  if (size.ports_per_pair == 0) {
    addresses = "the range holds no usable port";
  } else {
    const uint64_t n = size.source_addresses_needed;
    addresses = "--source-ips with " + plural(n, "address") +
                (needs.target_on_this_host ? " (e.g. " + loopback_range(n) + ")" : "") + ": ceil(" +
                grouped(needs.connections) + " / (" + grouped(size.ports_per_pair) + " x " +
                grouped(needs.targets) + ")) = " + grouped(n);
  }
  line.fix = addresses;
  if (can_widen) {
    // Reserved, listening and excluded ports stay out of a widened range too.
    const uint64_t lost = ports_within(unavailable_spans(needs, limits), 1025, 65535);
    const uint64_t wide_ports = wide > lost ? wide - lost : 0;
    const uint64_t wide_sources = ceil_div(needs.connections, wide_ports * needs.targets);
    const std::string widen =
        size.port_range_is_kernel ? sysctl_command(path, "1025 65535") : "--ports 1025-65535";
    line.fix += "; or " + widen + " (" + grouped(wide_ports) +
                " ports: " + plural(wide_sources, "address") + ")";
    if (size.port_range_is_kernel) {
      line.proc_sys_path = path;
      line.raise_to = "1025 65535";
      line.note +=
          "; a widened kernel range reaches listening ports: add services' ports "
          "(the target's too) to net.ipv4.ip_local_reserved_ports";
    }
  }
  return line;
}

check_line check_nofile(const plan_needs& needs, const kernel_limits& limits,
                        const plan_sizing& size) {
  const uint32_t cpus = std::max<uint32_t>(needs.cpus, 1);
  check_line line;
  line.knob = "RLIMIT_NOFILE";
  line.current = "soft " + limit_text(limits.nofile.soft) + ", hard " +
                 limit_text(limits.nofile.hard) +
                 (limits.can_raise_hard ? " (CAP_SYS_RESOURCE: hard may rise to fs.nr_open)"
                                        : " (no CAP_SYS_RESOURCE: hard is fixed)");
  const uint64_t per_ring = ceil_div(needs.connections, cpus);
  line.needed = grouped(per_ring) + " per ring (" + grouped(needs.connections) + " / " +
                plural(cpus, "CPU") + ")";
  line.formula = "ring table = min(" + grouped(size.fd_limit_after_raise) + ", " +
                 grouped(max_ring_file_slots) + ") = " + grouped(size.ring_file_slots) +
                 "; shards = max(" + grouped(cpus) + " CPUs, ceil(" + grouped(needs.connections) +
                 " / " + grouped(size.ring_file_slots) + ")) = " + grouped(size.shards);
  std::vector<std::string> notes;
  if (limits.nofile.soft < size.fd_limit_after_raise) {
    notes.push_back("soft is raised to " + grouped(size.fd_limit_after_raise) + " at start");
  }
  if (size.shards > cpus) {
    line.verdict = verdict::adapted;
    notes.push_back(
        "io_uring direct descriptors do not use the fd table, but each ring's registered "
        "table holds at most min(RLIMIT_NOFILE soft, 1,048,576) = " +
        grouped(size.ring_file_slots) + " sockets, so horde runs " + plural(size.shards, "shard") +
        " (one ring each) on " + plural(cpus, "CPU") +
        ": shards = max(cpus, ceil(connections / table)) = max(" + grouped(cpus) + ", ceil(" +
        grouped(needs.connections) + " / " + grouped(size.ring_file_slots) +
        ")) = " + grouped(size.shards));
    // The usual 1,048,576 (no ring uses more), unless fs.nr_open is lower
    // and still enough: `ulimit -n` past fs.nr_open fails.
    uint64_t want = max_ring_file_slots;
    if (limits.nr_open && *limits.nr_open >= per_ring) want = std::min(want, *limits.nr_open);
    const std::string n = std::to_string(want);
    line.raise_to = n;
    line.fix = "as root: ulimit -Hn " + n + "; ulimit -n " + n + "; or LimitNOFILE=" + n +
               " in the systemd unit; or '* - nofile " + n + "' in /etc/security/limits.conf";
  }
  if (needs.target_on_this_host) {
    notes.push_back("the target process needs its own limit >= " + grouped(needs.connections) +
                    " plus its files");
  }
  line.note = joined(notes, "; ");
  return line;
}

check_line check_nr_open(const plan_needs& needs, const kernel_limits& limits) {
  const uint32_t cpus = std::max<uint32_t>(needs.cpus, 1);
  // fs.nr_open caps any one process's RLIMIT_NOFILE. horde wants one ring's
  // share; a target on this host holds one ordinary fd per connection (+64
  // for its own files) in one process.
  const uint64_t horde_need = std::min(ceil_div(needs.connections, cpus), max_ring_file_slots);
  const uint64_t target_need = needs.target_on_this_host ? needs.connections + 64 : 0;
  const uint64_t needed = std::max(horde_need, target_need);
  std::string formula = "max(horde: min(ceil(" + grouped(needs.connections) + " / " +
                        grouped(cpus) + "), 1,048,576) = " + grouped(horde_need);
  if (needs.target_on_this_host) {
    formula += ", target: " + grouped(needs.connections) + " + 64 = " + grouped(target_need);
  }
  formula += ")";
  check_line line = at_least("fs/nr_open", limits.nr_open, needed, std::move(formula),
                             verdict::warn, std::max<uint64_t>(pow2_at_least(needed), 1048576));
  line.note = "the ceiling of every process's RLIMIT_NOFILE";
  return line;
}

check_line check_file_max(const plan_needs& needs, const kernel_limits& limits,
                          const plan_sizing& size) {
  const uint64_t in_use = limits.files_in_use.value_or(0);
  const uint64_t needed = in_use + size.sockets_on_host;
  std::string formula =
      grouped(in_use) + " open now + " + grouped(needs.connections) + " horde sockets";
  if (needs.target_on_this_host) formula += " + " + grouped(needs.connections) + " target sockets";
  check_line line = at_least("fs/file-max", limits.file_max, needed, std::move(formula),
                             verdict::fail, pow2_at_least(needed));
  line.note =
      "every socket is a struct file, direct descriptors too; past it socket() fails "
      "with ENFILE";
  return line;
}

check_line check_tcp_mem(const plan_needs& needs, const kernel_limits& limits,
                         const plan_sizing& size) {
  const std::string path = "net/ipv4/tcp_mem";
  if (!limits.tcp_mem) return unreadable(sysctl_name(path), path);
  const auto& mem = *limits.tcp_mem;
  const uint64_t page = std::max<uint64_t>(limits.page_size, 1);
  const uint64_t needed_pages = ceil_div(size.kernel_bytes, page);
  const bool sending = needs.messages_per_second_per_connection > 0;
  check_line line;
  line.knob = sysctl_name(path);
  line.current = triple_text(mem) + " pages (pressure " + bytes_text(mem[1] * page) + ", high " +
                 bytes_text(mem[2] * page) + ")";
  line.needed = grouped(needed_pages) + " pages (" + bytes_text(size.kernel_bytes) + ")";
  line.formula = grouped(needs.connections) + " connections x " +
                 (needs.target_on_this_host ? "2 ends x " : "1 end x ") +
                 (sending ? "(4,300 B + " + grouped(needs.message_bytes) + " B buffered)"
                          : std::string("4,300 B")) +
                 " = " + grouped(size.kernel_bytes) + " B / " + grouped(page) + " B pages";
  line.note =
      "counting each socket's whole kernel footprint against TCP's buffer budget is "
      "conservative: idle sockets hold few buffer pages; past pressure TCP trims "
      "buffers, past high it drops";
  if (needed_pages <= mem[1]) return line;
  line.verdict = needed_pages > mem[2] ? verdict::fail : verdict::warn;
  const std::array<uint64_t, 3> raised = {mem[0], std::max(mem[1], needed_pages),
                                          std::max(mem[2], needed_pages + needed_pages / 2)};
  line.proc_sys_path = path;
  line.raise_to = triple_text(raised);
  line.fix = sysctl_command(path, line.raise_to);
  return line;
}

check_line check_mem_available(const plan_needs& needs, const kernel_limits& limits,
                               const plan_sizing& size) {
  if (!limits.mem_available) {
    check_line line = unreadable("MemAvailable", "");
    line.note = "could not read MemAvailable in /proc/meminfo";
    return line;
  }
  const uint64_t needed = size.kernel_bytes + size.user_bytes;
  check_line line;
  line.knob = "MemAvailable";
  line.current = bytes_text(*limits.mem_available);
  line.needed = bytes_text(needed);
  line.formula = "kernel " + bytes_text(size.kernel_bytes) + " (tcp_mem line) + horde " +
                 grouped(needs.connections) + " x (4,096 B" + (needs.tls ? " + 20 KiB TLS" : "") +
                 ") = " + bytes_text(needed);
  if (needs.target_on_this_host) line.note = "the target process's own memory is not counted";
  if (needed > *limits.mem_available) {
    line.verdict = verdict::fail;
  } else if (needed > *limits.mem_available / 10 * 8) {
    // Past 80% the page cache is gone and the OOM killer is one spike away.
    line.verdict = verdict::warn;
  }
  if (line.verdict != verdict::ok) {
    line.fix = "fewer connections per host: split the plan across hosts, or free memory";
  }
  return line;
}

// somaxconn and tcp_max_syn_backlog bound the target's accept and SYN queues.
check_line check_listen_queue(const plan_needs& needs, const std::string& path,
                              const std::optional<uint64_t>& current) {
  constexpr uint64_t wanted = 4096;
  if (!needs.target_on_this_host) {
    check_line line;
    line.knob = sysctl_name(path);
    line.current = current ? grouped(*current) : "unreadable";
    line.needed = "-";
    line.formula = "the target listens on another host";
    line.note = "set it to >= 4,096 on the target's host";
    return line;
  }
  check_line line =
      at_least(path, current, wanted, "4,096 for a target on this host", verdict::warn, wanted);
  line.note =
      "a full queue drops SYNs and the client retransmits after ~1 s: connect times "
      "jump in 1 s steps";
  return line;
}

check_line check_tw_reuse(const plan_needs& needs, const kernel_limits& limits) {
  const std::string path = "net/ipv4/tcp_tw_reuse";
  if (!limits.tcp_tw_reuse) return unreadable(sysctl_name(path), path);
  const uint64_t value = *limits.tcp_tw_reuse;
  // 1 reuses TIME_WAIT 4-tuples for every connect, 2 (the default) for loopback only.
  const bool covered = value == 1 || (value == 2 && needs.target_on_this_host);
  check_line line;
  line.knob = sysctl_name(path);
  line.current = std::to_string(value) + (value == 0   ? " (off)"
                                          : value == 1 ? " (on)"
                                          : value == 2 ? " (loopback only)"
                                                       : "");
  line.needed = needs.target_on_this_host ? "1 or 2" : "1";
  line.formula = needs.target_on_this_host ? "connections over loopback: 2 covers them"
                                           : "connections leave this host: only 1 covers them";
  line.note =
      "a rerun or reconnect within 60 s meets its own ports in TIME_WAIT; horde sets "
      "SO_REUSEADDR, the kernel must still allow the reuse";
  if (!covered) {
    line.verdict = verdict::warn;
    line.proc_sys_path = path;
    line.raise_to = "1";
    line.fix = sysctl_command(path, "1");
  }
  return line;
}

check_line check_conntrack(const plan_needs& needs, const kernel_limits& limits) {
  const std::string path = "net/netfilter/nf_conntrack_max";
  check_line line;
  line.knob = sysctl_name(path);
  if (!limits.nf_conntrack_max) {
    line.current = "absent";
    line.needed = "-";
    line.formula = "nf_conntrack is not loaded: nothing is tracked";
    return line;
  }
  const uint64_t count = limits.nf_conntrack_count.value_or(0);
  // One entry per connection; closed ones linger 120 s in TIME_WAIT, so a
  // reconnect or rerun doubles the need.
  const uint64_t needed = count + 2 * needs.connections;
  const std::string formula = grouped(count) + " tracked now + 2 x " + grouped(needs.connections) +
                              " connections (closed ones linger "
                              "120 s)";
  const bool counting = !limits.nf_conntrack_count || count > 0;
  if (!counting) {
    line.current = grouped(*limits.nf_conntrack_max) + " (count 0)";
    line.needed = grouped(needed) + " if a ruleset loads";
    line.formula = formula;
    line.note = "conntrack is present but tracks nothing (no firewall ruleset)";
    if (*limits.nf_conntrack_max < needed) {
      line.note += "; if one loads: " + sysctl_command(path, std::to_string(pow2_at_least(needed)));
    }
    return line;
  }
  line = at_least(path, limits.nf_conntrack_max, needed, formula, verdict::fail,
                  pow2_at_least(needed));
  line.current += " (count " + grouped(count) + ")";
  line.note = "a full table drops new connections' packets ('nf_conntrack: table full')";
  return line;
}

check_line check_buffer_max(const plan_needs& needs, const std::string& path,
                            const std::optional<std::array<uint64_t, 3>>& current) {
  if (!current) return unreadable(sysctl_name(path), path);
  const auto& v = *current;
  check_line line;
  line.knob = sysctl_name(path);
  line.current = triple_text(v) + " B";
  const bool sending = needs.messages_per_second_per_connection > 0;
  // A WebSocket frame header is at most 14 bytes.
  const uint64_t needed = sending ? needs.message_bytes + 14 : 0;
  line.needed = sending ? "max >= " + grouped(needed) : "-";
  line.formula = sending ? "one message of " + grouped(needs.message_bytes) + " B + 14 B header"
                         : "no messages in the plan";
  if (sending && v[2] < needed) {
    line.verdict = verdict::warn;
    line.note = "a message larger than the buffer cap needs several round trips to move";
    const std::array<uint64_t, 3> raised = {v[0], v[1], pow2_at_least(needed)};
    line.proc_sys_path = path;
    line.raise_to = triple_text(raised);
    line.fix = sysctl_command(path, line.raise_to);
  }
  return line;
}

check_line check_netdev_backlog(const plan_needs& needs, const kernel_limits& limits) {
  const std::string path = "net/core/netdev_max_backlog";
  const backlog_need need = netdev_backlog_need(needs);
  check_line line = at_least(path, limits.netdev_max_backlog, need.needed, need.formula,
                             verdict::warn, need.needed);
  if (!limits.netdev_max_backlog) return line;
  if (!need.on_loopback) {
    line.note =
        "the NIC's NAPI poll delivers without this queue (RPS aside); on the target's "
        "host, if it is loopback-heavy, size it there";
    return line;
  }
  line.note =
      "every loopback packet waits in the sending CPU's queue until its softirq drains it, "
      "64 per poll (net.core.dev_weight); a full queue drops it: a lost SYN returns 1 s later, "
      "a lost segment 200 ms or more later (column 2 of /proc/net/softnet_stat counts drops)";
  if (need.capped) {
    line.note += "; the plan sends more than " + grouped(netdev_backlog_cap) +
                 " packets per CPU per gap: lower --connect-rate or spread the load";
  }
  return line;
}

check_line check_max_map_count(const kernel_limits& limits, const plan_sizing& size) {
  // mimalloc maps 32 MiB segments, each shard thread a stack and a guard;
  // 1,024 covers libraries and everything else.
  const uint64_t segments = ceil_div(size.user_bytes, uint64_t(32) << 20);
  const uint64_t needed = 1024 + 2 * uint64_t(size.shards) + 2 * segments;
  check_line line = at_least("vm/max_map_count", limits.max_map_count, needed,
                             "1,024 + 2 x " + plural(size.shards, "shard") + " + 2 x " +
                                 grouped(segments) + " heap segments of 32 MiB",
                             verdict::warn, 65530);
  return line;
}

// "6.18.44-fc" -> {6, 18}; {0, 0} when unparsable.
std::pair<unsigned, unsigned> kernel_version(const std::optional<std::string>& release) {
  unsigned major = 0, minor = 0;
  if (release && std::sscanf(release->c_str(), "%u.%u", &major, &minor) == 2) {
    return {major, minor};
  }
  return {0, 0};
}

check_line check_memlock(const kernel_limits& limits, const plan_sizing& size) {
  check_line line;
  line.knob = "RLIMIT_MEMLOCK";
  line.current = "soft " +
                 (limits.memlock.soft == unlimited ? std::string("unlimited")
                                                   : bytes_text(limits.memlock.soft)) +
                 ", hard " +
                 (limits.memlock.hard == unlimited ? std::string("unlimited")
                                                   : bytes_text(limits.memlock.hard));
  const auto version = kernel_version(limits.kernel_release);
  const bool before_5_12 = version.first != 0 && version < std::pair<unsigned, unsigned>{5, 12};
  // A ring with a 65,536-entry CQ plus its buffer ring: about 4 MiB per shard.
  const uint64_t needed = uint64_t(size.shards) * (uint64_t(4) << 20);
  if (!before_5_12) {
    line.needed = "-";
    line.formula = "io_uring memory is charged to the memory cgroup";
    line.note =
        "since kernel 5.12 io_uring rings and buffer rings are accounted to the "
        "memory cgroup, not RLIMIT_MEMLOCK";
    return line;
  }
  line.needed = bytes_text(needed);
  line.formula = plural(size.shards, "shard") + " x 4 MiB of ring and buffer ring";
  line.note = "before kernel 5.12 io_uring pins its rings against RLIMIT_MEMLOCK";
  if (limits.memlock.soft < needed) {
    line.verdict = verdict::warn;
    line.fix = "as root: ulimit -l unlimited; or LimitMEMLOCK=infinity in the systemd unit";
  }
  return line;
}

check_line check_thp(const kernel_limits& limits) {
  check_line line;
  line.knob = "transparent_hugepage";
  line.current = limits.thp_mode.value_or("absent");
  line.needed = "madvise or never";
  line.formula = "2 MiB pages under small per-connection allocations";
  if (limits.thp_mode && *limits.thp_mode == "always") {
    line.verdict = verdict::warn;
    line.note =
        "'always' inflates RSS per connection and khugepaged compaction adds latency "
        "spikes";
    line.fix = "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled";
  }
  return line;
}

}  // namespace

const char* verdict_name(verdict v) noexcept {
  switch (v) {
    case verdict::ok:
      return "ok";
    case verdict::adapted:
      return "adapted";
    case verdict::warn:
      return "warn";
    case verdict::fail:
      return "FAIL";
  }
  return "?";
}

std::string sysctl_name(const std::string& proc_sys_path) {
  std::string name = proc_sys_path;
  std::replace(name.begin(), name.end(), '/', '.');
  return name;
}

backlog_need netdev_backlog_need(const plan_needs& needs) {
  backlog_need need;
  need.on_loopback = needs.target_on_this_host;
  if (!need.on_loopback) {
    need.needed = netdev_backlog_floor;
    need.formula =
        "the target is on another host: received packets skip this queue; the kernel's "
        "1,000";
    return need;
  }
  const uint32_t cpus = std::max<uint32_t>(needs.cpus, 1);
  const double gap_s = double(netdev_softirq_gap_ms) / 1000;
  const bool unlimited = !(needs.connect_rate > 0);
  const double rate = unlimited ? netdev_unlimited_connect_rate : needs.connect_rate;
  const uint64_t connects = std::min<uint64_t>(needs.connections, uint64_t(rate * gap_s + 0.5));
  const double per_connection = std::max(needs.messages_per_second_per_connection, 0.0) +
                                std::max(needs.pings_per_second_per_connection, 0.0);
  const uint64_t round_trips = uint64_t(double(needs.connections) * per_connection * gap_s + 0.5);
  const uint64_t packets =
      connects * netdev_packets_per_connect + round_trips * netdev_packets_per_round_trip;
  need.packets_per_cpu = ceil_div(packets, cpus);
  if (need.packets_per_cpu <= netdev_backlog_floor) {
    need.needed = netdev_backlog_floor;
  } else {
    need.needed = std::min(pow2_at_least(need.packets_per_cpu), netdev_backlog_cap);
    need.capped = need.packets_per_cpu > netdev_backlog_cap;
  }
  char rate_text[64], per_text[64];
  std::snprintf(rate_text, sizeof rate_text, "%s/s%s", grouped(uint64_t(rate + 0.5)).c_str(),
                unlimited ? " (unlimited, as fast as seen)" : "");
  std::snprintf(per_text, sizeof per_text, "%g/s", per_connection);
  const std::string gap = std::to_string(netdev_softirq_gap_ms) + " ms";
  need.formula = "in a " + gap + " softirq gap: (min(" + grouped(needs.connections) +
                 " connections, " + rate_text + " x " + gap + ") = " + grouped(connects) +
                 " connects x 6 packets + " + grouped(needs.connections) + " x " + per_text +
                 " x " + gap + " = " + grouped(round_trips) + " round trips x 4 packets) / " +
                 plural(cpus, "CPU") + " = " + grouped(need.packets_per_cpu) +
                 " per CPU; power of two, at least 1,000, at most 65,536";
  return need;
}

plan_sizing size_plan(const plan_needs& needs, const kernel_limits& limits) {
  plan_sizing size;
  const uint32_t cpus = std::max<uint32_t>(needs.cpus, 1);

  if (needs.port_low != 0 || needs.port_high != 0) {
    size.port_range_known = needs.port_low <= needs.port_high && needs.port_high <= 65535;
    size.port_range = {needs.port_low, needs.port_high};
  } else {
    size.port_range_is_kernel = true;
    size.port_range_known = limits.local_port_range.has_value();
    if (limits.local_port_range) size.port_range = *limits.local_port_range;
  }
  if (size.port_range_known) {
    const port_span range = size.port_range;
    // The kernel keeps only its own automatic choices out of reserved ports;
    // horde binds explicitly but stays out too: someone reserved them.
    size.reserved_in_range = ports_within(limits.reserved_ports, range.low, range.high);
    // A port in several lists costs one port: count each list's union with
    // the ones before it (reserved, then listening, then excluded).
    std::vector<port_span> so_far = limits.reserved_ports;
    add_ports(so_far, needs.avoided_ports);
    const uint64_t reserved_or_listening = ports_within(so_far, range.low, range.high);
    size.listening_in_range = reserved_or_listening - size.reserved_in_range;
    const uint64_t lost = ports_within(unavailable_spans(needs, limits), range.low, range.high);
    size.excluded_in_range = lost - reserved_or_listening;
    const uint64_t range_size = uint64_t(range.high) - range.low + 1;
    size.ports_per_pair = range_size > lost ? range_size - lost : 0;
    size.port_capacity = size.ports_per_pair * needs.source_addresses * needs.targets;
    const uint64_t per_address = size.ports_per_pair * needs.targets;
    size.source_addresses_needed =
        per_address == 0
            ? 0
            : uint32_t(std::max<uint64_t>(ceil_div(needs.connections, per_address), 1));
  }

  // RLIMIT_NOFILE: soft may always rise to hard; with CAP_SYS_RESOURCE hard
  // may rise too, and no ring uses more than 1,048,576. No RLIMIT_NOFILE
  // ever exceeds fs.nr_open.
  uint64_t hard = limits.nofile.hard;
  if (limits.can_raise_hard) {
    hard =
        std::max(hard, std::min(limits.nr_open.value_or(max_ring_file_slots), max_ring_file_slots));
  }
  uint64_t after = std::min(hard, limits.nr_open.value_or(hard));
  size.fd_limit_after_raise = std::max(after, limits.nofile.soft);
  size.ring_file_slots =
      std::max<uint64_t>(std::min(size.fd_limit_after_raise, max_ring_file_slots), 1);
  size.shards =
      uint32_t(std::max<uint64_t>(cpus, ceil_div(needs.connections, size.ring_file_slots)));

  size.sockets_on_host = needs.connections * (needs.target_on_this_host ? 2 : 1);
  const bool sending = needs.messages_per_second_per_connection > 0;
  size.kernel_bytes =
      size.sockets_on_host * (kernel_bytes_per_socket + (sending ? needs.message_bytes : 0));
  size.user_bytes =
      needs.connections * (horde_bytes_per_connection + (needs.tls ? tls_bytes_per_connection : 0));
  return size;
}

std::vector<check_line> plan_checks(const plan_needs& needs, const kernel_limits& limits) {
  const plan_sizing size = size_plan(needs, limits);
  std::vector<check_line> lines;
  lines.push_back(check_ports(needs, limits, size));
  lines.push_back(check_nofile(needs, limits, size));
  lines.push_back(check_nr_open(needs, limits));
  lines.push_back(check_file_max(needs, limits, size));
  lines.push_back(check_tcp_mem(needs, limits, size));
  lines.push_back(check_mem_available(needs, limits, size));
  lines.push_back(check_listen_queue(needs, "net/core/somaxconn", limits.somaxconn));
  lines.push_back(
      check_listen_queue(needs, "net/ipv4/tcp_max_syn_backlog", limits.tcp_max_syn_backlog));
  lines.push_back(check_tw_reuse(needs, limits));

  check_line tw =
      at_least("net/ipv4/tcp_max_tw_buckets", limits.tcp_max_tw_buckets, needs.connections,
               grouped(needs.connections) + " connections closed at once", verdict::warn,
               pow2_at_least(needs.connections));
  tw.note =
      "closing N connections leaves N in TIME_WAIT (60 s) on the closing side; past the "
      "cap the kernel drops them early ('time wait bucket table overflow')";
  lines.push_back(std::move(tw));

  check_line orphans =
      at_least("net/ipv4/tcp_max_orphans", limits.tcp_max_orphans, size.sockets_on_host,
               grouped(needs.connections) + (needs.target_on_this_host ? " x 2 ends" : " x 1 end") +
                   " closing at once",
               verdict::warn, pow2_at_least(size.sockets_on_host));
  orphans.note =
      "a closed socket finishing its FIN handshake is an orphan; past the cap the "
      "kernel resets them ('too many orphaned sockets')";
  lines.push_back(std::move(orphans));

  lines.push_back(check_conntrack(needs, limits));
  lines.push_back(check_buffer_max(needs, "net/ipv4/tcp_rmem", limits.tcp_rmem));
  lines.push_back(check_buffer_max(needs, "net/ipv4/tcp_wmem", limits.tcp_wmem));
  lines.push_back(check_netdev_backlog(needs, limits));
  lines.push_back(check_max_map_count(limits, size));
  lines.push_back(check_memlock(limits, size));
  lines.push_back(check_thp(limits));
  return lines;
}

bool plan_fits(const std::vector<check_line>& lines) {
  return std::none_of(lines.begin(), lines.end(),
                      [](const check_line& line) { return line.verdict == verdict::fail; });
}

}  // namespace horde::sysctl

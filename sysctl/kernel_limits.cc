// Reads kernel_limits from a root directory: the sysctls from <root>/proc/sys,
// the process limits and capabilities from <root>/proc/self, memory from
// <root>/proc/meminfo and THP from <root>/sys. Parsing is strict: a value
// that is present but unreadable is an error, never a silent default.
#include "sysctl/kernel_limits.hh"

#include <unistd.h>

#include <algorithm>

#include "sysctl/proc_file.hh"

namespace horde::sysctl {
namespace {

constexpr int cap_sys_resource = 24;  // linux/capability.h

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// The line of text that starts with prefix, without the prefix; nullopt if none.
std::optional<std::string_view> line_after(std::string_view text, std::string_view prefix) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line.substr(0, prefix.size()) == prefix) return line.substr(prefix.size());
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<uint64_t> parse_u64(std::string_view token) {
  auto numbers = parse_numbers(token);
  if (!numbers || numbers->size() != 1) return std::nullopt;
  return numbers->front();
}

// Reads a sysctl under <root>/proc/sys holding `count` numbers. Absent: an
// empty optional inside a value; present and malformed: an error.
result<std::optional<std::vector<uint64_t>>> read_sysctl(const std::string& root,
                                                         std::string_view name, size_t count) {
  const std::string path = under_root(root, std::string("proc/sys/") + std::string(name));
  auto text = read_small_file(path);
  if (!text) return std::optional<std::vector<uint64_t>>{};
  auto numbers = parse_numbers(*text);
  if (!numbers || numbers->size() != count) {
    return make_error(path + ": expected " + std::to_string(count) + " number(s), read '" +
                      std::string(trim(*text)) + "'");
  }
  return std::optional<std::vector<uint64_t>>{std::move(*numbers)};
}

// Fills one optional scalar from a sysctl; returns false and sets error on a malformed file.
bool read_scalar(const std::string& root, std::string_view name, std::optional<uint64_t>& out,
                 std::string& error) {
  auto read = read_sysctl(root, name, 1);
  if (!read) {
    error = read.error().message;
    return false;
  }
  if (*read) out = (**read)[0];
  return true;
}

bool read_triple(const std::string& root, std::string_view name,
                 std::optional<std::array<uint64_t, 3>>& out, std::string& error) {
  auto read = read_sysctl(root, name, 3);
  if (!read) {
    error = read.error().message;
    return false;
  }
  if (*read) out = std::array<uint64_t, 3>{(**read)[0], (**read)[1], (**read)[2]};
  return true;
}

// One "Max ..." line of /proc/self/limits: soft and hard, "unlimited" as UINT64_MAX.
result<rlimit_pair> parse_limit_line(std::string_view limits, std::string_view name,
                                     const std::string& path) {
  auto rest = line_after(limits, name);
  if (!rest) return make_error(path + ": no '" + std::string(name) + "' line");
  uint64_t values[2] = {0, 0};
  std::string_view text = *rest;
  for (uint64_t& value : values) {
    text = trim(text);
    const size_t end = std::min(text.find(' '), text.size());
    const std::string_view token = text.substr(0, end);
    if (token == "unlimited") {
      value = unlimited;
    } else if (auto number = parse_u64(token)) {
      value = *number;
    } else {
      return make_error(path + ": bad '" + std::string(name) + "' line: '" +
                        std::string(trim(*rest)) + "'");
    }
    text.remove_prefix(end);
  }
  return rlimit_pair{values[0], values[1]};
}

result<bool> read_can_raise_hard(const std::string& root) {
  const std::string path = under_root(root, "proc/self/status");
  auto status = read_small_file(path);
  // Without the file nothing proves the capability; assume it is absent.
  if (!status) return false;
  auto capeff = line_after(*status, "CapEff:");
  if (!capeff) return false;
  const std::string_view hex = trim(*capeff);
  uint64_t mask = 0;
  if (hex.empty() || hex.size() > 16)
    return make_error(path + ": bad CapEff '" + std::string(hex) + "'");
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return make_error(path + ": bad CapEff '" + std::string(hex) + "'");
    }
    mask = mask << 4 | uint64_t(digit);
  }
  return (mask >> cap_sys_resource & 1) != 0;
}

result<std::optional<uint64_t>> read_mem_available(const std::string& root) {
  const std::string path = under_root(root, "proc/meminfo");
  auto meminfo = read_small_file(path);
  if (!meminfo) return std::optional<uint64_t>{};
  auto line = line_after(*meminfo, "MemAvailable:");
  if (!line) return std::optional<uint64_t>{};  // kernels before 3.14
  std::string_view text = trim(*line);
  if (text.size() < 3 || text.substr(text.size() - 3) != " kB") {
    return make_error(path + ": bad MemAvailable line '" + std::string(text) + "'");
  }
  auto kib = parse_u64(trim(text.substr(0, text.size() - 3)));
  if (!kib) return make_error(path + ": bad MemAvailable line '" + std::string(text) + "'");
  return std::optional<uint64_t>{*kib * 1024};
}

}  // namespace

result<std::vector<port_span>> parse_port_list(std::string_view text) {
  std::vector<port_span> spans;
  text = trim(text);
  if (text.empty()) return spans;
  // The kernel prints the reserved bitmap as at most 32,768 items ("1,3,5,...")
  // of at most 11 bytes: anything larger is not this file.
  constexpr size_t max_text = 65536 * 12, max_items = 65536;
  if (text.size() > max_text) {
    return make_error("port list of " + std::to_string(text.size()) + " bytes is too long");
  }
  size_t start = 0;
  while (start <= text.size()) {
    if (spans.size() >= max_items) return make_error("port list has too many items");
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(start, end - start);
    const size_t dash = item.find('-');
    auto low = parse_u64(dash == std::string_view::npos ? item : item.substr(0, dash));
    auto high = dash == std::string_view::npos ? low : parse_u64(item.substr(dash + 1));
    if (item.empty() || !low || !high || *low > *high || *high > 65535) {
      return make_error("bad port list item '" + std::string(item) + "' in '" + std::string(text) +
                        "'");
    }
    spans.push_back(port_span{uint32_t(*low), uint32_t(*high)});
    start = end + 1;
  }
  return spans;
}

uint64_t ports_within(const std::vector<port_span>& spans, uint32_t low, uint32_t high) {
  if (low > high) return 0;
  // Clip to the range, sort, then count the union so overlapping spans count once.
  std::vector<port_span> clipped;
  for (const port_span& span : spans) {
    const uint32_t a = std::max(span.low, low), b = std::min(span.high, high);
    if (a <= b) clipped.push_back({a, b});
  }
  std::sort(clipped.begin(), clipped.end(),
            [](const port_span& x, const port_span& y) { return x.low < y.low; });
  uint64_t count = 0;
  uint64_t next_uncounted = 0;
  for (const port_span& span : clipped) {
    const uint64_t a = std::max<uint64_t>(span.low, next_uncounted);
    if (a <= span.high) count += span.high - a + 1;
    next_uncounted = std::max<uint64_t>(next_uncounted, uint64_t(span.high) + 1);
  }
  return count;
}

std::optional<std::string> bracketed_choice(std::string_view text) {
  const size_t open = text.find('[');
  if (open == std::string_view::npos) return std::nullopt;
  const size_t close = text.find(']', open);
  if (close == std::string_view::npos || close == open + 1) return std::nullopt;
  return std::string(text.substr(open + 1, close - open - 1));
}

result<kernel_limits> read_kernel_limits(const std::string& root) {
  kernel_limits limits;

  const std::string limits_path = under_root(root, "proc/self/limits");
  auto process_limits = read_small_file(limits_path);
  if (!process_limits) return make_error(limits_path + ": cannot read the process limits");
  auto nofile = parse_limit_line(*process_limits, "Max open files", limits_path);
  if (!nofile) return nofile.error();
  limits.nofile = *nofile;
  auto memlock = parse_limit_line(*process_limits, "Max locked memory", limits_path);
  if (!memlock) return memlock.error();
  limits.memlock = *memlock;

  auto can_raise = read_can_raise_hard(root);
  if (!can_raise) return can_raise.error();
  limits.can_raise_hard = *can_raise;

  std::string error;
  const bool scalars_read =
      read_scalar(root, "fs/nr_open", limits.nr_open, error) &&
      read_scalar(root, "fs/file-max", limits.file_max, error) &&
      read_scalar(root, "net/core/somaxconn", limits.somaxconn, error) &&
      read_scalar(root, "net/ipv4/tcp_max_syn_backlog", limits.tcp_max_syn_backlog, error) &&
      read_scalar(root, "net/ipv4/tcp_tw_reuse", limits.tcp_tw_reuse, error) &&
      read_scalar(root, "net/ipv4/tcp_max_tw_buckets", limits.tcp_max_tw_buckets, error) &&
      read_scalar(root, "net/ipv4/tcp_max_orphans", limits.tcp_max_orphans, error) &&
      read_scalar(root, "net/core/netdev_max_backlog", limits.netdev_max_backlog, error) &&
      read_scalar(root, "net/netfilter/nf_conntrack_max", limits.nf_conntrack_max, error) &&
      read_scalar(root, "net/netfilter/nf_conntrack_count", limits.nf_conntrack_count, error) &&
      read_scalar(root, "vm/max_map_count", limits.max_map_count, error) &&
      read_triple(root, "net/ipv4/tcp_mem", limits.tcp_mem, error) &&
      read_triple(root, "net/ipv4/tcp_rmem", limits.tcp_rmem, error) &&
      read_triple(root, "net/ipv4/tcp_wmem", limits.tcp_wmem, error);
  if (!scalars_read) return make_error(error);

  // fs.file-nr is "allocated  free(always 0 since 2.6)  max".
  auto file_nr = read_sysctl(root, "fs/file-nr", 3);
  if (!file_nr) return file_nr.error();
  if (*file_nr) limits.files_in_use = (**file_nr)[0];

  auto range = read_sysctl(root, "net/ipv4/ip_local_port_range", 2);
  if (!range) return range.error();
  if (*range) {
    const auto& r = **range;
    if (r[0] > r[1] || r[1] > 65535) {
      return make_error(under_root(root, "proc/sys/net/ipv4/ip_local_port_range") +
                        ": low above high or past 65535");
    }
    limits.local_port_range = port_span{uint32_t(r[0]), uint32_t(r[1])};
  }

  const std::string reserved_path = under_root(root, "proc/sys/net/ipv4/ip_local_reserved_ports");
  if (auto reserved_text = read_small_file(reserved_path)) {
    auto reserved = parse_port_list(*reserved_text);
    if (!reserved) return make_error(reserved_path + ": " + reserved.error().message);
    limits.reserved_ports = std::move(*reserved);
  }

  const std::string thp_path = under_root(root, "sys/kernel/mm/transparent_hugepage/enabled");
  if (auto thp = read_small_file(thp_path)) {
    limits.thp_mode = bracketed_choice(*thp);
    if (!limits.thp_mode)
      return make_error(thp_path + ": no [mode] in '" + std::string(trim(*thp)) + "'");
  }

  auto available = read_mem_available(root);
  if (!available) return available.error();
  limits.mem_available = *available;

  if (auto release = read_small_file(under_root(root, "proc/sys/kernel/osrelease"))) {
    if (!trim(*release).empty()) limits.kernel_release = std::string(trim(*release));
  }

  const long page = ::sysconf(_SC_PAGESIZE);
  if (page > 0) limits.page_size = uint64_t(page);
  return limits;
}

}  // namespace horde::sysctl

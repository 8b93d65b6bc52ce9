#include "sysctl/net_counters.hh"

#include <algorithm>
#include <charconv>
#include <vector>

#include "sysctl/planner.hh"
#include "sysctl/proc_file.hh"

namespace horde::sysctl {
namespace {

// /proc/net files are a few KiB; a line or a table past these is not one.
constexpr size_t max_tokens_per_line = 512;
constexpr size_t max_lines = 4096;

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size() && words.size() < max_tokens_per_line) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t')
      ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

std::string_view next_line(std::string_view& text) {
  const size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

}  // namespace

std::optional<uint64_t> proc_table_value(std::string_view text, std::string_view prefix,
                                         std::string_view name) {
  std::string_view header;
  for (size_t n = 0; !text.empty() && n < max_lines; ++n) {
    const std::string_view line = next_line(text);
    if (line.substr(0, prefix.size()) != prefix) continue;
    if (header.empty()) {
      header = line;
      continue;
    }
    const auto names = split_words(header);
    const auto values = split_words(line);
    for (size_t i = 1; i < names.size() && i < values.size(); ++i) {
      if (names[i] != name) continue;
      uint64_t value = 0;
      const auto* end = values[i].data() + values[i].size();
      const auto parsed = std::from_chars(values[i].data(), end, value);
      if (parsed.ec != std::errc() || parsed.ptr != end) return std::nullopt;
      return value;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<uint64_t> softnet_dropped(std::string_view text) {
  uint64_t total = 0;
  bool any = false;
  for (size_t n = 0; !text.empty() && n < max_lines; ++n) {
    const auto words = split_words(next_line(text));
    if (words.empty()) continue;
    if (words.size() < 2) return std::nullopt;
    uint64_t dropped = 0;
    const auto* end = words[1].data() + words[1].size();
    const auto parsed = std::from_chars(words[1].data(), end, dropped, 16);
    if (parsed.ec != std::errc() || parsed.ptr != end) return std::nullopt;
    total += dropped;
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

std::optional<net_counters> read_net_counters(const std::string& root) {
  const auto snmp = read_small_file(under_root(root, "proc/net/snmp"));
  const auto netstat = read_small_file(under_root(root, "proc/net/netstat"));
  const auto softnet = read_small_file(under_root(root, "proc/net/softnet_stat"));
  if (!snmp || !netstat || !softnet) return std::nullopt;
  const auto retrans = proc_table_value(*snmp, "Tcp:", "RetransSegs");
  const auto timeouts = proc_table_value(*netstat, "TcpExt:", "TCPTimeouts");
  const auto probes = proc_table_value(*netstat, "TcpExt:", "TCPLossProbes");
  const auto overflows = proc_table_value(*netstat, "TcpExt:", "ListenOverflows");
  const auto drops = softnet_dropped(*softnet);
  if (!retrans || !timeouts || !probes || !overflows || !drops) return std::nullopt;
  return net_counters{*retrans, *timeouts, *probes, *overflows, *drops};
}

uint64_t backlog_after_drops(uint64_t planned_need, std::optional<uint64_t> current) noexcept {
  uint64_t want = std::max(planned_need, netdev_backlog_floor);
  if (current && *current >= want) {
    // The plan's bound was met and packets still dropped: the gap was longer.
    want = 1;
    while (want <= *current && want < netdev_backlog_cap)
      want <<= 1;
  }
  return std::min(want, netdev_backlog_cap);
}

std::string input_queue_fix(uint64_t planned_need, std::optional<uint64_t> current) {
  const uint64_t want = backlog_after_drops(planned_need, current);
  if (current && *current >= want) {
    return "net.core.netdev_max_backlog is already " + std::to_string(*current) +
           ": lower --connect-rate or spread the load";
  }
  return "sysctl -w net.core.netdev_max_backlog=" + std::to_string(want);
}

net_counters counters_between(const net_counters& before, const net_counters& after) noexcept {
  auto minus = [](uint64_t a, uint64_t b) { return a >= b ? a - b : 0; };
  return {minus(after.retransmitted_segments, before.retransmitted_segments),
          minus(after.retransmit_timeouts, before.retransmit_timeouts),
          minus(after.loss_probes, before.loss_probes),
          minus(after.listen_overflows, before.listen_overflows),
          minus(after.input_queue_drops, before.input_queue_drops)};
}

}  // namespace horde::sysctl

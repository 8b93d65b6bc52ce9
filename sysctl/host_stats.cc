#include "sysctl/host_stats.hh"

#include <charconv>

#include "sysctl/proc_file.hh"
#include "sysctl/process_stats.hh"

namespace horde::sysctl {
namespace {

std::string_view next_word(std::string_view& text) noexcept {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
    ++i;
  const size_t start = i;
  while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n')
    ++i;
  const std::string_view word = text.substr(start, i - start);
  text.remove_prefix(i);
  return word;
}

std::optional<uint64_t> decimal(std::string_view word) noexcept {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (word.empty() || ec != std::errc() || end != word.data() + word.size()) return std::nullopt;
  return value;
}

std::string_view first_line(std::string_view text) noexcept {
  return text.substr(0, text.find('\n'));
}

double share(uint64_t part, uint64_t total) noexcept {
  return total == 0 ? 0 : double(part) / double(total);
}

uint64_t grown(uint64_t before, uint64_t after) noexcept {
  return after > before ? after - before : 0;
}

}  // namespace

std::optional<host_cpu_ticks> parse_host_cpu(std::string_view proc_stat) noexcept {
  std::string_view line = first_line(proc_stat);
  if (next_word(line) != "cpu") return std::nullopt;
  // user nice system idle iowait irq softirq steal; older kernels stop
  // sooner, and what is missing counts 0 (proc(5): steal since 2.6.11).
  uint64_t fields[8] = {};
  size_t read = 0;
  for (; read < 8; ++read) {
    const std::string_view word = next_word(line);
    if (word.empty()) break;
    const auto value = decimal(word);
    if (!value) return std::nullopt;
    fields[read] = *value;
  }
  if (read < 4) return std::nullopt;
  host_cpu_ticks ticks;
  ticks.user = fields[0] + fields[1];
  ticks.system = fields[2];
  ticks.softirq = fields[6];
  for (uint64_t f : fields)
    ticks.total += f;
  return ticks;
}

host_cpu_shares shares_between(const host_cpu_ticks& before, const host_cpu_ticks& after) noexcept {
  const uint64_t total = grown(before.total, after.total);
  return {share(grown(before.user, after.user), total),
          share(grown(before.system, after.system), total),
          share(grown(before.softirq, after.softirq), total)};
}

std::optional<interface_bytes> parse_interface_bytes(std::string_view proc_net_dev,
                                                     std::string_view interface) noexcept {
  size_t at = 0;
  while (at < proc_net_dev.size()) {
    size_t end = proc_net_dev.find('\n', at);
    if (end == std::string_view::npos) end = proc_net_dev.size();
    std::string_view line = proc_net_dev.substr(at, end - at);
    at = end + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    if (name != interface) continue;
    line.remove_prefix(colon + 1);
    // Receive: bytes packets errs drop fifo frame compressed multicast;
    // then transmit's bytes.
    uint64_t fields[9] = {};
    for (uint64_t& field : fields) {
      const auto value = decimal(next_word(line));
      if (!value) return std::nullopt;
      field = *value;
    }
    return interface_bytes{fields[0], fields[8]};
  }
  return std::nullopt;
}

host_sample read_host_sample(const std::string& root) {
  host_sample sample;
  if (const auto text = read_small_file(under_root(root, "proc/stat")))
    sample.cpu = parse_host_cpu(*text);
  if (const auto text = read_small_file(under_root(root, "proc/meminfo"))) {
    if (const auto kib = status_value(*text, "MemAvailable"))
      sample.memory_available_bytes = *kib * 1024;
  }
  if (const auto text = read_small_file(under_root(root, "proc/net/dev")))
    sample.loopback = parse_interface_bytes(*text, "lo");
  return sample;
}

}  // namespace horde::sysctl

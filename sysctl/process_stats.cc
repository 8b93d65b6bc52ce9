#include "sysctl/process_stats.hh"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <charconv>

#include "sysctl/proc_file.hh"

namespace horde::sysctl {
namespace {

std::optional<uint64_t> decimal(std::string_view word) noexcept {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size() || word.empty()) return std::nullopt;
  return value;
}

std::string_view next_word(std::string_view& text) noexcept {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
    ++i;
  const size_t start = i;
  while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n')
    ++i;
  const std::string_view word = text.substr(start, i - start);
  text.remove_prefix(i);
  return word;
}

// The value after `key` at the start of a line, then `separator`.
std::optional<uint64_t> line_value(std::string_view text, std::string_view key,
                                   char separator) noexcept {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key ||
        line[key.size()] != separator)
      continue;
    line.remove_prefix(key.size() + 1);
    return decimal(next_word(line));
  }
  return std::nullopt;
}

}  // namespace

std::optional<process_stat> parse_process_stat(std::string_view text) noexcept {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  // Fields from 3 (state) on: utime is the 14th field, so index 11 here.
  constexpr size_t utime = 11, stime = 12, threads = 17, rss = 21;
  process_stat stat;
  for (size_t i = 0; i <= rss; ++i) {
    const std::string_view word = next_word(rest);
    if (word.empty()) return std::nullopt;
    if (i != utime && i != stime && i != threads && i != rss) continue;
    // Fields follow rss on every kernel: one that ends the text may be cut short.
    if (i == rss && rest.empty()) return std::nullopt;
    // rss is a signed long in the kernel; a negative one is not a count.
    const auto value = decimal(word);
    if (!value) return std::nullopt;
    if (i == utime) stat.utime_ticks = *value;
    if (i == stime) stat.stime_ticks = *value;
    if (i == threads) stat.threads = *value;
    if (i == rss) stat.rss_pages = *value;
  }
  return stat;
}

std::optional<uint64_t> status_value(std::string_view text, std::string_view key) noexcept {
  return line_value(text, key, ':');
}

std::optional<uint64_t> flat_keyed_value(std::string_view text, std::string_view key) noexcept {
  return line_value(text, key, ' ');
}

std::optional<process_sample> read_process_sample(const std::string& root, int pid,
                                                  uint64_t ticks_per_second, uint64_t page_bytes) {
  const auto text = read_small_file(under_root(root, "proc/" + std::to_string(pid) + "/stat"));
  if (!text) return std::nullopt;
  const auto stat = parse_process_stat(*text);
  if (!stat || ticks_per_second == 0) return std::nullopt;
  process_sample sample;
  sample.rss_bytes = stat->rss_pages * page_bytes;
  sample.cpu_user_seconds = double(stat->utime_ticks) / double(ticks_per_second);
  sample.cpu_system_seconds = double(stat->stime_ticks) / double(ticks_per_second);
  sample.threads = stat->threads;
  return sample;
}

std::optional<fd_count> count_process_fds(const std::string& root, int pid) {
  const std::string directory = under_root(root, "proc/" + std::to_string(pid) + "/fd");
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0) return std::nullopt;
  // procfs (6.2+) gives the count as the size; any other file system's
  // directory (a fake tree) has a size of its own, not a count.
  struct statfs fs {};
  if (st.st_size > 0 && ::statfs(directory.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC)
    return fd_count{uint64_t(st.st_size), false};
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return std::nullopt;
  fd_count count{0, true};
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count.fds;
  }
  ::closedir(dir);
  return count;
}

std::optional<cgroup_sample> read_cgroup_sample(const std::string& directory) {
  cgroup_sample sample;
  bool any = false;
  if (const auto text = read_small_file(directory + "/memory.current")) {
    std::string_view words = *text;
    if (const auto value = decimal(next_word(words))) {
      sample.memory_bytes = *value;
      any = true;
    }
  }
  if (const auto text = read_small_file(directory + "/cpu.stat")) {
    const auto user = flat_keyed_value(*text, "user_usec");
    const auto system = flat_keyed_value(*text, "system_usec");
    if (user) sample.cpu_user_seconds = double(*user) / 1e6;
    if (system) sample.cpu_system_seconds = double(*system) / 1e6;
    any = any || user || system;
  }
  if (const auto text = read_small_file(directory + "/pids.current")) {
    std::string_view words = *text;
    if (const auto value = decimal(next_word(words))) {
      sample.pids = *value;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  return sample;
}

}  // namespace horde::sysctl

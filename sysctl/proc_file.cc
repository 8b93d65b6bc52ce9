// Small-file I/O for /proc and /sys under a root directory. procfs reports a
// size of 0 for its files, so reads loop until EOF instead of trusting stat.
#include "sysctl/proc_file.hh"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace horde::sysctl {

std::string under_root(const std::string& root, std::string_view relative) {
  std::string path = root.empty() ? std::string("/") : root;
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  while (!relative.empty() && relative.front() == '/')
    relative.remove_prefix(1);
  if (path.back() != '/') path += '/';
  path += relative;
  return path;
}

std::optional<std::string> read_small_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buffer, size_t(n));
  }
  ::close(fd);
  return text;
}

result<void> write_small_file(const std::string& path, std::string_view text) {
  // One write(): a /proc/sys knob parses what a single write hands it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return make_error(path + ": " + std::strerror(errno));
  ssize_t n;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  const int write_errno = errno;
  ::close(fd);
  if (n < 0) return make_error(path + ": " + std::strerror(write_errno));
  if (size_t(n) != text.size()) return make_error(path + ": short write");
  return {};
}

std::optional<std::vector<uint64_t>> parse_numbers(std::string_view text) {
  std::vector<uint64_t> numbers;
  size_t i = 0;
  for (;;) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
      ++i;
    if (i == text.size()) break;
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    uint64_t value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      const uint64_t digit = uint64_t(text[i] - '0');
      if (value > (UINT64_MAX - digit) / 10) return std::nullopt;  // overflow
      value = value * 10 + digit;
      ++i;
    }
    if (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') {
      return std::nullopt;
    }
    numbers.push_back(value);
  }
  if (numbers.empty()) return std::nullopt;
  return numbers;
}

}  // namespace horde::sysctl

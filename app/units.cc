#include "app/units.hh"

#include <arpa/inet.h>

#include <cmath>
#include <cstdlib>

namespace horde::app {
namespace {

// Splits "12.5ms" into 12.5 and "ms"; false if there is no leading number.
bool split_number(const std::string& text, double& number, std::string& suffix) {
  if (text.empty()) return false;
  char* end = nullptr;
  number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(number) || number < 0) return false;
  suffix = std::string(end);
  return true;
}

}  // namespace

result<uint64_t> parse_duration_ns(const std::string& text) {
  double n = 0;
  std::string unit;
  if (!split_number(text, n, unit))
    return make_error("bad duration '" + text + "': expected e.g. 30s, 500ms, 2m");
  double scale = 0;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s" || unit.empty())
    scale = 1e9;
  else if (unit == "m")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else
    return make_error("bad duration unit in '" + text + "': use ns, us, ms, s, m or h");
  return uint64_t(n * scale);
}

result<double> parse_rate_per_second(const std::string& text) {
  const size_t slash = text.find('/');
  double n = 0;
  std::string rest;
  if (!split_number(text.substr(0, slash), n, rest)) {
    return make_error("bad rate '" + text + "': expected e.g. 10/s, 20k/s, 100/m or 0.5");
  }
  // Counts take the same k/M suffixes as -c: 20k/s is 20,000 a second.
  if (rest == "k" || rest == "K") {
    n *= 1e3;
  } else if (rest == "M") {
    n *= 1e6;
  } else if (!rest.empty()) {
    return make_error("bad rate '" + text + "': expected e.g. 10/s, 20k/s, 100/m or 0.5");
  }
  if (slash == std::string::npos) return n;
  const std::string unit = text.substr(slash + 1);
  if (unit == "s") return n;
  if (unit == "m") return n / 60;
  if (unit == "h") return n / 3600;
  if (unit == "ms") return n * 1000;
  return make_error("bad rate unit in '" + text + "': use /s, /m, /h or /ms");
}

result<uint64_t> parse_bytes(const std::string& text) {
  double n = 0;
  std::string unit;
  if (!split_number(text, n, unit))
    return make_error("bad size '" + text + "': expected e.g. 64, 4KiB, 1MiB");
  double scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "k" || unit == "K" || unit == "KiB" || unit == "KB")
    scale = 1024;
  else if (unit == "M" || unit == "MiB" || unit == "MB")
    scale = 1024.0 * 1024;
  else
    return make_error("bad size unit in '" + text + "': use B, KiB or MiB");
  return uint64_t(n * scale);
}

result<uint64_t> parse_count(const std::string& text) {
  double n = 0;
  std::string unit;
  if (!split_number(text, n, unit)) return make_error("bad number '" + text + "'");
  if (unit.empty()) return uint64_t(n);
  if (unit == "k" || unit == "K") return uint64_t(n * 1e3);
  if (unit == "M") return uint64_t(n * 1e6);
  return make_error("bad number '" + text + "': use a plain number or a k/M suffix");
}

result<std::vector<std::string>> parse_ipv4_ranges(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    const size_t dash = item.find('-');
    in_addr first{}, last{};
    const std::string a = item.substr(0, dash);
    const std::string b = dash == std::string::npos ? a : item.substr(dash + 1);
    if (inet_pton(AF_INET, a.c_str(), &first) != 1 || inet_pton(AF_INET, b.c_str(), &last) != 1) {
      return make_error("bad address range '" + item + "': expected e.g. 127.0.0.1-127.0.0.8");
    }
    uint32_t lo = ntohl(first.s_addr), hi = ntohl(last.s_addr);
    if (hi < lo || hi - lo > 65535) return make_error("bad address range '" + item + "'");
    for (uint32_t v = lo; v <= hi; ++v) {
      in_addr addr{htonl(v)};
      char buffer[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &addr, buffer, sizeof buffer);
      out.emplace_back(buffer);
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace horde::app

#include "app/worker_slice.hh"

#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace horde::app {
namespace {

// A whole number of at most 9 digits, all of `text`.
std::optional<uint32_t> small_number(const std::string& text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  for (char ch : text)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
  return uint32_t(std::strtoul(text.c_str(), nullptr, 10));
}

// "1796500000" or "1796500000.25": seconds since the epoch, in ns.
std::optional<uint64_t> unix_seconds(const std::string& text) {
  const size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  if (whole.empty() || whole.size() > 11) return std::nullopt;
  for (char ch : whole)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
  uint64_t ns = std::strtoull(whole.c_str(), nullptr, 10) * 1'000'000'000ull;
  if (dot != std::string::npos) {
    const std::string fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 9) return std::nullopt;
    uint64_t scale = 100'000'000;
    for (char ch : fraction) {
      if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
      ns += uint64_t(ch - '0') * scale;
      scale /= 10;
    }
  }
  return ns;
}

// "2026-12-04T20:00:00Z" or "...T20:00:00.5Z": UTC only (a worker's local
// zone is not the others').
std::optional<uint64_t> rfc3339_utc(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &used) != 6 ||
      used != 19)
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::string rest = text.substr(19);
  if (rest.empty() || (rest.back() != 'Z' && rest.back() != 'z')) return std::nullopt;
  rest.pop_back();
  uint64_t fraction_ns = 0;
  if (!rest.empty()) {
    if (rest[0] != '.') return std::nullopt;
    auto f = unix_seconds("0" + rest);
    if (!f) return std::nullopt;
    fraction_ns = *f;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t t = timegm(&tm);
  if (t < 0) return std::nullopt;
  return uint64_t(t) * 1'000'000'000ull + fraction_ns;
}

}  // namespace

result<worker_slice> parse_worker(const std::string& worker, unsigned workers,
                                  const std::optional<std::string>& env_index) {
  worker_slice out;
  if (!worker.empty()) {
    if (workers != 0) return make_error("--worker i/N and --workers N: give one of them");
    const size_t slash = worker.find('/');
    auto i = small_number(worker.substr(0, slash));
    const uint32_t n =
        slash == std::string::npos ? 0 : small_number(worker.substr(slash + 1)).value_or(0);
    if (!i || n == 0 || *i >= n || n > max_workers) {
      return make_error(
          fmt::format("--worker '{}': expected i/N with 0 <= i < N <= {} (e.g. 0/4 ... 3/4)",
                      worker, max_workers));
    }
    out.index = *i;
    out.count = n;
    out.enabled = true;
    return out;
  }
  if (workers == 0) return out;
  if (workers > max_workers) return make_error(fmt::format("--workers is at most {}", max_workers));
  if (!env_index) {
    return make_error(
        "--workers N reads this worker's index from JOB_COMPLETION_INDEX (what a Kubernetes "
        "Indexed Job sets), which is not set; outside a Job say --worker i/N");
  }
  auto i = small_number(*env_index);
  if (!i || *i >= workers) {
    return make_error(fmt::format("JOB_COMPLETION_INDEX='{}' is not an index below --workers {}",
                                  *env_index, workers));
  }
  out.index = *i;
  out.count = workers;
  out.enabled = true;
  return out;
}

result<uint64_t> parse_start_at(const std::string& text, uint64_t now_unix_ns) {
  std::optional<uint64_t> at =
      !text.empty() && text[0] == '@' ? unix_seconds(text.substr(1)) : rfc3339_utc(text);
  if (!at) {
    return make_error(fmt::format(
        "--start-at '{}': expected a UTC time like 2026-12-04T20:00:00Z or unix seconds like "
        "@1796500000",
        text));
  }
  constexpr uint64_t day_ns = 86'400'000'000'000ull, late_ns = 60'000'000'000ull;
  if (*at > now_unix_ns + day_ns)
    return make_error("--start-at is more than 24 h ahead of this host's clock");
  if (*at + late_ns < now_unix_ns) {
    return make_error(fmt::format(
        "--start-at was {:.0f} s ago by this host's clock (at most 60 s late is accepted)",
        double(now_unix_ns - *at) / 1e9));
  }
  return *at;
}

std::vector<uint32_t> remote_subscribers(const core::group_layout& layout,
                                         uint64_t whole_connections, worker_slice slice) {
  std::vector<uint32_t> out(layout.groups, 0);
  std::vector<uint32_t> groups(std::min<uint64_t>(layout.per_connection, layout.groups));
  for (uint64_t c = 0; c < whole_connections; ++c) {
    if (c % slice.count == slice.index) continue;
    core::groups_of_connection(c, layout, groups);
    for (uint32_t g : groups)
      ++out[g];
  }
  return out;
}

}  // namespace horde::app

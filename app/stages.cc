#include "app/stages.hh"

#include <fmt/format.h>

#include <vector>

#include "app/units.hh"

namespace horde::app {
namespace {

template <class Value>
result<core::load_profile> parse_stages(const std::string& text, const char* flag, double start,
                                        Value value_of) {
  std::vector<core::load_stage> stages;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, comma - begin);
    const size_t colon = item.find(':');
    if (colon == std::string::npos)
      return make_error(fmt::format("{}: '{}' is not DURATION:VALUE (e.g. 30s:10k)", flag, item));
    auto duration = parse_duration_ns(item.substr(0, colon));
    if (!duration)
      return make_error(fmt::format("{}: '{}': {}", flag, item, duration.error().message));
    auto value = value_of(item.substr(colon + 1));
    if (!value) return make_error(fmt::format("{}: '{}': {}", flag, item, value.error().message));
    stages.push_back({*duration, *value});
    begin = comma + 1;
  }
  core::load_profile profile(start, std::move(stages));
  if (profile.total_ns() == 0)
    return make_error(fmt::format("{}: the stages last no time at all", flag));
  return profile;
}

}  // namespace

result<core::load_profile> parse_connection_stages(const std::string& text) {
  return parse_stages(text, "--stages", 0, [](const std::string& v) -> result<double> {
    auto n = parse_count(v);
    if (!n) return n.error();
    return double(*n);
  });
}

result<core::load_profile> parse_rate_stages(const std::string& text, double start) {
  return parse_stages(text, "--rate-stages", start, [](const std::string& v) -> result<double> {
    auto r = parse_rate_per_second(v);
    if (!r) return r.error();
    if (*r <= 0) return make_error("a rate stage must be above 0 (use a small rate to idle)");
    return *r;
  });
}

}  // namespace horde::app

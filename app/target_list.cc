#include "app/target_list.hh"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace horde::app {
namespace {

constexpr size_t max_file_bytes = 1u << 20;
constexpr size_t max_line_bytes = 4096;

std::string trimmed(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return s.substr(b, e - b);
}

// "URL [WEIGHT]" (the '#' comment already cut).
result<weighted_url> parse_line(const std::string& line, const std::string& where) {
  weighted_url out;
  size_t space = 0;
  while (space < line.size() && !std::isspace(static_cast<unsigned char>(line[space])))
    ++space;
  out.url = line.substr(0, space);
  const std::string rest = trimmed(line.substr(space));
  if (rest.empty()) return out;
  char* end = nullptr;
  const unsigned long weight = std::strtoul(rest.c_str(), &end, 10);
  if (*end != '\0' || !std::isdigit(static_cast<unsigned char>(rest[0])) || weight < 1 ||
      weight > max_target_weight) {
    return make_error(
        fmt::format("{}: '{}' is not a weight (a whole number from 1 to {}, after "
                    "the URL: ws://10.0.0.1:8080/ 3)",
                    where, rest, max_target_weight));
  }
  out.weight = uint32_t(weight);
  return out;
}

}  // namespace

result<std::vector<weighted_url>> parse_targets_text(const std::string& text,
                                                     const std::string& file_name) {
  if (text.size() > max_file_bytes)
    return make_error(fmt::format("{}: over 1 MiB; a targets file lists URLs", file_name));
  std::vector<weighted_url> out;
  size_t start = 0, number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++number;
    const std::string where = fmt::format("{}:{}", file_name, number);
    if (end - start > max_line_bytes) return make_error(where + ": a line over 4096 bytes");
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    line = trimmed(line);
    if (line.empty()) continue;
    auto parsed = parse_line(line, where);
    if (!parsed) return parsed.error();
    if (out.size() == max_targets)
      return make_error(fmt::format("{}: more than {} targets", where, max_targets));
    out.push_back(std::move(*parsed));
  }
  return out;
}

result<std::vector<weighted_url>> collect_targets(const std::vector<std::string>& urls,
                                                  const std::string& targets_file) {
  std::vector<weighted_url> out;
  for (const std::string& url : urls)
    out.push_back(weighted_url{url, 1});
  if (!targets_file.empty()) {
    std::ifstream in(targets_file, std::ios::binary);
    if (!in) return make_error("--targets-file: cannot read " + targets_file);
    std::string text;
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    auto listed = parse_targets_text(text, targets_file);
    if (!listed) return make_error("--targets-file: " + listed.error().message);
    if (listed->empty()) return make_error("--targets-file: " + targets_file + " lists no URL");
    out.insert(out.end(), listed->begin(), listed->end());
  }
  if (out.size() > max_targets)
    return make_error(fmt::format("{} targets: at most {}", out.size(), max_targets));
  return out;
}

std::vector<uint8_t> target_cycle(const std::vector<weighted_url>& targets, bool weighted) {
  std::vector<uint8_t> cycle;
  if (!weighted) {
    for (size_t t = 0; t < targets.size(); ++t)
      cycle.push_back(uint8_t(t));
    return cycle;
  }
  int64_t total = 0;
  for (const auto& t : targets)
    total += t.weight;
  std::vector<int64_t> current(targets.size(), 0);
  for (int64_t step = 0; step < total; ++step) {
    size_t best = 0;
    for (size_t t = 0; t < targets.size(); ++t) {
      current[t] += targets[t].weight;
      if (current[t] > current[best]) best = t;
    }
    current[best] -= total;
    cycle.push_back(uint8_t(best));
  }
  return cycle;
}

}  // namespace horde::app

#include "proto/message_template.hh"

#include <algorithm>
#include <charconv>

namespace horde::proto {

result<message_template> message_template::parse(
    std::string_view text, const std::vector<std::string_view>& allowed_holes) {
  message_template t;
  t._literals.emplace_back();
  for (auto h : allowed_holes)
    t._hole_names.emplace_back(h);
  // A hole is "{name}" with name made of letters, digits and '_'; every other
  // brace is literal, so JSON templates are written as they are.
  auto is_name_char = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    size_t close = std::string_view::npos;
    if (ch == '{') {
      size_t j = i + 1;
      while (j < text.size() && is_name_char(text[j]))
        ++j;
      if (j > i + 1 && j < text.size() && text[j] == '}') close = j;
    }
    if (close == std::string_view::npos) {
      t._literals.back() += ch;
      continue;
    }
    const std::string_view name = text.substr(i + 1, close - i - 1);
    auto found = std::find(allowed_holes.begin(), allowed_holes.end(), name);
    if (found == allowed_holes.end()) {
      std::string known;
      for (auto h : allowed_holes)
        known += (known.empty() ? "{" : ", {") + std::string(h) + "}";
      return make_error("template '" + std::string(text) + "': unknown {" + std::string(name) +
                        "}; this one may use " + known);
    }
    t._holes.push_back(uint8_t(found - allowed_holes.begin()));
    t._literals.emplace_back();
    i = close;
  }
  for (const auto& l : t._literals)
    t._literal_size += l.size();
  return t;
}

bool message_template::has(std::string_view hole) const noexcept {
  for (uint8_t h : _holes)
    if (_hole_names[h] == hole) return true;
  return false;
}

void message_template::expand(std::string& out, const std::vector<std::string_view>& values) const {
  out += _literals[0];
  for (size_t i = 0; i < _holes.size(); ++i) {
    if (_holes[i] < values.size()) out += values[_holes[i]];
    out += _literals[i + 1];
  }
}

std::optional<std::string_view> message_template::match_one(std::string_view text) const noexcept {
  if (_holes.size() != 1) return std::nullopt;
  const std::string& prefix = _literals[0];
  const std::string& suffix = _literals[1];
  if (text.size() <= prefix.size() + suffix.size()) return std::nullopt;
  if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
  if (text.substr(text.size() - suffix.size()) != suffix) return std::nullopt;
  return text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
}

result<group_names> group_names::make(std::string_view pattern) {
  const size_t hole = pattern.find("{n}");
  if (hole == std::string_view::npos || pattern.find("{n}", hole + 1) != std::string_view::npos) {
    return make_error("group pattern '" + std::string(pattern) +
                      "' needs exactly one {n}, e.g. room-{n}");
  }
  group_names names;
  names._prefix = pattern.substr(0, hole);
  names._suffix = pattern.substr(hole + 3);
  for (char ch : names._prefix + names._suffix) {
    if (uint8_t(ch) < 0x20 || ch == '{' || ch == '}') {
      return make_error("group pattern '" + std::string(pattern) +
                        "': no control characters or braces besides {n}");
    }
  }
  return names;
}

void group_names::append_name(std::string& out, uint64_t n) const {
  out += _prefix;
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
  out += _suffix;
}

std::string group_names::name(uint64_t n) const {
  std::string out;
  append_name(out, n);
  return out;
}

std::optional<uint64_t> group_names::number_of(std::string_view name) const noexcept {
  if (name.size() <= _prefix.size() + _suffix.size()) return std::nullopt;
  if (name.substr(0, _prefix.size()) != _prefix) return std::nullopt;
  if (name.substr(name.size() - _suffix.size()) != _suffix) return std::nullopt;
  const std::string_view digits =
      name.substr(_prefix.size(), name.size() - _prefix.size() - _suffix.size());
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // one spelling per number
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

}  // namespace horde::proto

// Small HTTP/1.1 lexical helpers (RFC 9110 5.6) shared by the handshake
// parsers: case-insensitive comparison and token checks, no locale, no
// allocation.
#pragma once

#include <string_view>

namespace horde::proto {

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? char(c + 32) : c;
}

constexpr bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

constexpr bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

constexpr bool is_token(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

constexpr std::string_view trim_spaces(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// Calls fn(item) for each comma-separated, trimmed, non-empty item of a header
// value; stops early when fn returns true, and returns whether it did.
template <class Fn>
constexpr bool any_list_item(std::string_view value, Fn fn) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    const std::string_view item = trim_spaces(value.substr(0, comma));
    if (!item.empty() && fn(item)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// A value rendered into a request line or header may not end the line (or
// the request-target) early: CR, LF and NUL anywhere, and a space in a
// request-target, would inject what a captured or templated value says.
constexpr bool breaks_header_line(std::string_view text) noexcept {
  for (char c : text)
    if (c == '\r' || c == '\n' || c == '\0') return true;
  return false;
}
constexpr bool breaks_request_target(std::string_view text) noexcept {
  for (char c : text)
    if (c == ' ' || c == '\r' || c == '\n' || c == '\0') return true;
  return false;
}

}  // namespace horde::proto

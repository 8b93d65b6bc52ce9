#include "app/redact.hh"

#include <array>
#include <cctype>

namespace horde::app {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

bool is_base64url(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=';
}

// The length of a JWT starting at text[at] ("eyJ" + 2 dots between base64url
// runs), or 0 when there is none.
size_t jwt_length_at(std::string_view text, size_t at) noexcept {
  if (text.substr(at, 3) != "eyJ") return 0;
  size_t i = at;
  int dots = 0;
  while (i < text.size()) {
    if (is_base64url(text[i])) {
      ++i;
    } else if (text[i] == '.' && dots < 2 && i + 1 < text.size() && is_base64url(text[i + 1])) {
      ++dots;
      ++i;
    } else {
      break;
    }
  }
  return dots == 2 ? i - at : 0;
}

constexpr std::array<std::string_view, 7> secret_parameters = {
    "token", "access_token", "jwt", "auth", "password", "key", "apikey"};

bool is_secret_parameter(std::string_view name) noexcept {
  for (auto p : secret_parameters)
    if (iequals(name, p)) return true;
  return false;
}

}  // namespace

bool is_secret_header(std::string_view name) noexcept {
  return iequals(name, "authorization") || iequals(name, "proxy-authorization") ||
         iequals(name, "cookie") || iequals(name, "set-cookie");
}

std::string redact_header_value(std::string_view name, std::string_view value) {
  if (!is_secret_header(name)) return redact_text(value);
  const size_t space = value.find(' ');
  if (space != std::string_view::npos && space > 0 && !iequals(name, "cookie"))
    return std::string(value.substr(0, space)) + " [redacted]";
  return "[redacted]";
}

std::string redact_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (const size_t jwt = jwt_length_at(text, i); jwt != 0) {
      out += "eyJ...[redacted]";
      i += jwt;
      continue;
    }
    // name=value in a query string: hide the value of a secret-sounding name.
    if ((text[i] == '?' || text[i] == '&') && i + 1 < text.size()) {
      const size_t eq = text.find('=', i + 1);
      const size_t end_of_name = text.find_first_of("&#", i + 1);
      if (eq != std::string_view::npos &&
          (end_of_name == std::string_view::npos || eq < end_of_name) &&
          is_secret_parameter(text.substr(i + 1, eq - i - 1))) {
        out.append(text.substr(i, eq - i + 1));
        out += "[redacted]";
        const size_t value_end = text.find_first_of("&# ", eq + 1);
        i = value_end == std::string_view::npos ? text.size() : value_end;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace horde::app

#include "proto/http_request.hh"

#include <charconv>

#include "proto/http_token.hh"

namespace horde::proto {

namespace {

// RFC 3986 unreserved and sub-delims, '%' for pct-encoded: what a reg-name
// may hold. Anything else in a host is a typo or an attempt at one.
bool is_host_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '%':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Printable ASCII without space: what a request-target may hold unencoded.
bool is_target_char(char c) noexcept {
  return c > 0x20 && c < 0x7f;
}

// RFC 9110 5.5: field-content is VCHAR, obs-text, SP and HTAB. CR, LF and
// NUL would split or end the line; the other controls are refused too.
bool is_field_value_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

std::string quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static constexpr char digits[] = "0123456789abcdef";
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 15];
    } else {
      out += c;
    }
  }
  return out + "'";
}

result<void> check_target(std::string_view target, std::string_view what) {
  if (target.empty()) return make_error(std::string(what) + " is empty; use \"/\"");
  if (target != "*" && target.front() != '/') {
    return make_error(std::string(what) + " " + quoted(target) + " must start with '/'");
  }
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '#') {
      return make_error(std::string(what) + " " + quoted(target) +
                        " holds a fragment ('#'), which is never sent");
    }
    if (!is_target_char(target[i])) {
      return make_error(std::string(what) + " " + quoted(target) +
                        " has a space or control byte at offset " + std::to_string(i) +
                        "; percent-encode it");
    }
  }
  return {};
}

bool method_without_content(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "DELETE" || method == "OPTIONS" ||
         method == "TRACE";
}

// Splits "Name: value" as the request will carry it; the value is trimmed.
result<void> split_line(std::string_view line, std::string_view& name, std::string_view& value) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return make_error("header line " + quoted(line) + " has no ':'; write \"Name: value\"");
  }
  name = line.substr(0, colon);
  if (!is_token(name)) {
    return make_error("header name " + quoted(name) +
                      " is not an RFC 9110 token (letters, digits, !#$%&'*+-.^_`|~; no spaces)");
  }
  value = trim_spaces(line.substr(colon + 1));
  for (size_t i = 0; i < value.size(); ++i) {
    if (!is_field_value_char(value[i])) {
      return make_error("header " + std::string(name) + " value " + quoted(value) +
                        " has a control byte (CR, LF, NUL, ...) at offset " + std::to_string(i));
    }
  }
  return {};
}

}  // namespace

std::string http_url::host_header() const {
  std::string out;
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  if (port != (tls() ? 443 : 80)) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

result<http_url> parse_http_url(std::string_view url) {
  http_url out;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return make_error("URL " + quoted(url) + " has no scheme; write http://host/path");
  }
  const std::string_view scheme = url.substr(0, sep);
  if (equals_ignore_case(scheme, "http")) {
    out.scheme = "http";
    out.port = 80;
  } else if (equals_ignore_case(scheme, "https")) {
    out.scheme = "https";
    out.port = 443;
  } else {
    return make_error("URL " + quoted(url) + ": scheme " + quoted(scheme) +
                      " is not http or https (WebSocket URLs go elsewhere)");
  }
  std::string_view rest = url.substr(sep + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return make_error("URL " + quoted(url) +
                      " carries user info ('@'); send credentials in a header instead");
  }
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return make_error("URL " + quoted(url) + ": IPv6 literal has no closing ']'");
    }
    const std::string_view v6 = authority.substr(1, close - 1);
    if (v6.find(':') == std::string_view::npos) {
      return make_error("URL " + quoted(url) + ": " + quoted(v6) + " in brackets is not IPv6");
    }
    for (char c : v6) {
      if (!is_hex(c) && c != ':' && c != '.') {
        return make_error("URL " + quoted(url) + ": IPv6 literal " + quoted(v6) +
                          " has a byte that is not hex, ':' or '.' (zone ids are not supported)");
      }
    }
    out.host = v6;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return make_error("URL " + quoted(url) + ": expected ':port' after the IPv6 literal");
      }
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return make_error("URL " + quoted(url) + ": host " + quoted(authority) +
                        " has several ':' (an IPv6 literal goes in brackets)");
    }
    out.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (out.host.empty()) return make_error("URL " + quoted(url) + " has no host");
    for (char c : out.host) {
      if (!is_host_char(c)) {
        return make_error("URL " + quoted(url) + ": host " + quoted(out.host) + " has the byte " +
                          quoted(std::string_view(&c, 1)) +
                          (c == ':' ? " (an IPv6 literal goes in brackets)" : ""));
      }
    }
  }
  if (out.host.empty()) return make_error("URL " + quoted(url) + " has no host");
  // RFC 3986 3.2.3 lets the port be empty after the colon: the default then.
  if (has_port && !port_text.empty()) {
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() ||
        port_text.front() == '+' || value == 0 || value > 65535) {
      return make_error("URL " + quoted(url) + ": port " + quoted(port_text) +
                        " is not a number from 1 to 65535");
    }
    out.port = uint16_t(value);
  }
  rest = rest.substr(0, rest.find('#'));  // the fragment stays with the client
  if (rest.empty()) {
    out.target = "/";
  } else if (rest.front() == '?') {
    out.target = "/";
    out.target += rest;
  } else {
    out.target = rest;
  }
  if (auto checked = check_target(out.target, "URL path"); !checked) return checked.error();
  return out;
}

result<void> check_http_request(const http_request_spec& spec) {
  if (!is_token(spec.method)) {
    return make_error("HTTP method " + quoted(spec.method) + " is not a token (e.g. GET, POST)");
  }
  if (auto checked = check_target(spec.target, "request target"); !checked) return checked;
  if (spec.host.empty()) return make_error("Host is empty; every HTTP/1.1 request needs one");
  for (char c : spec.host) {
    if (!is_target_char(c)) {
      return make_error("Host " + quoted(spec.host) + " has a space or control byte");
    }
  }
  for (std::string_view line : spec.headers) {
    std::string_view name, value;
    if (auto split = split_line(line, name, value); !split) return split;
    if (equals_ignore_case(name, "host") || equals_ignore_case(name, "content-length") ||
        equals_ignore_case(name, "transfer-encoding")) {
      return make_error("header " + std::string(name) +
                        " is written by horde from the request's host and body; remove it");
    }
  }
  return {};
}

result<void> build_http_request(const http_request_spec& spec, std::string& out) {
  out.clear();
  if (auto checked = check_http_request(spec); !checked) return checked;
  bool connection_given = false;
  out += spec.method;
  out += ' ';
  out += spec.target;
  out += " HTTP/1.1\r\nHost: ";
  out += spec.host;
  out += "\r\n";
  for (std::string_view line : spec.headers) {
    std::string_view name, value;
    (void)split_line(line, name, value);  // checked above
    if (equals_ignore_case(name, "connection")) connection_given = true;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!connection_given) {
    out += spec.keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  }
  if (!spec.body.empty() || !method_without_content(spec.method)) {
    out += "Content-Length: ";
    out += std::to_string(spec.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += spec.body;
  return {};
}

}  // namespace horde::proto

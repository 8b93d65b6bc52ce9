#include "proto/upgrade_response.hh"

#include <cstring>

#include "proto/http_token.hh"

namespace horde::proto {

std::string_view to_string(upgrade_failure failure) noexcept {
  switch (failure) {
    case upgrade_failure::none:
      return "none";
    case upgrade_failure::malformed:
      return "malformed";
    case upgrade_failure::too_large:
      return "too_large";
    case upgrade_failure::not_101:
      return "not_101";
    case upgrade_failure::missing_upgrade:
      return "missing_upgrade";
    case upgrade_failure::missing_connection:
      return "missing_connection";
    case upgrade_failure::bad_accept:
      return "bad_accept";
    case upgrade_failure::unexpected_subprotocol:
      return "unexpected_subprotocol";
    case upgrade_failure::unexpected_extension:
      return "unexpected_extension";
  }
  return "unknown";
}

void upgrade_response_parser::reset(std::string_view expected_accept,
                                    const std::vector<std::string>* offered, upgrade_limits limits,
                                    const deflate_offer* deflate) noexcept {
  _block.reset(limits.max_header_bytes);
  std::memset(_expected_accept, 0, sizeof _expected_accept);
  std::memcpy(
      _expected_accept, expected_accept.data(),
      expected_accept.size() < ws_accept_length ? expected_accept.size() : ws_accept_length);
  _offered = offered;
  _deflate_offer = deflate;
  _deflate_params = {};
  _deflate_accepted = false;
  _limits = limits;
  _subprotocol = {};
  _retry_after = 0;
  _status = 0;
  _failure = upgrade_failure::none;
  _done = false;
}

parse_status upgrade_response_parser::feed(std::string_view input, size_t& consumed) noexcept {
  consumed = 0;
  if (_done) return parse_status::done;
  if (_failure != upgrade_failure::none) return parse_status::invalid;
  // Fail early on a first byte that cannot start "HTTP/": a server speaking
  // something else should not make us wait for a blank line.
  if (_block.text().empty() && !input.empty() && input.front() != 'H') {
    return fail(upgrade_failure::malformed);
  }
  const parse_status status = _block.feed(input, consumed);
  if (status == parse_status::invalid) return fail(upgrade_failure::too_large);
  if (status == parse_status::need_more) return status;
  return finish();
}

namespace {

uint32_t parse_seconds(std::string_view value) noexcept {
  // Retry-After is seconds or an HTTP-date; a date reads as 0 (unknown).
  uint64_t seconds = 0;
  if (value.empty()) return 0;
  for (char c : value) {
    if (c < '0' || c > '9') return 0;
    seconds = seconds * 10 + uint64_t(c - '0');
    if (seconds > 86400 * 365) return 86400 * 365;
  }
  return uint32_t(seconds);
}

}  // namespace

// One Sec-WebSocket-Extensions header (there may be several, RFC 6455
// 9.1): false when it names what we did not offer, or accepts twice.
bool upgrade_response_parser::take_extensions(std::string_view value) noexcept {
  if (trim_spaces(value).empty()) return true;
  if (_deflate_offer == nullptr) return false;
  deflate_params params;
  switch (negotiate(*_deflate_offer, value, params)) {
    case deflate_answer::absent:
      return true;
    case deflate_answer::invalid:
      return false;
    case deflate_answer::accepted:
      if (_deflate_accepted) return false;
      _deflate_accepted = true;
      _deflate_params = params;
      return true;
  }
  return false;
}

parse_status upgrade_response_parser::finish() noexcept {
  header_lines lines(_block.text());
  std::string_view line;
  if (!lines.next(line)) return fail(upgrade_failure::malformed);
  _status = parse_http_status_line(line);
  if (_status == 0) return fail(upgrade_failure::malformed);

  bool upgrade_ok = false, connection_ok = false, accept_ok = false;
  bool accept_seen = false, extension_bad = false;
  size_t count = 0;
  std::string_view protocol;
  while (lines.next(line)) {
    if (++count > _limits.max_headers) return fail(upgrade_failure::too_large);
    std::string_view name, value;
    if (!split_header_field(line, name, value)) return fail(upgrade_failure::malformed);
    if (equals_ignore_case(name, "upgrade")) {
      upgrade_ok = upgrade_ok || any_list_item(value, [](std::string_view item) {
                     return equals_ignore_case(item, "websocket");
                   });
    } else if (equals_ignore_case(name, "connection")) {
      connection_ok = connection_ok || any_list_item(value, [](std::string_view item) {
                        return equals_ignore_case(item, "upgrade");
                      });
    } else if (equals_ignore_case(name, "sec-websocket-accept")) {
      // A second Accept header is as wrong as a wrong one.
      accept_ok = !accept_seen && value == std::string_view(_expected_accept, ws_accept_length);
      accept_seen = true;
    } else if (equals_ignore_case(name, "sec-websocket-protocol")) {
      if (!protocol.empty()) return fail(upgrade_failure::unexpected_subprotocol);
      protocol = value;
    } else if (equals_ignore_case(name, "sec-websocket-extensions")) {
      extension_bad = extension_bad || !take_extensions(value);
    } else if (equals_ignore_case(name, "retry-after")) {
      _retry_after = parse_seconds(value);
    }
  }
  if (_status != 101) {
    _failure = upgrade_failure::not_101;
    _done = true;
    return parse_status::done;
  }
  if (!upgrade_ok) return fail(upgrade_failure::missing_upgrade);
  if (!connection_ok) return fail(upgrade_failure::missing_connection);
  if (!accept_ok) return fail(upgrade_failure::bad_accept);
  if (extension_bad) return fail(upgrade_failure::unexpected_extension);
  if (!protocol.empty()) {
    bool offered = false;
    if (_offered != nullptr) {
      for (const auto& p : *_offered)
        offered = offered || p == protocol;
    }
    if (!offered) return fail(upgrade_failure::unexpected_subprotocol);
    _subprotocol = protocol;
  }
  _done = true;
  return parse_status::done;
}

}  // namespace horde::proto

#include "proto/upgrade_server.hh"

#include "proto/accept_key.hh"
#include "proto/http_token.hh"

namespace horde::proto {

std::string_view to_string(upgrade_request_failure failure) noexcept {
  switch (failure) {
    case upgrade_request_failure::none:
      return "none";
    case upgrade_request_failure::malformed:
      return "malformed";
    case upgrade_request_failure::too_large:
      return "too_large";
    case upgrade_request_failure::not_get:
      return "not_get";
    case upgrade_request_failure::missing_host:
      return "missing_host";
    case upgrade_request_failure::missing_upgrade:
      return "missing_upgrade";
    case upgrade_request_failure::missing_connection:
      return "missing_connection";
    case upgrade_request_failure::bad_version:
      return "bad_version";
    case upgrade_request_failure::bad_key:
      return "bad_key";
  }
  return "unknown";
}

void upgrade_request_parser::reset(size_t max_header_bytes, size_t max_headers) noexcept {
  _block.reset(max_header_bytes);
  _max_headers = max_headers;
  _key = _path = _subprotocols = {};
  _failure = upgrade_request_failure::none;
  _finished = parse_status::need_more;
}

parse_status upgrade_request_parser::feed(std::string_view input, size_t& consumed) noexcept {
  consumed = 0;
  // A decided request stays decided: what follows it belongs to the framer.
  if (_finished != parse_status::need_more) return _finished;
  const parse_status status = _block.feed(input, consumed);
  if (status == parse_status::invalid) {
    _failure = upgrade_request_failure::too_large;
    _finished = status;
    return status;
  }
  if (status == parse_status::need_more) return status;
  _finished = finish();
  return _finished;
}

namespace {

bool is_base64_key(std::string_view key) noexcept {
  // 16 bytes encode to 22 characters and "==" (RFC 6455 4.1, item 7).
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    const char c = key[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

parse_status upgrade_request_parser::finish() noexcept {
  auto fail = [&](upgrade_request_failure why) {
    _failure = why;
    return why == upgrade_request_failure::malformed || why == upgrade_request_failure::too_large
               ? parse_status::invalid
               : parse_status::done;
  };
  header_lines lines(_block.text());
  std::string_view line;
  if (!lines.next(line)) return fail(upgrade_request_failure::malformed);
  // "GET /path HTTP/1.1"
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || last_space == first_space) {
    return fail(upgrade_request_failure::malformed);
  }
  if (line.substr(0, first_space) != "GET" || line.substr(last_space + 1) != "HTTP/1.1") {
    return fail(upgrade_request_failure::not_get);
  }
  _path = line.substr(first_space + 1, last_space - first_space - 1);
  if (_path.empty()) return fail(upgrade_request_failure::malformed);

  bool host = false, upgrade = false, connection = false, version = false;
  size_t count = 0;
  while (lines.next(line)) {
    if (++count > _max_headers) return fail(upgrade_request_failure::too_large);
    std::string_view name, value;
    if (!split_header_field(line, name, value)) return fail(upgrade_request_failure::malformed);
    if (equals_ignore_case(name, "host")) {
      host = !value.empty();
    } else if (equals_ignore_case(name, "upgrade")) {
      upgrade = upgrade || any_list_item(value, [](std::string_view item) {
                  return equals_ignore_case(item, "websocket");
                });
    } else if (equals_ignore_case(name, "connection")) {
      connection = connection || any_list_item(value, [](std::string_view item) {
                     return equals_ignore_case(item, "upgrade");
                   });
    } else if (equals_ignore_case(name, "sec-websocket-version")) {
      version = value == "13";
    } else if (equals_ignore_case(name, "sec-websocket-key")) {
      _key = value;
    } else if (equals_ignore_case(name, "sec-websocket-protocol")) {
      _subprotocols = value;
    }
  }
  if (!host) return fail(upgrade_request_failure::missing_host);
  if (!upgrade) return fail(upgrade_request_failure::missing_upgrade);
  if (!connection) return fail(upgrade_request_failure::missing_connection);
  if (!version) return fail(upgrade_request_failure::bad_version);
  if (!is_base64_key(_key)) return fail(upgrade_request_failure::bad_key);
  return parse_status::done;
}

std::string build_upgrade_response(std::string_view key, std::string_view subprotocol) {
  std::string out;
  out.reserve(160);
  out +=
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  out += accept_key_for(key);
  out += "\r\n";
  if (!subprotocol.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    out += subprotocol;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string build_error_response(int status, std::string_view reason, std::string_view extra) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += reason;
  out += "\r\nConnection: close\r\nContent-Length: 0\r\nSec-WebSocket-Version: 13\r\n";
  out += extra;
  out += "\r\n";
  return out;
}

}  // namespace horde::proto

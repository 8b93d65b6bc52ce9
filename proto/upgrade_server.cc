#include "proto/upgrade_server.hh"

#include <algorithm>

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

void upgrade_request_parser::reset(size_t max_header_bytes, size_t max_headers,
                                   size_t max_body_bytes) noexcept {
  _block.reset(max_header_bytes);
  _max_headers = max_headers;
  _max_body = max_body_bytes;
  _content_length = _body_left = 0;
  _held.clear();
  _body.clear();
  _method = _key = _path = _subprotocols = _extensions = _authorization = {};
  _failure = upgrade_request_failure::none;
  _finished = _decided = parse_status::need_more;
  _keep_alive = true;
}

parse_status upgrade_request_parser::feed(std::string_view input, size_t& consumed) noexcept {
  consumed = 0;
  // A decided request stays decided: what follows it belongs to the framer
  // (or to the next request).
  if (_finished != parse_status::need_more) return _finished;
  if (_decided == parse_status::need_more) {
    const parse_status status = _block.feed(input, consumed);
    if (status == parse_status::invalid) {
      _failure = upgrade_request_failure::too_large;
      _finished = status;
      return status;
    }
    if (status == parse_status::need_more) return status;
    _decided = finish();
    if (_decided == parse_status::invalid || _body_left == 0) {
      _finished = _decided;
      return _finished;
    }
  }
  const size_t take = std::min(_body_left, input.size() - consumed);
  _body.append(input.substr(consumed, take));
  consumed += take;
  _body_left -= take;
  if (_body_left > 0) {
    hold_header();
    return parse_status::need_more;
  }
  _finished = _decided;
  return _finished;
}

void upgrade_request_parser::hold_header() {
  if (!_held.empty()) return;
  const std::string_view text = _block.text();
  _held.assign(text);
  auto rebase = [&](std::string_view& view) {
    if (view.data() == nullptr) return;
    view = std::string_view(_held.data() + (view.data() - text.data()), view.size());
  };
  rebase(_method);
  rebase(_key);
  rebase(_path);
  rebase(_subprotocols);
  rebase(_extensions);
  rebase(_authorization);
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

// "0" to "99999999999": a Content-Length (RFC 9110 8.6); false for anything else.
static bool parse_length(std::string_view text, size_t& out) noexcept {
  if (text.empty() || text.size() > 11) return false;
  size_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + size_t(c - '0');
  }
  out = n;
  return true;
}

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
  _method = line.substr(0, first_space);
  const bool http11 = line.substr(last_space + 1) == "HTTP/1.1";
  _keep_alive = http11;
  _path = line.substr(first_space + 1, last_space - first_space - 1);
  if (_path.empty()) return fail(upgrade_request_failure::malformed);

  bool host = false, upgrade = false, connection = false, version = false;
  bool has_length = false, transfer_encoding = false;
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
      if (any_list_item(value,
                        [](std::string_view item) { return equals_ignore_case(item, "close"); })) {
        _keep_alive = false;
      }
    } else if (equals_ignore_case(name, "sec-websocket-version")) {
      version = value == "13";
    } else if (equals_ignore_case(name, "sec-websocket-key")) {
      _key = value;
    } else if (equals_ignore_case(name, "sec-websocket-protocol")) {
      _subprotocols = value;
    } else if (equals_ignore_case(name, "sec-websocket-extensions")) {
      if (_extensions.empty()) _extensions = value;  // the first line (see extensions())
    } else if (equals_ignore_case(name, "authorization")) {
      _authorization = value;
    } else if (equals_ignore_case(name, "content-length")) {
      // Two different lengths frame the body two ways (RFC 9112 6.3, item 5).
      size_t length = 0;
      if (!parse_length(value, length) || (has_length && length != _content_length)) {
        return fail(upgrade_request_failure::malformed);
      }
      has_length = true;
      _content_length = length;
    } else if (equals_ignore_case(name, "transfer-encoding")) {
      transfer_encoding = true;
    }
  }
  if (_max_body > 0) {
    // Bodies are read: only Content-Length framing (chunked is not read, and
    // a message with both is a smuggling attempt, RFC 9112 6.1).
    if (transfer_encoding) return fail(upgrade_request_failure::malformed);
    if (_content_length > _max_body) return fail(upgrade_request_failure::too_large);
    _body_left = _content_length;
  }
  if (_method != "GET" || !http11) return fail(upgrade_request_failure::not_get);
  if (!host) return fail(upgrade_request_failure::missing_host);
  if (!upgrade) return fail(upgrade_request_failure::missing_upgrade);
  if (!connection) return fail(upgrade_request_failure::missing_connection);
  if (!version) return fail(upgrade_request_failure::bad_version);
  if (!is_base64_key(_key)) return fail(upgrade_request_failure::bad_key);
  return parse_status::done;
}

std::string build_upgrade_response(std::string_view key, std::string_view subprotocol,
                                   std::string_view extensions) {
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
  if (!extensions.empty()) {
    out += "Sec-WebSocket-Extensions: ";
    out += extensions;
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

void append_response(std::string& out, int status, std::string_view reason,
                     std::string_view content_type, std::string_view body, bool keep_alive) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason;
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  out += body;
}

}  // namespace horde::proto

#include "proto/http_response.hh"

#include <algorithm>
#include <new>

#include "proto/http_token.hh"

namespace horde::proto {

std::string_view to_string(http_failure failure) noexcept {
  switch (failure) {
    case http_failure::none:
      return "none";
    case http_failure::malformed:
      return "malformed";
    case http_failure::too_large:
      return "too_large";
    case http_failure::bad_length:
      return "bad_length";
    case http_failure::bad_framing:
      return "bad_framing";
  }
  return "unknown";
}

namespace {

constexpr uint32_t max_chunk_line = 1024;  // size, extensions and CRLF

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Content-Length: 1*DIGIT; false when not a number or over `limit`.
bool parse_length(std::string_view value, uint64_t limit, uint64_t& out) noexcept {
  if (value.empty()) return false;
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + uint64_t(c - '0');
    if (n > limit) {
      out = limit + 1;
      return true;
    }
  }
  out = n;
  return true;
}

}  // namespace

void http_response_parser::reset(http_response_limits limits) noexcept {
  _block.reset(limits.max_header_bytes);
  _limits = limits;
  _remaining = _body_bytes = 0;
  _line_bytes = _trailer_bytes = 0;
  _status = 0;
  _stage = stage::header;
  _failure = http_failure::none;
  _keep_alive = true;
  _size_digits = _chunk_cr = false;
  _header_read = false;
  _kept_header.clear();
  _body.clear();
}

parse_status http_response_parser::feed(std::string_view input, size_t& consumed) noexcept {
  consumed = 0;
  if (_stage == stage::done) return parse_status::done;
  if (_stage == stage::failed) return parse_status::invalid;
  if (_stage == stage::header) {
    const parse_status status = read_header(input, consumed);
    if (status != parse_status::done || _stage == stage::done) return status;
  }
  size_t used = 0;
  const parse_status status = read_body(input.substr(consumed), used);
  consumed += used;
  return status;
}

parse_status http_response_parser::read_header(std::string_view input, size_t& consumed) noexcept {
  for (;;) {
    // Fail early on a first byte that cannot start "HTTP/".
    const std::string_view rest = input.substr(consumed);
    if (_block.text().empty() && !rest.empty() && rest.front() != 'H') {
      return fail(http_failure::malformed);
    }
    size_t used = 0;
    const parse_status status = _block.feed(rest, used);
    consumed += used;
    if (status == parse_status::invalid) return fail(http_failure::too_large);
    if (status == parse_status::need_more) return status;
    const parse_status header = header_complete();
    if (header != parse_status::need_more) return header;
    // An interim (1xx) answer: the real one follows.
    _block.reset(_limits.max_header_bytes);
  }
}

// The header is complete: status, keep-alive and how the body is framed.
// need_more means it was an interim 1xx answer.
parse_status http_response_parser::header_complete() noexcept {
  header_lines lines(_block.text());
  std::string_view line;
  if (!lines.next(line)) return fail(http_failure::malformed);
  _status = parse_http_status_line(line);
  if (_status == 0) return fail(http_failure::malformed);
  _keep_alive = line[7] == '1';  // HTTP/1.0 closes unless it says keep-alive
  bool length_seen = false, coding_seen = false, chunked = false;
  uint64_t length = 0;
  size_t count = 0;
  while (lines.next(line)) {
    if (++count > _limits.max_headers) return fail(http_failure::too_large);
    std::string_view name, value;
    if (!split_header_field(line, name, value)) return fail(http_failure::malformed);
    if (equals_ignore_case(name, "content-length")) {
      uint64_t n = 0;
      if (!parse_length(value, body_limit(), n)) return fail(http_failure::bad_length);
      if (length_seen && n != length) return fail(http_failure::bad_length);
      length_seen = true;
      length = n;
    } else if (equals_ignore_case(name, "transfer-encoding")) {
      // Chunked must be the last coding (RFC 9112 6.1): it frames the body,
      // which is skipped, so the codings before it do not matter.
      any_list_item(value, [&](std::string_view item) {
        coding_seen = true;
        chunked = equals_ignore_case(item, "chunked");
        return false;
      });
    } else if (equals_ignore_case(name, "connection")) {
      any_list_item(value, [&](std::string_view item) {
        if (equals_ignore_case(item, "close")) _keep_alive = false;
        if (equals_ignore_case(item, "keep-alive")) _keep_alive = true;
        return false;
      });
    }
  }
  if (_status < 200 && _status != 101) return parse_status::need_more;
  if ((coding_seen && !chunked) || (chunked && length_seen)) {
    return fail(http_failure::bad_framing);
  }
  if (_limits.keep) {
    // The block may view the caller's bytes, which they reuse once feed()
    // returns; header() must outlive that.
    try {
      _kept_header.assign(_block.text());
    } catch (const std::bad_alloc&) {
      return fail(http_failure::too_large);
    }
  }
  _header_read = true;
  if (_status == 204 || _status == 304 || _status == 101) {
    _stage = stage::done;
  } else if (chunked) {
    _stage = stage::chunk_size;
  } else if (length_seen) {
    if (length > body_limit()) return fail(http_failure::too_large);
    if (_limits.keep) {
      try {
        _body.reserve(
            size_t(length));  // within the kept cap: one allocation, not a doubling series
      } catch (const std::bad_alloc&) {
        return fail(http_failure::too_large);
      }
    }
    _remaining = length;
    _body_bytes = length;
    _stage = length == 0 ? stage::done : stage::body_length;
  } else {
    _keep_alive = false;  // the close is what ends the body
    _stage = stage::body_until_close;
  }
  return parse_status::done;
}

bool http_response_parser::count_body(uint64_t n) noexcept {
  _body_bytes += n;
  return _body_bytes <= body_limit();
}

// False only when memory ran out: the length was checked against the cap
// before any byte of it is kept.
bool http_response_parser::keep_body(std::string_view bytes) noexcept {
  if (!_limits.keep) return true;
  try {
    _body.append(bytes);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

std::optional<std::string_view> http_response_parser::header(std::string_view name) const noexcept {
  if (!_header_read) return std::nullopt;
  header_lines lines(_limits.keep ? std::string_view(_kept_header) : _block.text());
  std::string_view line;
  if (!lines.next(line)) return std::nullopt;  // the status line
  while (lines.next(line)) {
    std::string_view field, value;
    // Every line was checked when the header was read.
    if (split_header_field(line, field, value) && equals_ignore_case(field, name)) return value;
  }
  return std::nullopt;
}

parse_status http_response_parser::read_body(std::string_view input, size_t& consumed) noexcept {
  size_t i = 0;
  // A refused response has consumed the bytes up to and including the one
  // that made it invalid, however the input was split.
  auto refuse = [&](http_failure why) {
    consumed = i;
    return fail(why);
  };
  while (_stage != stage::done) {
    if (_stage == stage::body_until_close) {
      const uint64_t room = body_limit() - std::min(_body_bytes, body_limit());
      if (input.size() - i > room) {
        // The first byte past the limit refuses it, with what came before.
        i += size_t(room) + 1;
        _body_bytes = body_limit() + 1;
        return refuse(http_failure::too_large);
      }
      consumed = input.size();
      count_body(input.size() - i);
      if (!keep_body(input.substr(i))) return fail(http_failure::too_large);
      return parse_status::need_more;
    }
    if (i == input.size()) {
      consumed = i;
      return parse_status::need_more;
    }
    const char c = input[i];
    switch (_stage) {
      case stage::body_length:
      case stage::chunk_data: {
        const uint64_t take = std::min<uint64_t>(_remaining, input.size() - i);
        if (!keep_body(input.substr(i, size_t(take)))) return refuse(http_failure::too_large);
        i += size_t(take);
        _remaining -= take;
        if (_remaining == 0) _stage = _stage == stage::body_length ? stage::done : stage::chunk_end;
        break;
      }
      case stage::chunk_size:
      case stage::chunk_extension: {
        ++i;
        if (++_line_bytes > max_chunk_line) return refuse(http_failure::too_large);
        if (c == '\n') {
          if (!_size_digits) return refuse(http_failure::malformed);
          _line_bytes = 0;
          _size_digits = false;
          _stage = _remaining == 0 ? stage::trailer : stage::chunk_data;
          if (_remaining != 0 && !count_body(_remaining)) return refuse(http_failure::too_large);
          break;
        }
        if (_stage == stage::chunk_extension || c == '\r') break;  // extensions are skipped
        if (c == ';' || c == ' ' || c == '\t') {
          _stage = stage::chunk_extension;
          break;
        }
        const int digit = hex_value(c);
        if (digit < 0) return refuse(http_failure::malformed);
        _size_digits = true;
        _remaining = _remaining * 16 + uint64_t(digit);
        if (_remaining > body_limit()) return refuse(http_failure::too_large);
        break;
      }
      case stage::chunk_end:
        ++i;
        if (c == '\r' && !_chunk_cr) {
          _chunk_cr = true;
        } else if (c == '\n') {
          _chunk_cr = false;
          _stage = stage::chunk_size;
        } else {
          return refuse(http_failure::malformed);
        }
        break;
      case stage::trailer:
        ++i;
        if (++_trailer_bytes > _limits.max_header_bytes) return refuse(http_failure::too_large);
        if (c == '\n') {
          if (_line_bytes == 0) _stage = stage::done;  // the blank line
          _line_bytes = 0;
        } else if (c != '\r') {
          ++_line_bytes;
        }
        break;
      default:
        return refuse(http_failure::malformed);
    }
  }
  consumed = i;
  return parse_status::done;
}

parse_status http_response_parser::finish_at_close() noexcept {
  if (_stage == stage::done) return parse_status::done;
  if (_stage == stage::body_until_close) {
    _stage = stage::done;
    return parse_status::done;
  }
  if (_stage != stage::failed) fail(http_failure::malformed);
  return parse_status::invalid;
}

}  // namespace horde::proto

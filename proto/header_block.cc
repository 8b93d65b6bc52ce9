#include "proto/header_block.hh"

#include <cstring>
#include <new>

#include "proto/http_token.hh"

namespace horde::proto {

namespace {

// The index just past the blank line ending a header, or npos. A line may end
// in CRLF or a bare LF, so the end is "\n\n" or "\n\r\n".
size_t header_end(std::string_view text) noexcept {
  for (size_t i = text.find('\n'); i != std::string_view::npos; i = text.find('\n', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == '\n') return i + 2;
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

}  // namespace

parse_status header_block::feed(std::string_view input, size_t& consumed) noexcept {
  consumed = 0;
  if (_size == 0) {
    const size_t end = header_end(input.substr(0, _limit));
    if (end != std::string_view::npos) {
      _in_place = input.substr(0, end);
      consumed = end;
      return parse_status::done;
    }
    // Exactly _limit bytes with no end yet is not over the limit: the
    // byte-by-byte path below says need_more for them too.
    if (input.size() > _limit) {
      _overflow = true;
      consumed = _limit;  // as much as a byte-by-byte read would have taken
      return parse_status::invalid;
    }
    if (input.empty()) return parse_status::need_more;
    if (!_bytes) {
      _bytes.reset(new (std::nothrow) char[header_block_capacity]);
      if (!_bytes) {
        _overflow = true;
        return parse_status::invalid;
      }
    }
  }
  for (size_t i = 0; i < input.size(); ++i) {
    if (_size >= _limit) {
      _overflow = true;
      consumed = i;
      return parse_status::invalid;
    }
    const char c = input[i];
    _bytes[_size++] = c;
    if (c != '\n') continue;
    const bool blank = (_size >= 2 && _bytes[_size - 2] == '\n') ||
                       (_size >= 3 && _bytes[_size - 2] == '\r' && _bytes[_size - 3] == '\n');
    if (blank) {
      consumed = i + 1;
      return parse_status::done;
    }
  }
  consumed = input.size();
  return parse_status::need_more;
}

bool split_header_field(std::string_view line, std::string_view& name,
                        std::string_view& value) noexcept {
  if (line.empty() || line.front() == ' ' || line.front() == '\t') return false;  // folding
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  name = line.substr(0, colon);
  if (!is_token(name)) return false;
  value = trim_spaces(line.substr(colon + 1));
  return true;
}

int parse_http_status_line(std::string_view line) noexcept {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return 0;
  if (line[7] != '0' && line[7] != '1') return 0;
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return 0;
  return code >= 100 ? code : 0;
}

}  // namespace horde::proto

#include "proto/header_block.hh"

#include <cstring>

#include "proto/http_token.hh"

namespace horde::proto {

parse_status header_block::feed(std::string_view input, size_t& consumed) noexcept {
  consumed = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    if (_size >= _limit) {
      _overflow = true;
      consumed = i;
      return parse_status::invalid;
    }
    const char c = input[i];
    _bytes[_size++] = c;
    if (c != '\n') continue;
    // The end is an empty line: "\n\n" or "\n\r\n".
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

}  // namespace horde::proto

// Collects an HTTP/1.1 header block (start line through the blank line) from
// arbitrarily split input into a fixed buffer, and walks its lines. Shared by
// the client's response parser and the reference server's request parser.
// Never allocates; the limit is a hard cap on what a peer can make us hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "proto/parse_status.hh"

namespace horde::proto {

inline constexpr size_t header_block_capacity = 8192;

class header_block {
 public:
  void reset(size_t limit) noexcept {
    _size = 0;
    _limit = limit < header_block_capacity ? limit : header_block_capacity;
    _overflow = false;
    _in_place = {};
  }

  // Takes bytes up to and including the blank line; `consumed` says how many
  // of `input` were taken (the rest belong to whatever follows the header).
  // invalid means the block would exceed the limit (overflow() is then true).
  //
  // A header that arrives whole in the first feed (the usual case) is not
  // copied: text() then views the caller's bytes, valid until they are
  // reused. Only a split header is copied, into a buffer allocated on first
  // need, so an idle parser costs a few dozen bytes, not 8 KiB.
  parse_status feed(std::string_view input, size_t& consumed) noexcept;

  bool overflow() const noexcept { return _overflow; }
  std::string_view text() const noexcept {
    return _in_place.data() != nullptr ? _in_place : std::string_view(_bytes.get(), _size);
  }

 private:
  std::unique_ptr<char[]> _bytes;  // header_block_capacity bytes once a header was split
  size_t _size = 0;
  size_t _limit = header_block_capacity;
  std::string_view _in_place;
  bool _overflow = false;
};

// Splits a complete block into lines without their CRLF. A bare LF ends a
// line too (RFC 9112 2.2 lets a recipient accept it).
class header_lines {
 public:
  explicit header_lines(std::string_view block) noexcept : _rest(block) {}
  // False at the blank line (or the end).
  bool next(std::string_view& line) noexcept {
    const size_t lf = _rest.find('\n');
    if (lf == std::string_view::npos) return false;
    line = _rest.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    _rest.remove_prefix(lf + 1);
    return !line.empty();
  }

 private:
  std::string_view _rest;
};

// One "Name: value" line. False when the line is not a valid field (no
// colon, a name that is not a token, or obsolete line folding).
bool split_header_field(std::string_view line, std::string_view& name,
                        std::string_view& value) noexcept;

// "HTTP/1.1 101 Switching Protocols" -> 101; 0 when malformed (HTTP/1.0 and
// 1.1 only, a 3-digit code of at least 100).
int parse_http_status_line(std::string_view line) noexcept;

}  // namespace horde::proto

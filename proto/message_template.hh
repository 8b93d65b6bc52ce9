// An application's message format with holes: `{group}` and `{payload}` (and
// `{n}` in group-name patterns). Parsed once from the user's flag, expanded
// per message with no parsing, and matched against received messages (a
// subscription acknowledgement) to recover what filled the `{group}` hole.
//
//   sub {group}                              the reference server's protocol
//   {"type":"join","room":"{group}"}          a JSON chat server
//   {"type":"msg","room":"{group}","text":"{payload}"}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace horde::proto {

class message_template {
 public:
  // Holes allowed in this template, e.g. {"group", "payload"}. A hole is
  // {name} with a name of letters, digits and '_'; an unknown name is an
  // error (a typo); every other brace is literal, so JSON needs no escaping.
  static result<message_template> parse(std::string_view text,
                                        const std::vector<std::string_view>& allowed_holes);

  message_template() = default;

  bool empty() const noexcept { return _literals.size() == 1 && _literals[0].empty(); }
  bool has(std::string_view hole) const noexcept;
  // Bytes of the expansion without the holes.
  size_t literal_size() const noexcept { return _literal_size; }

  // Appends the expansion to out; values[i] fills holes named allowed[i].
  void expand(std::string& out, const std::vector<std::string_view>& values) const;

  // If text is an expansion of this template, returns what filled the first
  // hole (a template with exactly one hole; its value may not be empty).
  std::optional<std::string_view> match_one(std::string_view text) const noexcept;

 private:
  std::vector<std::string> _literals;  // holes.size() + 1 pieces
  std::vector<uint8_t> _holes;         // index into the allowed list
  size_t _literal_size = 0;
  std::vector<std::string> _hole_names;
};

// Group names from a pattern with one `{n}` hole, and back.
class group_names {
 public:
  static result<group_names> make(std::string_view pattern);
  group_names() = default;

  void append_name(std::string& out, uint64_t n) const;
  std::string name(uint64_t n) const;
  // The n a name was made from, if it was made by this pattern.
  std::optional<uint64_t> number_of(std::string_view name) const noexcept;

 private:
  std::string _prefix, _suffix;
};

}  // namespace horde::proto

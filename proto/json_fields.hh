// Reads a few fields out of a JSON message on the message path: a
// correlation id, an error code, a stream frame's type. simdjson's On Demand
// parser walks only the paths asked for, once, with no DOM per message.
//
// json_pointer (RFC 6901) and json_predicate are compiled once, on the cold
// path, from scenario text. json_reader holds the simdjson parser and a
// padded scratch buffer: one per shard thread, reused for every message, so
// after the first messages of a given size it never allocates. simdjson
// stays behind a pimpl: core/ includes this header without simdjson on its
// include path.
//
// Invariant: no input makes the reader crash or read outside the message (or
// the padding the caller vouches for). What On Demand does not walk it does
// not validate: a fault after the last field read may go unnoticed (see
// json_reader::get).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace horde::proto {

// simdjson reads up to this many bytes past the end of its input (its
// SIMDJSON_PADDING; a static_assert in the .cc keeps the two equal).
inline constexpr size_t json_padding = 64;
// A message over this is not parsed (kind invalid_json): the reader's
// buffers grow to the largest message seen, and this bounds them.
inline constexpr size_t json_max_message_bytes = size_t(16) << 20;
// Pointer tokens, hence how deep a read descends; nesting below the paths
// read is skipped without recursion.
inline constexpr size_t json_max_pointer_tokens = 32;

class json_pointer {
 public:
  // "" (the whole document), "/id", "/error/code", "/result/0/x"; "~0" is
  // '~' and "~1" is '/' inside a token. Errors name the offending offset.
  static result<json_pointer> parse(std::string_view text);

  std::string_view text() const noexcept { return _text; }
  size_t size() const noexcept { return _tokens.size(); }
  // Token i, unescaped.
  std::string_view token(size_t i) const noexcept { return _tokens[i].name; }
  // Token i as an array index ("0", "17"; no leading zero), or -1.
  int64_t index(size_t i) const noexcept { return _tokens[i].index; }

 private:
  struct token_info {
    std::string name;
    int64_t index;
  };
  std::string _text;
  std::vector<token_info> _tokens;
};

enum class json_value_kind : uint8_t {
  missing,  // the path leads nowhere (no such key or index, or through a scalar)
  string,
  number,
  boolean,
  null,
  object,
  array,
  invalid_json,  // the message is not JSON where it was walked (or is over the size cap)
};

std::string_view to_string(json_value_kind kind) noexcept;

struct json_scalar {
  json_value_kind kind = json_value_kind::missing;
  // string: the content, unescaped. number: the token as written ("-1.5e3").
  // boolean: "true" or "false". null: "null". Otherwise empty (an object or
  // array is reported, not copied). Valid until the reader's next call, and
  // while the message's bytes are unchanged.
  std::string_view text;
};

// The correlation rule: a string, number, boolean or null equals `rendered`
// when its text (unescaped for a string, the token as written for the
// others) is byte for byte `rendered`. So the number 42 and the string "42"
// both equal "42" — a JSON-RPC id may come back as either — but 42.0 and 4.2e1
// do not: JSON-RPC 2.0 ids SHOULD NOT have fractions and a server echoes the
// id as it was sent. missing, object, array and invalid_json equal nothing.
bool json_equals_rendered(const json_scalar& value, std::string_view rendered) noexcept;

// "<pointer> <op> <literal>" or "<pointer> exists", with op one of == != < <=
// > >= and the literal a JSON string, number, true, false or null:
//   /type == "done"     /error/code == -32600     /seq >= 10     /error exists
// The pointer ends at the first space (so a key with a space cannot be named
// here). Semantics, chosen so a predicate never matches a message that is
// not JSON:
//  - exists: the field is there (null included).
//  - ==: same kind and same value; numbers compare by value (3 == 3.0),
//    exactly as integers when both are (64-bit) integers.
//  - !=: not ==, so true for a missing field; false on invalid JSON.
//  - < <= > >=: both numbers (a literal that is not a number is refused).
class json_predicate {
 public:
  enum class op : uint8_t { exists, eq, ne, lt, le, gt, ge };

  static result<json_predicate> parse(std::string_view text);

  const json_pointer& pointer() const noexcept { return _pointer; }
  // The predicate on a value already read (e.g. by json_reader::get_many).
  bool test(const json_scalar& value) const noexcept;

 private:
  json_pointer _pointer;
  op _op = op::exists;
  json_value_kind _kind = json_value_kind::missing;  // the literal's
  std::string _literal;  // unescaped string, number token, "true", "false", "null"
};

class json_reader {
 public:
  // Fields one get_many pass reads; more pointers take more passes.
  static constexpr size_t max_fields_per_pass = 8;

  json_reader();
  ~json_reader();
  json_reader(json_reader&&) noexcept;
  json_reader& operator=(json_reader&&) noexcept;

  // The value at `pointer`. `readable_after` is how many bytes past the
  // message's end the caller guarantees readable (the rest of a receive
  // buffer): at least json_padding lets the reader parse the message where
  // it lies, otherwise it is copied into the reader's padded scratch first.
  //
  // On Demand validates what it walks: the path to the field and the field.
  // invalid_json means a fault there (or a message that is empty or over
  // json_max_message_bytes); bytes after the last field read are not checked, so
  // {"id":1,]} gives id 1 (simdjson 3.0.1 does check that a root object or
  // array ends in its closing bracket, so {"id":1,] is invalid_json).
  json_scalar get(std::span<const uint8_t> message, const json_pointer& pointer,
                  size_t readable_after = 0) noexcept;
  json_scalar get(std::string_view message, const json_pointer& pointer,
                  size_t readable_after = 0) noexcept {
    return get(as_bytes(message), pointer, readable_after);
  }

  // out[i] = the value at pointers[i], for i < min(sizes), read in one pass
  // over the message whatever the pointers' order (up to
  // max_fields_per_pass). A duplicate key: the first occurrence counts. A
  // fault anywhere the pass walked makes every out[i] invalid_json.
  void get_many(std::span<const uint8_t> message, std::span<const json_pointer> pointers,
                std::span<json_scalar> out, size_t readable_after = 0) noexcept;
  void get_many(std::string_view message, std::span<const json_pointer> pointers,
                std::span<json_scalar> out, size_t readable_after = 0) noexcept {
    get_many(as_bytes(message), pointers, out, readable_after);
  }

  bool matches(std::span<const uint8_t> message, const json_predicate& predicate,
               size_t readable_after = 0) noexcept {
    return predicate.test(get(message, predicate.pointer(), readable_after));
  }
  bool matches(std::string_view message, const json_predicate& predicate,
               size_t readable_after = 0) noexcept {
    return matches(as_bytes(message), predicate, readable_after);
  }

 private:
  struct state;

  static std::span<const uint8_t> as_bytes(std::string_view text) noexcept {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
  }

  std::unique_ptr<state> _state;
};

}  // namespace horde::proto

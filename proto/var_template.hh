// Per-connection variable templates: the text of a URL, a header, an HTTP
// body, a JWT claim or a message, with `{name}` holes filled for each
// connection or request. Parsed once (cold path, errors name the column and
// the nearest known name); rendered per use with no parsing and no allocation
// beyond growing the output.
//
//   ws://host/chat?user={user}&n={conn}       a feeder column and a builtin
//   {"id":"{uuid}","seq":{seq}}               JSON braces stay literal
//   {"sub":"{user}","exp":{now+3600}}         a JWT claim an hour ahead
//
// Builtins: {conn} {seq} {rand:N} {uuid} {now_ms} {now} {now+N} {now-N}.
// Every other hole is a user variable (a feeder column) from the known list.
// A brace that does not open a well-formed hole is literal text, so JSON needs
// no escaping; a hole's name starts with a letter or '_', so `{0}` and `{-1}`
// are literal too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace horde::proto {

// What render reads; the caller fills it per render (no virtual calls).
struct var_values {
  uint64_t conn = 0;        // global connection index
  uint64_t seq = 0;         // e.g. the request number within the connection
  int64_t realtime_ns = 0;  // CLOCK_REALTIME now; read only if needs_clock()
  // splitmix64 state the caller owns (one per shard); any value, 0 included,
  // is a valid state. Null: a state derived from conn and seq, so the render
  // is deterministic (tests, or a caller that wants reproducible values).
  uint64_t* random_state = nullptr;
  std::span<const std::string_view> user;  // user[i] is the value of known[i]
};

// A variable name: letters, digits, '_', '-', '.', starting with a letter or
// '_' (so numbers in braces, `{0}` or `{-1}`, are never holes).
bool is_variable_name(std::string_view name) noexcept;
// True for a name a user variable may not take: a builtin, or one that reads
// as {now+N} / {now-N}.
bool is_reserved_variable_name(std::string_view name) noexcept;

class var_template {
 public:
  // Parses text; known are the user variables a hole may name (each a valid,
  // unreserved, unique variable name; at most 65535). Fails on a hole naming
  // an unknown variable (with its 1-based column and the nearest name within
  // edit distance 2) or a builtin with a bad argument ({rand:0}, {now+x}).
  static result<var_template> parse(std::string_view text, std::span<const std::string> known);

  // The builtins as written in a template, for docs and error messages.
  static std::vector<std::string> builtin_names();

  var_template() = default;

  // No holes at all: render appends exactly source().
  bool constant() const noexcept { return _holes.empty(); }
  // True when a hole names this builtin or user variable; "now" covers {now},
  // {now+N} and {now-N}, "rand" covers {rand:N}.
  bool uses(std::string_view name) const noexcept;
  // Whether render reads realtime_ns / random_state, so a caller reads the
  // clock only when a template needs it.
  bool needs_clock() const noexcept { return _needs_clock; }
  bool needs_random() const noexcept { return _needs_random; }
  // Indices into known of the user variables used, each once, in order of
  // first use.
  std::span<const uint16_t> user_vars() const noexcept { return _user_vars; }

  // Appends the expansion to out. A user variable with no value in v.user
  // (index past its end) renders empty. Allocates only to grow out; noexcept
  // like the rest of the hot path, so running out of memory there ends the run.
  void render(std::string& out, const var_values& v) const noexcept;

  // Bytes of the expansion without the holes.
  size_t literal_size() const noexcept { return _literals.size(); }
  // The text as given to parse.
  const std::string& source() const noexcept { return _source; }

 private:
  enum class hole_kind : uint8_t { conn, seq, rand, uuid, now_ms, now, user };

  struct hole {
    size_t literal_end = 0;  // the literal before this hole is _literals[prev end, literal_end)
    uint64_t arg = 0;        // rand: the bound N; now: the offset in seconds, two's complement
    uint16_t user = 0;       // user: index into known
    hole_kind kind = hole_kind::conn;
  };

  std::string _source;
  std::string _literals;  // every literal piece, back to back
  std::vector<hole> _holes;
  std::vector<uint16_t> _user_vars;
  std::vector<std::string> _user_names;  // known[i] for the indices in _user_vars, same order
  bool _needs_clock = false;
  bool _needs_random = false;
};

}  // namespace horde::proto

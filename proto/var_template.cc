#include "proto/var_template.hh"

#include <algorithm>
#include <charconv>
#include <limits>

#include "base/edit_distance.hh"

namespace horde::proto {
namespace {

constexpr std::string_view builtin_words[] = {"conn", "seq", "rand", "uuid", "now_ms", "now"};

// {rand:N} draws from [0, N); 2^63 is the largest bound a user can mean
// (a signed 64-bit id space) and keeps the bound's spelling under 20 digits.
constexpr uint64_t max_rand_bound = uint64_t(1) << 63;
// {now+N}: about 317 years either way, far past any token lifetime, and small
// enough that unix seconds plus N can never overflow an int64.
constexpr uint64_t max_now_offset = 10'000'000'000ull;

bool is_letter(char ch) noexcept {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}
bool is_digit(char ch) noexcept {
  return ch >= '0' && ch <= '9';
}
bool is_name_char(char ch) noexcept {
  return is_letter(ch) || is_digit(ch) || ch == '_' || ch == '-' || ch == '.';
}
// What may sit between the braces of a hole: a name, or the argument of
// {rand:N} / {now+N}. Anything else makes the braces literal.
bool is_hole_char(char ch) noexcept {
  return is_name_char(ch) || ch == ':' || ch == '+';
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// The number in s if s is 1-20 decimal digits that fit in a uint64.
bool parse_u64(std::string_view s, uint64_t& value) noexcept {
  if (!all_digits(s)) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size();
}

// splitmix64 (Steele, Lea, Flood 2014): one add and a mix per draw, and every
// state is valid, so a caller's zero-initialised state just works (xorshift
// would be stuck at zero).
uint64_t next_random(uint64_t& state) noexcept {
  uint64_t x = state += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform in [0, bound) without modulo bias: Lemire's multiply-shift with
// rejection ("Fast Random Integer Generation in an Interval", 2019). Rejects
// fewer than one draw in 2 on average even at bound = 2^63.
uint64_t random_below(uint64_t& state, uint64_t bound) noexcept {
  unsigned __int128 m = (unsigned __int128)next_random(state) * bound;
  uint64_t low = uint64_t(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = (unsigned __int128)next_random(state) * bound;
      low = uint64_t(m);
    }
  }
  return uint64_t(m >> 64);
}

template <class Int>
void append_int(std::string& out, Int value) noexcept {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

// RFC 9562 section 5.4: 122 random bits, version nibble 4, variant bits 10.
void append_uuid(std::string& out, uint64_t& state) noexcept {
  uint64_t hi = next_random(state);
  uint64_t lo = next_random(state);
  hi = (hi & ~0xf000ull) | 0x4000ull;              // byte 6 high nibble
  lo = (lo & ~(0xc0ull << 56)) | (0x80ull << 56);  // byte 8 top bits
  static constexpr char hex[] = "0123456789abcdef";
  char text[36];
  size_t at = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) text[at++] = '-';
    const uint64_t word = nibble < 16 ? hi : lo;
    text[at++] = hex[(word >> (60 - 4 * (nibble % 16))) & 0xf];
  }
  out.append(text, sizeof text);
}

std::string column_text(size_t offset) {
  return "column " + std::to_string(offset + 1);
}

}  // namespace

bool is_variable_name(std::string_view name) noexcept {
  if (name.empty() || !(is_letter(name[0]) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

bool is_reserved_variable_name(std::string_view name) noexcept {
  for (auto word : builtin_words)
    if (name == word) return true;
  return name.starts_with("now+") || name.starts_with("now-");
}

std::vector<std::string> var_template::builtin_names() {
  return {"{conn}", "{seq}", "{rand:N}", "{uuid}", "{now_ms}", "{now}", "{now+N}", "{now-N}"};
}

result<var_template> var_template::parse(std::string_view text,
                                         std::span<const std::string> known) {
  if (known.size() > std::numeric_limits<uint16_t>::max())
    return make_error(std::to_string(known.size()) + " template variables; at most 65535");
  for (size_t i = 0; i < known.size(); ++i) {
    const std::string& name = known[i];
    if (!is_variable_name(name)) {
      return make_error("'" + name +
                        "' is not a variable name: use letters, digits, '_', '-' and '.', "
                        "starting with a letter or '_'");
    }
    if (is_reserved_variable_name(name))
      return make_error("variable {" + name + "} would hide the builtin of that name; rename it");
    if (std::find(known.begin(), known.begin() + i, name) != known.begin() + i)
      return make_error("variable {" + name + "} is defined twice");
  }

  var_template t;
  t._source = text;
  t._literals.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    size_t close = std::string_view::npos;
    if (ch == '{' && i + 1 < text.size() && (is_letter(text[i + 1]) || text[i + 1] == '_')) {
      size_t j = i + 1;
      while (j < text.size() && is_hole_char(text[j]))
        ++j;
      if (j < text.size() && text[j] == '}') close = j;
    }
    if (close == std::string_view::npos) {
      t._literals += ch;
      continue;
    }
    const std::string_view inner = text.substr(i + 1, close - i - 1);
    const std::string where = column_text(i);
    hole h;
    h.literal_end = t._literals.size();
    if (inner.starts_with("rand:")) {
      uint64_t bound = 0;
      if (!parse_u64(inner.substr(5), bound) || bound == 0 || bound > max_rand_bound) {
        return make_error("{" + std::string(inner) + "} at " + where +
                          ": the bound N of {rand:N} must be an integer from 1 to " +
                          std::to_string(max_rand_bound));
      }
      h.kind = hole_kind::rand;
      h.arg = bound;
    } else if (inner.starts_with("now+") || inner.starts_with("now-")) {
      uint64_t seconds = 0;
      if (!parse_u64(inner.substr(4), seconds) || seconds > max_now_offset) {
        return make_error("{" + std::string(inner) + "} at " + where +
                          ": N in {now+N} / {now-N} must be whole seconds from 0 to " +
                          std::to_string(max_now_offset));
      }
      h.kind = hole_kind::now;
      h.arg = inner[3] == '+' ? seconds : 0 - seconds;
    } else if (!is_variable_name(inner)) {
      // e.g. {a:1} or {x+y}: not a hole, so literal like any other brace.
      t._literals += ch;
      continue;
    } else if (inner == "rand") {
      return make_error("{rand} at " + where + " needs a bound: {rand:N} draws from 0 to N-1");
    } else if (inner == "conn") {
      h.kind = hole_kind::conn;
    } else if (inner == "seq") {
      h.kind = hole_kind::seq;
    } else if (inner == "uuid") {
      h.kind = hole_kind::uuid;
    } else if (inner == "now_ms") {
      h.kind = hole_kind::now_ms;
    } else if (inner == "now") {
      h.kind = hole_kind::now;
    } else {
      auto found = std::find(known.begin(), known.end(), inner);
      if (found == known.end()) {
        std::string message = "unknown variable {" + std::string(inner) + "} at " + where;
        // The nearest name within two edits; the first one wins a tie.
        std::string best;
        size_t best_distance = 3;
        auto consider = [&](std::string_view name, std::string_view shown) {
          const size_t d = edit_distance(inner, name, 2);
          if (d < best_distance) {
            best_distance = d;
            best = shown;
          }
        };
        for (const auto& name : known)
          consider(name, "{" + name + "}");
        for (auto word : builtin_words)
          consider(word, word == "rand" ? "{rand:N}" : "{" + std::string(word) + "}");
        if (!best.empty()) {
          message += " (did you mean " + best + "?)";
        } else {
          message += " (known:";
          for (const auto& name : known)
            message += " {" + name + "}";
          message += known.empty() ? " no user variables; builtins:" : "; builtins:";
          for (const auto& name : builtin_names())
            message += " " + name;
          message += ")";
        }
        return make_error(std::move(message));
      }
      h.kind = hole_kind::user;
      h.user = uint16_t(found - known.begin());
      if (std::find(t._user_vars.begin(), t._user_vars.end(), h.user) == t._user_vars.end()) {
        t._user_vars.push_back(h.user);
        t._user_names.push_back(*found);
      }
    }
    t._needs_clock |= h.kind == hole_kind::now || h.kind == hole_kind::now_ms;
    t._needs_random |= h.kind == hole_kind::rand || h.kind == hole_kind::uuid;
    t._holes.push_back(h);
    i = close;
  }
  t._literals.shrink_to_fit();
  return t;
}

bool var_template::uses(std::string_view name) const noexcept {
  for (const hole& h : _holes) {
    switch (h.kind) {
      case hole_kind::conn:
        if (name == "conn") return true;
        break;
      case hole_kind::seq:
        if (name == "seq") return true;
        break;
      case hole_kind::rand:
        if (name == "rand") return true;
        break;
      case hole_kind::uuid:
        if (name == "uuid") return true;
        break;
      case hole_kind::now_ms:
        if (name == "now_ms") return true;
        break;
      case hole_kind::now:
        if (name == "now") return true;
        break;
      case hole_kind::user:
        break;
    }
  }
  return std::find(_user_names.begin(), _user_names.end(), name) != _user_names.end();
}

void var_template::render(std::string& out, const var_values& v) const noexcept {
  // With no caller state, derive one from the connection and sequence so
  // the same inputs render the same text.
  uint64_t local_state = v.conn * 0x9e3779b97f4a7c15ull ^ v.seq;
  uint64_t& state = v.random_state ? *v.random_state : local_state;
  size_t literal_begin = 0;
  for (const hole& h : _holes) {
    out.append(_literals, literal_begin, h.literal_end - literal_begin);
    literal_begin = h.literal_end;
    switch (h.kind) {
      case hole_kind::conn:
        append_int(out, v.conn);
        break;
      case hole_kind::seq:
        append_int(out, v.seq);
        break;
      case hole_kind::rand:
        append_int(out, random_below(state, h.arg));
        break;
      case hole_kind::uuid:
        append_uuid(out, state);
        break;
      case hole_kind::now_ms:
        append_int(out, v.realtime_ns / 1'000'000);
        break;
      case hole_kind::now:
        // arg is a signed offset of at most max_now_offset, so no overflow.
        append_int(out, v.realtime_ns / 1'000'000'000 + int64_t(h.arg));
        break;
      case hole_kind::user:
        if (h.user < v.user.size()) out += v.user[h.user];
        break;
    }
  }
  out.append(_literals, literal_begin);
}

}  // namespace horde::proto

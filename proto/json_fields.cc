#include "proto/json_fields.hh"

#include <simdjson.h>

#include <bit>
#include <charconv>
#include <cstring>
#include <new>
#include <utility>

namespace horde::proto {

static_assert(json_padding == simdjson::SIMDJSON_PADDING);

namespace od = simdjson::ondemand;

std::string_view to_string(json_value_kind kind) noexcept {
  switch (kind) {
    case json_value_kind::missing:
      return "missing";
    case json_value_kind::string:
      return "string";
    case json_value_kind::number:
      return "number";
    case json_value_kind::boolean:
      return "boolean";
    case json_value_kind::null:
      return "null";
    case json_value_kind::object:
      return "object";
    case json_value_kind::array:
      return "array";
    case json_value_kind::invalid_json:
      return "invalid_json";
  }
  return "unknown";
}

namespace {

// RFC 8259 6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?. On Demand
// types a value by its first byte and hands back the raw token, so "12abc"
// would pass as a number without this.
bool is_json_number(std::string_view t) noexcept {
  size_t i = 0;
  const size_t n = t.size();
  auto digits = [&] {
    const size_t start = i;
    while (i < n && t[i] >= '0' && t[i] <= '9')
      ++i;
    return i > start;
  };
  if (i < n && t[i] == '-') ++i;
  if (i == n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

std::string_view trim_json_space(std::string_view t) noexcept {
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r'))
    t.remove_suffix(1);
  return t;
}

// The raw bytes of a scalar up to the next structural: a value hands them
// over directly, the document (a scalar at the root) as a result.
bool raw_token(od::value& value, std::string_view& raw) noexcept {
  raw = value.raw_json_token();
  return true;
}
bool raw_token(od::document& document, std::string_view& raw) noexcept {
  return document.raw_json_token().get(raw) == simdjson::SUCCESS;
}

enum class key_match : uint8_t { no, yes, escaped };

// Compares a raw key (the bytes after its opening quote) with an unescaped
// token without unescaping the key: a key holding a backslash is reported as
// escaped and compared after unescaping. Stage 1 has checked every string is
// closed, so the scan stops at the closing quote inside the document.
key_match compare_raw_key(const char* raw, std::string_view token) noexcept {
  size_t i = 0;
  for (;; ++i) {
    const char c = raw[i];
    if (c == '\\') return key_match::escaped;
    if (c == '"') return i == token.size() ? key_match::yes : key_match::no;
    if (i >= token.size() || c != token[i]) break;
  }
  for (;; ++i) {
    const char c = raw[i];
    if (c == '\\') return key_match::escaped;
    if (c == '"') return key_match::no;
  }
}

// One pass over a document for up to 32 pointers: at each value, the
// pointers whose first `depth` tokens led there ("active", a bit mask)
// either end there or go on into one child, and every child is matched
// against all of them as the document presents it. So the order of the
// pointers never matters and nothing is rewound.
class walker {
 public:
  walker(std::span<const json_pointer> pointers, std::span<json_scalar> out) noexcept
      : _pointers(pointers), _out(out) {}

  bool failed() const noexcept { return _failed; }

  template <class Value>
  void visit(Value& value, uint32_t active, size_t depth) noexcept {
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return fail();
    uint32_t here = 0, deeper = 0;
    for (uint32_t bits = active; bits != 0; bits &= bits - 1) {
      const auto i = unsigned(std::countr_zero(bits));
      (_pointers[i].size() == depth ? here : deeper) |= 1u << i;
    }
    switch (type) {
      case od::json_type::object: {
        set(here, {json_value_kind::object, {}});
        if (deeper == 0) return;
        od::object object;
        if (value.get_object().get(object) != simdjson::SUCCESS) return fail();
        return visit_object(object, deeper, depth);
      }
      case od::json_type::array: {
        set(here, {json_value_kind::array, {}});
        if (deeper == 0) return;
        od::array array;
        if (value.get_array().get(array) != simdjson::SUCCESS) return fail();
        return visit_array(array, deeper, depth);
      }
      default: {
        // Pointers going deeper than a scalar stay missing.
        const json_scalar scalar = read_scalar(value, type);
        if (scalar.kind == json_value_kind::invalid_json) return fail();
        set(here, scalar);
        return;
      }
    }
  }

 private:
  void fail() noexcept { _failed = true; }

  void set(uint32_t bits, const json_scalar& value) noexcept {
    for (; bits != 0; bits &= bits - 1)
      _out[unsigned(std::countr_zero(bits))] = value;
  }

  void visit_object(od::object& object, uint32_t deeper, size_t depth) noexcept {
    for (auto item : object) {
      od::field field;
      if (std::move(item).get(field) != simdjson::SUCCESS) return fail();
      const char* raw = field.key().raw();
      std::string_view unescaped;
      bool have_unescaped = false;
      uint32_t next = 0;
      for (uint32_t bits = deeper; bits != 0; bits &= bits - 1) {
        const auto i = unsigned(std::countr_zero(bits));
        const std::string_view token = _pointers[i].token(depth);
        key_match match = have_unescaped ? (unescaped == token ? key_match::yes : key_match::no)
                                         : compare_raw_key(raw, token);
        if (match == key_match::escaped) {
          if (field.unescaped_key().get(unescaped) != simdjson::SUCCESS) return fail();
          have_unescaped = true;
          match = unescaped == token ? key_match::yes : key_match::no;
        }
        if (match == key_match::yes) next |= 1u << i;
      }
      if (next == 0) continue;
      visit(field.value(), next, depth + 1);
      if (_failed) return;
      // First occurrence wins: a pointer that reached this key is settled.
      deeper &= ~next;
      if (deeper == 0) return;  // the rest of the object is skipped, not read
    }
  }

  void visit_array(od::array& array, uint32_t deeper, size_t depth) noexcept {
    int64_t index = 0;
    for (auto item : array) {
      od::value element;
      if (std::move(item).get(element) != simdjson::SUCCESS) return fail();
      uint32_t next = 0;
      for (uint32_t bits = deeper; bits != 0; bits &= bits - 1) {
        const auto i = unsigned(std::countr_zero(bits));
        if (_pointers[i].index(depth) == index) next |= 1u << i;
      }
      ++index;
      if (next == 0) continue;
      visit(element, next, depth + 1);
      if (_failed) return;
      deeper &= ~next;
      if (deeper == 0) return;
    }
  }

  template <class Value>
  static json_scalar read_scalar(Value& value, od::json_type type) noexcept {
    constexpr json_scalar invalid{json_value_kind::invalid_json, {}};
    switch (type) {
      case od::json_type::string: {
        std::string_view raw;
        if (!raw_token(value, raw) || raw.empty()) return invalid;
        // No escape: the content is the bytes between the quotes, no copy.
        for (size_t i = 1; i < raw.size(); ++i) {
          if (raw[i] == '"') return {json_value_kind::string, raw.substr(1, i - 1)};
          if (raw[i] == '\\') break;
        }
        // Escapes: simdjson unescapes into the parser's string buffer, which
        // lives until the reader's next call.
        std::string_view text;
        if (value.get_string().get(text) != simdjson::SUCCESS) return invalid;
        return {json_value_kind::string, text};
      }
      case od::json_type::number: {
        std::string_view raw;
        if (!raw_token(value, raw)) return invalid;
        raw = trim_json_space(raw);
        if (!is_json_number(raw)) return invalid;
        return {json_value_kind::number, raw};
      }
      case od::json_type::boolean: {
        // Read from the token: simdjson 3.0.1's get_bool() refuses a root
        // `false` followed by more than one whitespace byte ("false\n\n",
        // found by the fuzzer), which its own DOM parser accepts.
        std::string_view raw;
        if (!raw_token(value, raw)) return invalid;
        raw = trim_json_space(raw);
        if (raw == "true") return {json_value_kind::boolean, "true"};
        if (raw == "false") return {json_value_kind::boolean, "false"};
        return invalid;
      }
      case od::json_type::null: {
        // From the token too: is_null() refuses a root `null` followed by
        // whitespace ("null ", found by the fuzzer), as get_bool() does.
        std::string_view raw;
        if (!raw_token(value, raw) || trim_json_space(raw) != "null") return invalid;
        return {json_value_kind::null, "null"};
      }
      default:
        return invalid;
    }
  }

  std::span<const json_pointer> _pointers;
  std::span<json_scalar> _out;
  bool _failed = false;
};

// Parses a literal of a predicate with simdjson's DOM (cold path).
result<void> parse_literal(std::string_view text, json_value_kind& kind, std::string& literal) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  if (parser.parse(simdjson::padded_string(text)).get(element) != simdjson::SUCCESS) {
    return make_error("predicate literal '" + std::string(text) +
                      "' is not a JSON string, number, true, false or null");
  }
  switch (element.type()) {
    case simdjson::dom::element_type::STRING:
      kind = json_value_kind::string;
      literal = std::string(element.get_string().value_unsafe());
      return {};
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      kind = json_value_kind::number;
      literal = std::string(trim_json_space(text));
      return {};
    case simdjson::dom::element_type::BOOL:
      kind = json_value_kind::boolean;
      literal = element.get_bool().value_unsafe() ? "true" : "false";
      return {};
    case simdjson::dom::element_type::NULL_VALUE:
      kind = json_value_kind::null;
      literal = "null";
      return {};
    default:
      return make_error("predicate literal '" + std::string(text) +
                        "' is an object or array; compare one field at a time");
  }
}

// Numbers by value: exactly as 64-bit integers when both are, else as doubles.
// Returns -1, 0, 1, or 2 when unordered (a NaN cannot arise from JSON, but
// an overflow to infinity compares fine).
int compare_numbers(std::string_view a, std::string_view b) noexcept {
  int64_t ia = 0, ib = 0;
  const auto ra = std::from_chars(a.data(), a.data() + a.size(), ia);
  const auto rb = std::from_chars(b.data(), b.data() + b.size(), ib);
  if (ra.ec == std::errc() && ra.ptr == a.data() + a.size() && rb.ec == std::errc() &&
      rb.ptr == b.data() + b.size()) {
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  }
  double da = 0, db = 0;
  const auto fa = std::from_chars(a.data(), a.data() + a.size(), da);
  const auto fb = std::from_chars(b.data(), b.data() + b.size(), db);
  // Out of range: from_chars leaves the value unset and says so.
  if (fa.ec != std::errc() || fb.ec != std::errc()) return 2;
  return da < db ? -1 : da > db ? 1 : da == db ? 0 : 2;
}

}  // namespace

result<json_pointer> json_pointer::parse(std::string_view text) {
  json_pointer out;
  out._text = text;
  if (text.empty()) return out;  // the whole document
  if (text.front() != '/') {
    return make_error("JSON pointer '" + std::string(text) +
                      "' must be empty or start with '/' (RFC 6901), e.g. /error/code");
  }
  size_t i = 1;
  for (;;) {
    token_info token{{}, -1};
    for (; i < text.size() && text[i] != '/'; ++i) {
      if (text[i] != '~') {
        token.name += text[i];
        continue;
      }
      if (i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
        token.name += text[i + 1] == '0' ? '~' : '/';
        ++i;
        continue;
      }
      return make_error("JSON pointer '" + std::string(text) + "': '~' at offset " +
                        std::to_string(i) + " must be followed by 0 ('~') or 1 ('/')");
    }
    const std::string& name = token.name;
    const bool digits = !name.empty() && name.size() <= 9 &&
                        name.find_first_not_of("0123456789") == std::string::npos &&
                        (name.size() == 1 || name.front() != '0');
    if (digits) token.index = std::stoll(name);
    if (out._tokens.size() == json_max_pointer_tokens) {
      return make_error("JSON pointer '" + std::string(text) + "' has more than " +
                        std::to_string(json_max_pointer_tokens) + " tokens");
    }
    out._tokens.push_back(std::move(token));
    if (i == text.size()) break;
    ++i;  // the '/'
  }
  return out;
}

bool json_equals_rendered(const json_scalar& value, std::string_view rendered) noexcept {
  switch (value.kind) {
    case json_value_kind::string:
    case json_value_kind::number:
    case json_value_kind::boolean:
    case json_value_kind::null:
      return value.text == rendered;
    default:
      return false;
  }
}

result<json_predicate> json_predicate::parse(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  auto skip = [&](std::string_view t) {
    while (!t.empty() && is_space(t.front()))
      t.remove_prefix(1);
    while (!t.empty() && is_space(t.back()))
      t.remove_suffix(1);
    return t;
  };
  std::string_view rest = skip(text);
  size_t end = 0;
  while (end < rest.size() && !is_space(rest[end]) && rest[end] != '=' && rest[end] != '!' &&
         rest[end] != '<' && rest[end] != '>')
    ++end;
  json_predicate out;
  auto pointer = json_pointer::parse(rest.substr(0, end));
  if (!pointer) return pointer.error();
  out._pointer = std::move(*pointer);
  rest = skip(rest.substr(end));
  if (rest == "exists") {
    out._op = op::exists;
    return out;
  }
  struct op_text {
    std::string_view text;
    op value;
  };
  // Two-byte operators first, so "<=" is not read as "<" and "=...".
  static constexpr op_text ops[] = {{"==", op::eq}, {"!=", op::ne}, {"<=", op::le},
                                    {">=", op::ge}, {"<", op::lt},  {">", op::gt}};
  bool found = false;
  for (const op_text& o : ops) {
    if (rest.substr(0, o.text.size()) == o.text) {
      out._op = o.value;
      rest = skip(rest.substr(o.text.size()));
      found = true;
      break;
    }
  }
  if (!found) {
    return make_error("predicate '" + std::string(text) +
                      "': expected 'exists' or one of == != < <= > >= after the pointer");
  }
  if (rest.empty()) return make_error("predicate '" + std::string(text) + "' has no value");
  if (auto literal = parse_literal(rest, out._kind, out._literal); !literal) return literal.error();
  if (out._op != op::eq && out._op != op::ne && out._kind != json_value_kind::number) {
    return make_error("predicate '" + std::string(text) + "': < <= > >= compare numbers only");
  }
  return out;
}

bool json_predicate::test(const json_scalar& value) const noexcept {
  if (value.kind == json_value_kind::invalid_json) return false;
  if (_op == op::exists) return value.kind != json_value_kind::missing;
  if (_op == op::eq || _op == op::ne) {
    bool equal = false;
    if (value.kind == _kind) {
      equal = _kind == json_value_kind::number ? compare_numbers(value.text, _literal) == 0
                                               : value.text == _literal;
    }
    return _op == op::eq ? equal : !equal;
  }
  if (value.kind != json_value_kind::number) return false;
  const int c = compare_numbers(value.text, _literal);
  switch (_op) {
    case op::lt:
      return c == -1;
    case op::le:
      return c == -1 || c == 0;
    case op::gt:
      return c == 1;
    case op::ge:
      return c == 1 || c == 0;
    default:
      return false;
  }
}

struct json_reader::state {
  od::parser parser{json_max_message_bytes};
  std::unique_ptr<uint8_t[]> scratch;  // message copies, json_padding bytes beyond
  size_t scratch_capacity = 0;

  // The document's bytes as simdjson needs them, or nullptr (too large, out
  // of memory). Capacities grow to powers of two, so a stream of messages of
  // slowly growing size does not reallocate per message.
  const uint8_t* prepare(std::span<const uint8_t> message, size_t readable_after) noexcept {
    // Empty is not JSON (and its data() may be null, which memcpy must not see).
    if (message.empty() || message.size() > json_max_message_bytes) return nullptr;
    const size_t capacity = std::bit_ceil(message.size() < 4096 ? 4096 : message.size());
    if (parser.capacity() < message.size()) {
      if (parser.allocate(capacity, parser.max_depth()) != simdjson::SUCCESS) return nullptr;
    }
    if (readable_after >= json_padding) return message.data();
    if (scratch_capacity < message.size() + json_padding) {
      scratch.reset(new (std::nothrow) uint8_t[capacity + json_padding]);
      scratch_capacity = scratch ? capacity + json_padding : 0;
      if (!scratch) return nullptr;
    }
    std::memcpy(scratch.get(), message.data(), message.size());
    std::memset(scratch.get() + message.size(), 0, json_padding);
    return scratch.get();
  }
};

json_reader::json_reader() : _state(std::make_unique<state>()) {
  // Depth of nesting simdjson tracks; the walk itself recurses at most
  // json_max_pointer_tokens deep, and skips deeper nesting iteratively.
  // A failure here is retried, and reported, by the first read.
  if (_state->parser.allocate(4096, 1024) != simdjson::SUCCESS) return;
}
json_reader::~json_reader() = default;
json_reader::json_reader(json_reader&&) noexcept = default;
json_reader& json_reader::operator=(json_reader&&) noexcept = default;

json_scalar json_reader::get(std::span<const uint8_t> message, const json_pointer& pointer,
                             size_t readable_after) noexcept {
  json_scalar out;
  get_many(message, std::span<const json_pointer>(&pointer, 1), std::span<json_scalar>(&out, 1),
           readable_after);
  return out;
}

void json_reader::get_many(std::span<const uint8_t> message, std::span<const json_pointer> pointers,
                           std::span<json_scalar> out, size_t readable_after) noexcept {
  const size_t n = pointers.size() < out.size() ? pointers.size() : out.size();
  for (size_t first = 0; first < n; first += max_fields_per_pass) {
    const size_t count = n - first < max_fields_per_pass ? n - first : max_fields_per_pass;
    const std::span<const json_pointer> batch = pointers.subspan(first, count);
    const std::span<json_scalar> results = out.subspan(first, count);
    for (json_scalar& r : results)
      r = {};
    auto invalid = [&] {
      for (json_scalar& r : results)
        r = {json_value_kind::invalid_json, {}};
    };
    // Each pass re-parses: a document is iterated once, forward.
    const uint8_t* bytes = _state->prepare(message, readable_after);
    if (bytes == nullptr) return invalid();
    od::document document;
    if (_state->parser
            .iterate(
                simdjson::padded_string_view(bytes, message.size(), message.size() + json_padding))
            .get(document) != simdjson::SUCCESS) {
      return invalid();
    }
    walker walk(batch, results);
    walk.visit(document, (1u << count) - 1, 0);
    if (walk.failed()) return invalid();
  }
}

}  // namespace horde::proto

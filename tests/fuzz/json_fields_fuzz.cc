// Fuzzes the message-path JSON reader (proto/json_fields.hh).
//
// Input: a first line of up to four JSON pointers (or a predicate) separated
// by spaces, then the message. The message is copied into a buffer of
// exactly its size, so ASan flags any read past it (the reader must copy
// into its padded scratch), and read both in one get_many pass and pointer
// by pointer. Checked: nothing crashes; each kind's text has its form
// (a JSON number, "true"/"false", "null", empty for object/array/missing);
// when the whole message is valid JSON (simdjson's DOM parser says so), no
// read says invalid_json and every single read agrees with the one pass. On
// invalid JSON they may differ: On Demand skips lazily, so what it notices
// depends on where a walk stops (documented in json_fields.hh).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "proto/json_fields.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

bool well_formed(const json_scalar& v) {
  switch (v.kind) {
    case json_value_kind::number:
      return !v.text.empty() &&
             (v.text.front() == '-' || (v.text.front() >= '0' && v.text.front() <= '9'));
    case json_value_kind::boolean:
      return v.text == "true" || v.text == "false";
    case json_value_kind::null:
      return v.text == "null";
    case json_value_kind::string:
      return true;
    default:
      return v.text.empty();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static json_reader reader;  // one per thread, reused, as on a shard
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view head = input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  const std::vector<uint8_t> message(body.begin(), body.end());  // exactly its size

  if (auto predicate = json_predicate::parse(head)) {
    const bool match = reader.matches(message, *predicate);
    const json_scalar value = reader.get(message, predicate->pointer());
    HORDE_FUZZ_CHECK(match == predicate->test(value));
    if (value.kind == json_value_kind::invalid_json) HORDE_FUZZ_CHECK(!match);
  }

  std::vector<json_pointer> pointers;
  std::string_view rest = head;
  while (!rest.empty() && pointers.size() < 4) {
    const size_t space = rest.find(' ');
    if (auto p = json_pointer::parse(rest.substr(0, space))) pointers.push_back(std::move(*p));
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  if (pointers.empty()) pointers.push_back(*json_pointer::parse("/id"));

  std::vector<json_scalar> many(pointers.size());
  reader.get_many(message, pointers, many);
  std::vector<std::string> texts;
  bool any_invalid = false;
  for (const json_scalar& v : many) {
    HORDE_FUZZ_CHECK(well_formed(v));
    any_invalid = any_invalid || v.kind == json_value_kind::invalid_json;
    texts.emplace_back(v.text);  // copied: the next call reuses the buffers
  }
  if (any_invalid) {
    for (const json_scalar& v : many) {
      HORDE_FUZZ_CHECK(v.kind == json_value_kind::invalid_json);
    }
  }
  static simdjson::dom::parser validator;
  simdjson::dom::element root;
  if (body.empty() || validator.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return 0;
  }
  HORDE_FUZZ_CHECK(!any_invalid);
  for (size_t i = 0; i < pointers.size(); ++i) {
    const json_scalar one = reader.get(message, pointers[i]);
    HORDE_FUZZ_CHECK(one.kind == many[i].kind);
    HORDE_FUZZ_CHECK(one.text == texts[i]);
    HORDE_FUZZ_CHECK(json_equals_rendered(one, texts[i]) ==
                     (one.kind != json_value_kind::missing && one.kind != json_value_kind::object &&
                      one.kind != json_value_kind::array));
  }
  return 0;
}

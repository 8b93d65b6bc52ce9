// Fuzzes the user-typed template parser and the acknowledgement matcher
// (proto/message_template.hh): the input is a template, a NUL, then a
// received message. Checked:
//  - parse never crashes, and a template that parses expands and matches:
//    for a one-hole template, matching the expansion of a value gives back
//    exactly that value;
//  - matching any received message returns a slice of it;
//  - group names round-trip through their pattern.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/message_template.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::proto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view text = input.substr(0, nul);
  const std::string_view received =
      nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);

  auto one = message_template::parse(text, {"group"});
  if (one) {
    std::string out;
    one->expand(out, {"g123"});
    if (one->has("group")) {
      auto back = one->match_one(out);
      bool single_hole = out.size() == one->literal_size() + 4;  // exactly one {group}
      if (single_hole) {
        HORDE_FUZZ_CHECK(back.has_value());
        HORDE_FUZZ_CHECK(*back == "g123");
      }
    }
    if (auto match = one->match_one(received)) {
      HORDE_FUZZ_CHECK(match->data() >= received.data());
      HORDE_FUZZ_CHECK(match->data() + match->size() <= received.data() + received.size());
      HORDE_FUZZ_CHECK(!match->empty());
    }
  }
  auto two = message_template::parse(text, {"group", "payload"});
  if (two) {
    std::string out;
    two->expand(out, {"g", "payload"});
  }
  auto names = group_names::make(text);
  if (names) {
    const uint64_t n = size * 2654435761u;
    HORDE_FUZZ_CHECK(names->number_of(names->name(n)) == n);
    (void)names->number_of(received);
  }
  return 0;
}

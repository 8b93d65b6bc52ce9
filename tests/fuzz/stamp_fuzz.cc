// Fuzzes the stamp readers (proto/stamp.hh) with arbitrary bytes, taken both
// as a binary message and as text. Checked:
//  - read_stamp reads exactly when there are 32 bytes starting "HRD1", and a
//    stamp it reads writes back to the same 32 bytes; fill_payload carries it;
//  - a text stamp read at offset 0 writes back to the same 47 characters, and
//    find_stamp_text finds that one first;
//  - whatever find_stamp_text finds writes back to 47 characters that occur
//    in the input and read back as the same stamp.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "proto/stamp.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::proto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const std::optional<stamp> binary = read_stamp(bytes);
  const bool has_magic =
      size >= stamp_size && std::memcmp(data, stamp_magic, sizeof stamp_magic) == 0;
  HORDE_FUZZ_CHECK(binary.has_value() == has_magic);
  if (binary) {
    uint8_t out[stamp_size];
    write_stamp(out, *binary);
    HORDE_FUZZ_CHECK(std::memcmp(out, data, stamp_size) == 0);
    std::vector<uint8_t> body(stamp_size + size % 64);
    fill_payload(body, *binary);
    HORDE_FUZZ_CHECK(read_stamp(body) == binary);
  }

  const std::optional<stamp> at_start = read_stamp_text(text);
  if (at_start) {
    char out[stamp_text_size];
    write_stamp_text(out, *at_start);
    HORDE_FUZZ_CHECK(text.substr(0, stamp_text_size) == std::string_view(out, stamp_text_size));
  }

  const std::optional<stamp> found = find_stamp_text(text);
  if (at_start) HORDE_FUZZ_CHECK(found == at_start);
  if (found) {
    char out[stamp_text_size];
    write_stamp_text(out, *found);
    const std::string_view written(out, stamp_text_size);
    HORDE_FUZZ_CHECK(text.find(written) != std::string_view::npos);
    HORDE_FUZZ_CHECK(read_stamp_text(written) == found);
  }
  return 0;
}

// Fuzzes the reference protocol's command parser (proto/broker_protocol.hh)
// with arbitrary messages. Checked:
//  - every view it returns lies inside the message (it never allocates);
//  - a command without an error names a valid group (1-200 bytes, no space,
//    no control byte), and a `pub` carries every byte after "pub G ";
//  - anything not starting "sub ", "unsub " or "pub " is not a command;
//  - the HTTP publish route's group is a valid name inside the path, and
//    only for POST /publish/...; is_utf8 reads no byte out of bounds;
//  - a frame encoded around the message decodes back to it (length forms
//    125/126/127 by size).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "proto/broker_protocol.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::proto;

namespace {

bool inside(std::string_view view, const uint8_t* data, size_t size) {
  const auto* p = reinterpret_cast<const uint8_t*>(view.data());
  return view.empty() || (p >= data && p + view.size() <= data + size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> message(data, size);
  const command c = parse_command(message);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool prefixed =
      text.starts_with("sub ") || text.starts_with("unsub ") || text.starts_with("pub ");
  HORDE_FUZZ_CHECK((c.kind != command_kind::none) == prefixed);
  HORDE_FUZZ_CHECK(inside(c.group, data, size));
  if (!c.payload.empty())
    HORDE_FUZZ_CHECK(c.payload.data() >= data &&
                     c.payload.data() + c.payload.size() <= data + size);
  if (c.kind != command_kind::none && c.error.empty()) {
    HORDE_FUZZ_CHECK(group_name_error(c.group).empty());
    HORDE_FUZZ_CHECK(!c.group.empty() && c.group.size() <= max_group_bytes);
    HORDE_FUZZ_CHECK(c.group.find(' ') == std::string_view::npos);
    if (c.kind == command_kind::pub) {
      const size_t after = 4 + c.group.size() + 1;
      HORDE_FUZZ_CHECK(c.payload.size() == size - after);
    }
  }

  const http_publish_target route = route_http_publish("POST", text);
  HORDE_FUZZ_CHECK(inside(route.group, data, size));
  HORDE_FUZZ_CHECK((route.route != http_publish_route::other) == text.starts_with("/publish/"));
  if (route.route == http_publish_route::publish) {
    HORDE_FUZZ_CHECK(group_name_error(route.group).empty());
    HORDE_FUZZ_CHECK(route.group.find('?') == std::string_view::npos);
  }
  if (is_utf8(message))
    HORDE_FUZZ_CHECK(
        std::none_of(message.begin(), message.end(), [](uint8_t b) { return b >= 0xf8; }));

  std::vector<uint8_t> frame;
  encode_server_frame(frame, ws_opcode::text, {message});
  HORDE_FUZZ_CHECK(frame.size() >= 2 && frame[0] == 0x81);
  size_t header = 2;
  uint64_t length = frame[1];
  if (length == 126) {
    header = 4;
    length = (uint64_t(frame[2]) << 8) | frame[3];
  } else if (length == 127) {
    header = 10;
    length = 0;
    for (int i = 0; i < 8; ++i)
      length = (length << 8) | frame[2 + i];
  }
  HORDE_FUZZ_CHECK((frame[1] & 0x80) == 0);  // a server never masks
  HORDE_FUZZ_CHECK(length == size && frame.size() == header + size);
  HORDE_FUZZ_CHECK(size == 0 || std::memcmp(frame.data() + header, data, size) == 0);
  return 0;
}

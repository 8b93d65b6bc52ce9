// Raw TCP (--raw): the echo comes back as a byte stream, cut here into
// messages of the plan's fixed size. A message's stamp is its first 32 bytes,
// kept while a message straddles two receives; only the stamp is handed on
// (the message is whole by construction). 40 bytes per connection.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "proto/stamp.hh"

namespace horde::core {

struct raw_messages {
  uint32_t offset = 0;                 // bytes of the current message received
  uint8_t stamp[proto::stamp_size]{};  // its first bytes

  // Calls on_message(stamp_bytes) for every message `bytes` completes.
  template <class OnMessage>
  void feed(std::span<const uint8_t> bytes, uint32_t message_size, OnMessage on_message) {
    while (!bytes.empty()) {
      const uint32_t take = uint32_t(std::min<size_t>(message_size - offset, bytes.size()));
      if (offset < proto::stamp_size) {
        const uint32_t stamp_bytes = std::min<uint32_t>(take, uint32_t(proto::stamp_size) - offset);
        std::memcpy(stamp + offset, bytes.data(), stamp_bytes);
      }
      offset += take;
      bytes = bytes.subspan(take);
      if (offset < message_size) break;
      offset = 0;
      on_message(
          std::span<const uint8_t>(stamp, std::min<size_t>(message_size, proto::stamp_size)));
    }
  }
};

}  // namespace horde::core

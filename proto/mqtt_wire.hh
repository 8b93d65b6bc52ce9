// MQTT 3.1.1 and 5 on the wire (OASIS mqtt-v3.1.1 §2-3, mqtt-v5.0 §1-3):
// the fixed header with its variable-length "remaining length", a bounded
// reader over one packet's bytes, and the encoders for the few packets a
// client sends. I/O-free and allocation-free except the caller's out vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "proto/parse_status.hh"

namespace horde::proto::mqtt {

enum packet_type : uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
  auth = 15,
};

// The spec's largest remaining length: four 7-bit groups (§2.2.3 / §1.5.5).
inline constexpr uint32_t max_remaining = 268'435'455;

// One packet's fixed header: its first byte and where its body lies.
struct fixed_header {
  uint8_t type = 0;   // high nibble of the first byte
  uint8_t flags = 0;  // low nibble
  uint32_t header_size = 0;
  uint32_t body_size = 0;  // the remaining length
};

// Reads the fixed header at the start of `bytes`: done (and `out`), need_more
// when the header or the body is not all there yet (`out` still says the body
// size once the header is whole), invalid when the length takes a fifth byte.
parse_status read_fixed_header(std::span<const uint8_t> bytes, fixed_header& out) noexcept;

// Reads fields from one packet's body; any read past the end sets `bad`, and
// every later read then returns zero or empty, so a parser checks once.
class reader {
 public:
  explicit reader(std::span<const uint8_t> body) noexcept : _rest(body) {}
  uint8_t byte() noexcept;
  uint16_t two() noexcept;
  uint32_t four() noexcept;
  uint32_t varint() noexcept;  // §1.5.5 Variable Byte Integer
  std::span<const uint8_t> bytes(size_t n) noexcept;
  std::string_view string() noexcept;  // 2-byte length, then the bytes
  // MQTT 5 properties (a varint length, then id-tagged values): each one's
  // type checked and skipped; the few a client acts on are returned. An
  // unknown id sets `bad` (its size cannot be known).
  struct properties {
    uint16_t receive_maximum = 0;    // 0x21: 0 = not given
    uint16_t server_keep_alive = 0;  // 0x13
    bool has_server_keep_alive = false;
    uint32_t maximum_packet_size = 0;  // 0x27: 0 = not given
  };
  properties props() noexcept;
  std::span<const uint8_t> rest() noexcept;
  bool bad() const noexcept { return _bad; }
  bool empty() const noexcept { return _rest.empty(); }

 private:
  std::span<const uint8_t> _rest;
  bool _bad = false;
};

// Appends the fixed header for a body of `body_size` bytes.
void put_fixed_header(std::vector<uint8_t>& out, uint8_t first_byte, uint32_t body_size);
void put_two(std::vector<uint8_t>& out, uint16_t v);
void put_string(std::vector<uint8_t>& out, std::string_view s);
void put_varint(std::vector<uint8_t>& out, uint32_t v);
// The size put_varint writes for `v`.
uint32_t varint_size(uint32_t v) noexcept;

struct connect_fields {
  uint8_t level = 4;  // 4 = 3.1.1, 5 = 5.0
  bool clean = true;
  uint16_t keepalive_s = 60;
  std::string_view client_id, username, password;
  bool has_username = false, has_password = false;
  uint32_t maximum_packet_size = 0;  // MQTT 5: announced to the broker when not 0
};
void put_connect(std::vector<uint8_t>& out, const connect_fields& f);
// SUBSCRIBE or UNSUBSCRIBE of one topic filter.
void put_subscribe(std::vector<uint8_t>& out, uint8_t level, uint16_t packet_id,
                   std::string_view filter, uint8_t qos);
void put_unsubscribe(std::vector<uint8_t>& out, uint8_t level, uint16_t packet_id,
                     std::string_view filter);
// PUBLISH at QoS 0 (packet_id unused) or 1; in MQTT 5 with a Response Topic
// when one is given (ignored in 3.1.1, which has none).
void put_publish(std::vector<uint8_t>& out, uint8_t level, std::string_view topic,
                 std::span<const uint8_t> payload, uint8_t qos, uint16_t packet_id,
                 std::string_view response_topic = {});
// PUBACK (success, the short form both versions accept).
void put_puback(std::vector<uint8_t>& out, uint16_t packet_id);

}  // namespace horde::proto::mqtt

#include "proto/mqtt_wire.hh"

namespace horde::proto::mqtt {

parse_status read_fixed_header(std::span<const uint8_t> bytes, fixed_header& out) noexcept {
  if (bytes.empty()) return parse_status::need_more;
  uint32_t length = 0;
  for (uint32_t i = 1; i <= 4; ++i) {
    if (bytes.size() <= i) return parse_status::need_more;
    length |= uint32_t(bytes[i] & 0x7f) << (7 * (i - 1));
    if ((bytes[i] & 0x80) == 0) {
      out.type = uint8_t(bytes[0] >> 4);
      out.flags = uint8_t(bytes[0] & 0x0f);
      out.header_size = i + 1;
      out.body_size = length;
      return bytes.size() - out.header_size >= length ? parse_status::done
                                                      : parse_status::need_more;
    }
  }
  return parse_status::invalid;  // a fifth length byte (§2.2.3)
}

uint8_t reader::byte() noexcept {
  const auto b = bytes(1);
  return b.empty() ? 0 : b[0];
}

uint16_t reader::two() noexcept {
  const auto b = bytes(2);
  return b.empty() ? 0 : uint16_t(b[0] << 8 | b[1]);
}

uint32_t reader::four() noexcept {
  const auto b = bytes(4);
  return b.empty() ? 0 : uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

uint32_t reader::varint() noexcept {
  uint32_t value = 0;
  for (uint32_t i = 0; i < 4; ++i) {
    const uint8_t b = byte();
    value |= uint32_t(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return _bad ? 0 : value;
  }
  _bad = true;
  return 0;
}

std::span<const uint8_t> reader::bytes(size_t n) noexcept {
  if (_bad || _rest.size() < n) {
    _bad = true;
    _rest = {};
    return {};
  }
  const auto taken = _rest.first(n);
  _rest = _rest.subspan(n);
  return taken;
}

std::string_view reader::string() noexcept {
  const uint16_t n = two();
  const auto b = bytes(n);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::span<const uint8_t> reader::rest() noexcept {
  return bytes(_rest.size());
}

reader::properties reader::props() noexcept {
  properties found;
  const uint32_t length = varint();
  reader in(bytes(length));
  while (!in.empty() && !in.bad()) {
    const uint32_t id = in.varint();
    switch (id) {
      case 0x01:
      case 0x17:
      case 0x19:
      case 0x24:
      case 0x25:
      case 0x28:
      case 0x29:
      case 0x2a:
        in.byte();
        break;
      case 0x13:
        found.server_keep_alive = in.two();
        found.has_server_keep_alive = true;
        break;
      case 0x21:
        found.receive_maximum = in.two();
        break;
      case 0x22:
      case 0x23:
        in.two();
        break;
      case 0x27:
        found.maximum_packet_size = in.four();
        break;
      case 0x02:
      case 0x11:
      case 0x18:
        in.four();
        break;
      case 0x0b:
        in.varint();
        break;
      case 0x03:
      case 0x08:
      case 0x09:
      case 0x12:
      case 0x15:
      case 0x16:
      case 0x1a:
      case 0x1c:
      case 0x1f:
        in.string();  // UTF-8 strings and binary data share the 2-byte length
        break;
      case 0x26:  // user property: a string pair
        in.string();
        in.string();
        break;
      default:
        in._bad = true;
    }
  }
  if (in.bad()) _bad = true;
  return found;
}

void put_two(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put_two(out, uint16_t(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

void put_varint(std::vector<uint8_t>& out, uint32_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    out.push_back(b);
  } while (v != 0);
}

uint32_t varint_size(uint32_t v) noexcept {
  return v < 128 ? 1 : v < 16'384 ? 2 : v < 2'097'152 ? 3 : 4;
}

void put_fixed_header(std::vector<uint8_t>& out, uint8_t first_byte, uint32_t body_size) {
  out.push_back(first_byte);
  put_varint(out, body_size);
}

void put_connect(std::vector<uint8_t>& out, const connect_fields& f) {
  const bool v5 = f.level == 5;
  // Properties: Maximum Packet Size (0x27, four bytes) when announced.
  const uint32_t props = v5 && f.maximum_packet_size != 0 ? 5 : 0;
  uint32_t body = 10 + 2 + uint32_t(f.client_id.size());
  if (v5) body += varint_size(props) + props;
  if (f.has_username) body += 2 + uint32_t(f.username.size());
  if (f.has_password) body += 2 + uint32_t(f.password.size());
  put_fixed_header(out, connect << 4, body);
  put_string(out, "MQTT");
  out.push_back(f.level);
  uint8_t flags = f.clean ? 0x02 : 0;
  if (f.has_username) flags |= 0x80;
  if (f.has_password) flags |= 0x40;
  out.push_back(flags);
  put_two(out, f.keepalive_s);
  if (v5) {
    put_varint(out, props);
    if (props != 0) {
      out.push_back(0x27);
      for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(uint8_t(f.maximum_packet_size >> shift));
    }
  }
  put_string(out, f.client_id);
  if (f.has_username) put_string(out, f.username);
  if (f.has_password) put_string(out, f.password);
}

void put_subscribe(std::vector<uint8_t>& out, uint8_t level, uint16_t packet_id,
                   std::string_view filter, uint8_t qos) {
  const uint32_t props = level == 5 ? 1 : 0;  // an empty property list
  put_fixed_header(out, subscribe << 4 | 0x2, 2 + props + 2 + uint32_t(filter.size()) + 1);
  put_two(out, packet_id);
  if (props != 0) out.push_back(0);
  put_string(out, filter);
  out.push_back(qos);  // 3.1.1: requested QoS; 5: options whose low bits are the QoS
}

void put_unsubscribe(std::vector<uint8_t>& out, uint8_t level, uint16_t packet_id,
                     std::string_view filter) {
  const uint32_t props = level == 5 ? 1 : 0;
  put_fixed_header(out, unsubscribe << 4 | 0x2, 2 + props + 2 + uint32_t(filter.size()));
  put_two(out, packet_id);
  if (props != 0) out.push_back(0);
  put_string(out, filter);
}

void put_publish(std::vector<uint8_t>& out, uint8_t level, std::string_view topic,
                 std::span<const uint8_t> payload, uint8_t qos, uint16_t packet_id,
                 std::string_view response_topic) {
  // MQTT 5: the property list (§3.3.2.3), only Response Topic (0x08) if any.
  const uint32_t listed = response_topic.empty() ? 0 : 1 + 2 + uint32_t(response_topic.size());
  const uint32_t props = level == 5 ? varint_size(listed) + listed : 0;
  const uint32_t id = qos > 0 ? 2 : 0;
  put_fixed_header(out, uint8_t(publish << 4 | qos << 1),
                   2 + uint32_t(topic.size()) + id + props + uint32_t(payload.size()));
  put_string(out, topic);
  if (id != 0) put_two(out, packet_id);
  if (level == 5) {
    put_varint(out, listed);
    if (listed != 0) {
      out.push_back(0x08);
      put_string(out, response_topic);
    }
  }
  out.insert(out.end(), payload.begin(), payload.end());
}

void put_puback(std::vector<uint8_t>& out, uint16_t packet_id) {
  put_fixed_header(out, puback << 4, 2);
  put_two(out, packet_id);
}

}  // namespace horde::proto::mqtt

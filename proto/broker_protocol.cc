#include "proto/broker_protocol.hh"

#include <cstring>

namespace horde::proto {
namespace {

bool starts_with(std::span<const uint8_t> bytes, std::string_view prefix) noexcept {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

std::string_view as_text(std::span<const uint8_t> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

command group_command(command_kind kind, std::span<const uint8_t> rest) noexcept {
  command c;
  c.kind = kind;
  c.group = as_text(rest);
  c.error = group_name_error(c.group);
  return c;
}

}  // namespace

std::string_view group_name_error(std::string_view group) noexcept {
  if (group.empty()) return "empty group name";
  if (group.size() > max_group_bytes) return "group name over 200 bytes";
  for (char c : group) {
    const auto b = uint8_t(c);
    if (b == ' ') return "space in group name";
    if (b < 0x20 || b == 0x7f) return "control byte in group name";
  }
  return {};
}

command parse_command(std::span<const uint8_t> message) noexcept {
  if (starts_with(message, "sub ")) return group_command(command_kind::sub, message.subspan(4));
  if (starts_with(message, "unsub ")) return group_command(command_kind::unsub, message.subspan(6));
  if (!starts_with(message, "pub ")) return {};
  command c;
  c.kind = command_kind::pub;
  const auto rest = message.subspan(4);
  const void* space = std::memchr(rest.data(), ' ', rest.size());
  if (space == nullptr) {
    c.group = as_text(rest);
    c.error = c.group.empty() ? std::string_view("empty group name")
                              : std::string_view("pub wants: pub G PAYLOAD");
    return c;
  }
  const size_t length = size_t(static_cast<const uint8_t*>(space) - rest.data());
  c.group = as_text(rest.first(length));
  c.payload = rest.subspan(length + 1);
  c.error = group_name_error(c.group);
  return c;
}

http_publish_target route_http_publish(std::string_view method, std::string_view path) noexcept {
  constexpr std::string_view prefix = "/publish/";
  const std::string_view resource = path.substr(0, path.find('?'));
  if (method != "POST" || !resource.starts_with(prefix)) return {};
  const std::string_view group = resource.substr(prefix.size());
  if (!group_name_error(group).empty()) return {http_publish_route::bad_group, {}};
  return {http_publish_route::publish, group};
}

bool is_utf8(std::span<const uint8_t> bytes) noexcept {
  size_t i = 0;
  while (i < bytes.size()) {
    const uint8_t b = bytes[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint8_t low = 0x80, high = 0xbf;  // the allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf) {
      length = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b == 0xe0) low = 0xa0;   // overlong
      if (b == 0xed) high = 0x9f;  // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b == 0xf0) low = 0x90;   // overlong
      if (b == 0xf4) high = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (bytes.size() - i < length || bytes[i + 1] < low || bytes[i + 1] > high) return false;
    for (size_t k = 2; k < length; ++k)
      if ((bytes[i + k] & 0xc0) != 0x80) return false;
    i += length;
  }
  return true;
}

void encode_server_frame(std::vector<uint8_t>& out, ws_opcode opcode,
                         std::initializer_list<std::span<const uint8_t>> parts) {
  uint64_t length = 0;
  for (const auto& part : parts)
    length += part.size();
  out.clear();
  out.push_back(uint8_t(0x80 | uint8_t(opcode)));
  if (length < 126) {
    out.push_back(uint8_t(length));
  } else if (length <= 0xffff) {
    out.push_back(126);
    out.push_back(uint8_t(length >> 8));
    out.push_back(uint8_t(length));
  } else {
    out.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(uint8_t(length >> shift));
  }
  for (const auto& part : parts)
    out.insert(out.end(), part.begin(), part.end());
}

}  // namespace horde::proto

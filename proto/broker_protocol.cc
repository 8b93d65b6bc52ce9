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

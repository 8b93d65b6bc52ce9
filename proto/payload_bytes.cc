#include "proto/payload_bytes.hh"

#include <cstdint>

namespace horde::proto {
namespace {

constexpr std::string_view hex_prefix = "hex:";
constexpr std::string_view base64_prefix = "base64:";
constexpr std::string_view text_prefix = "text:";

bool is_space(char ch) noexcept {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int hex_value(char ch) noexcept {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// RFC 4648 section 4, the standard alphabet; -1 outside it.
int base64_value(char ch) noexcept {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+') return 62;
  if (ch == '/') return 63;
  return -1;
}

// "'x' at column 12", the character escaped when it is not printable.
std::string bad_char(std::string_view spec, size_t i) {
  const auto byte = uint8_t(spec[i]);
  std::string shown;
  if (byte >= 0x20 && byte < 0x7f) {
    shown = std::string("'") + char(byte) + "'";
  } else {
    static constexpr char hex[] = "0123456789abcdef";
    shown = std::string("byte 0x") + hex[byte >> 4] + hex[byte & 0xf];
  }
  return shown + " at column " + std::to_string(i + 1);
}

result<std::string> decode_hex(std::string_view spec) {
  std::string out;
  out.reserve((spec.size() - hex_prefix.size()) / 2);
  size_t i = hex_prefix.size();
  while (i < spec.size()) {
    if (is_space(spec[i])) {
      ++i;
      continue;
    }
    const int high = hex_value(spec[i]);
    if (high < 0) return make_error("hex payload: " + bad_char(spec, i) + " is not a hex digit");
    if (i + 1 == spec.size() || is_space(spec[i + 1])) {
      return make_error("hex payload: the byte at column " + std::to_string(i + 1) +
                        " has one digit; each byte is two (0a, not a)");
    }
    const int low = hex_value(spec[i + 1]);
    if (low < 0) return make_error("hex payload: " + bad_char(spec, i + 1) + " is not a hex digit");
    out += char(high << 4 | low);
    i += 2;
  }
  return out;
}

result<std::string> decode_base64(std::string_view spec) {
  std::string out;
  out.reserve((spec.size() - base64_prefix.size()) / 4 * 3 + 2);
  uint32_t bits = 0;  // pending bits, the newest lowest
  int pending = 0;    // how many
  size_t data = 0, padding = 0;
  size_t last_data = 0, first_padding = 0;  // columns, for errors
  for (size_t i = base64_prefix.size(); i < spec.size(); ++i) {
    const char ch = spec[i];
    if (is_space(ch)) continue;
    if (ch == '=') {
      if (padding++ == 0) first_padding = i;
      continue;
    }
    const int value = base64_value(ch);
    if (value < 0) {
      std::string message = "base64 payload: " + bad_char(spec, i) + " is not base64";
      if (ch == '-' || ch == '_') message += " (base64url? write + for - and / for _)";
      return make_error(std::move(message));
    }
    if (padding > 0)
      return make_error("base64 payload: " + bad_char(spec, i) + " comes after the '=' padding");
    bits = bits << 6 | uint32_t(value);
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      out += char(bits >> pending);
      bits &= (1u << pending) - 1;
    }
    ++data;
    last_data = i;
  }
  // Four characters carry three bytes; a lone last character carries less
  // than one, so the text was cut short.
  if (data % 4 == 1) {
    return make_error("base64 payload: the character at column " + std::to_string(last_data + 1) +
                      " is alone in its group of four (cut short?)");
  }
  if (padding > 0 && (padding > 2 || (data + padding) % 4 != 0)) {
    return make_error("base64 payload: " + std::to_string(padding) + " '=' from column " +
                      std::to_string(first_padding + 1) + " do not pad " + std::to_string(data) +
                      " characters to a multiple of four");
  }
  return out;
}

}  // namespace

result<std::string> decode_payload(std::string_view spec) {
  if (spec.starts_with(hex_prefix)) return decode_hex(spec);
  if (spec.starts_with(base64_prefix)) return decode_base64(spec);
  if (spec.starts_with(text_prefix)) return std::string(spec.substr(text_prefix.size()));
  return std::string(spec);
}

result<void> check_stamp_offset(size_t payload_size, size_t offset, size_t stamp_size) {
  // Written without offset + stamp_size, which could wrap.
  if (stamp_size <= payload_size && offset <= payload_size - stamp_size) return {};
  std::string message = "a " + std::to_string(stamp_size) + "-byte stamp at offset " +
                        std::to_string(offset) + " does not fit in a " +
                        std::to_string(payload_size) + "-byte payload; ";
  if (stamp_size > payload_size) {
    message += "the payload needs at least " + std::to_string(stamp_size) + " bytes";
  } else {
    message += "use an offset of at most " + std::to_string(payload_size - stamp_size);
    // offset + stamp_size may not fit in size_t; then no payload can hold it.
    if (offset <= SIZE_MAX - stamp_size)
      message += " or a payload of at least " + std::to_string(offset + stamp_size) + " bytes";
  }
  return make_error(std::move(message));
}

}  // namespace horde::proto

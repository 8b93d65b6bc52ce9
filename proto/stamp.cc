#include "proto/stamp.hh"

#include <algorithm>

#include <cstring>

namespace horde::proto {
namespace {

constexpr char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0xff marks a byte outside the alphabet.
constexpr auto make_decode_table() {
  struct table {
    uint8_t value[256];
  } t{};
  for (auto& v : t.value)
    v = 0xff;
  for (int i = 0; i < 64; ++i)
    t.value[uint8_t(base64url_alphabet[i])] = uint8_t(i);
  return t;
}
constexpr auto decode_table = make_decode_table();

void put_u32(uint8_t* out, uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i)
    out[i] = uint8_t(v >> (8 * i));
}
void put_u64(uint8_t* out, uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i)
    out[i] = uint8_t(v >> (8 * i));
}
uint32_t get_u32(const uint8_t* in) noexcept {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t(in[i]) << (8 * i);
  return v;
}
uint64_t get_u64(const uint8_t* in) noexcept {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t(in[i]) << (8 * i);
  return v;
}

// 32 bytes -> 43 characters: ten 3-byte groups and a 2-byte tail.
void encode_base64url(const uint8_t (&in)[stamp_size], char* out) noexcept {
  size_t o = 0;
  size_t i = 0;
  for (; i + 3 <= stamp_size; i += 3) {
    const uint32_t n = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8 | in[i + 2];
    out[o++] = base64url_alphabet[(n >> 18) & 63];
    out[o++] = base64url_alphabet[(n >> 12) & 63];
    out[o++] = base64url_alphabet[(n >> 6) & 63];
    out[o++] = base64url_alphabet[n & 63];
  }
  const uint32_t n = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8;
  out[o++] = base64url_alphabet[(n >> 18) & 63];
  out[o++] = base64url_alphabet[(n >> 12) & 63];
  out[o++] = base64url_alphabet[(n >> 6) & 63];
}

bool decode_base64url(const char* in, uint8_t (&out)[stamp_size]) noexcept {
  constexpr size_t chars = stamp_text_size - stamp_text_prefix.size();
  uint8_t sextets[chars];
  for (size_t k = 0; k < chars; ++k) {
    sextets[k] = decode_table.value[uint8_t(in[k])];
    if (sextets[k] == 0xff) return false;
  }
  size_t o = 0;
  size_t k = 0;
  for (; k + 4 <= chars; k += 4) {
    const uint32_t n = uint32_t(sextets[k]) << 18 | uint32_t(sextets[k + 1]) << 12 |
                       uint32_t(sextets[k + 2]) << 6 | sextets[k + 3];
    out[o++] = uint8_t(n >> 16);
    out[o++] = uint8_t(n >> 8);
    out[o++] = uint8_t(n);
  }
  const uint32_t n =
      uint32_t(sextets[k]) << 18 | uint32_t(sextets[k + 1]) << 12 | uint32_t(sextets[k + 2]) << 6;
  if ((n & 0xff) != 0) return false;  // non-canonical tail bits: not one of ours
  out[o++] = uint8_t(n >> 16);
  out[o++] = uint8_t(n >> 8);
  return true;
}

}  // namespace

void write_stamp(uint8_t* out, const stamp& s) noexcept {
  std::memcpy(out, stamp_magic, sizeof stamp_magic);
  put_u32(out + 4, s.conn_id);
  put_u64(out + 8, s.seq);
  put_u64(out + 16, s.group);
  put_u64(out + 24, s.send_ns);
}

std::optional<stamp> read_stamp(std::span<const uint8_t> bytes) noexcept {
  if (bytes.size() < stamp_size) return std::nullopt;
  const uint8_t* in = bytes.data();
  if (std::memcmp(in, stamp_magic, sizeof stamp_magic) != 0) return std::nullopt;
  return stamp{get_u32(in + 4), get_u64(in + 8), get_u64(in + 16), get_u64(in + 24)};
}

void write_stamp_text(char* out, const stamp& s) noexcept {
  uint8_t raw[stamp_size];
  write_stamp(raw, s);
  std::memcpy(out, stamp_text_prefix.data(), stamp_text_prefix.size());
  encode_base64url(raw, out + stamp_text_prefix.size());
}

std::optional<stamp> read_stamp_text(std::string_view text) noexcept {
  if (text.size() < stamp_text_size || !text.starts_with(stamp_text_prefix)) return std::nullopt;
  uint8_t raw[stamp_size];
  if (!decode_base64url(text.data() + stamp_text_prefix.size(), raw)) return std::nullopt;
  return read_stamp(raw);
}

std::optional<stamp> find_stamp_text(std::string_view text) noexcept {
  size_t from = 0;
  while (true) {
    const size_t at = text.find(stamp_text_prefix, from);
    if (at == std::string_view::npos) return std::nullopt;
    if (auto s = read_stamp_text(text.substr(at))) return s;
    from = at + 1;
  }
}

void fill_payload(std::span<uint8_t> body, const stamp& s) noexcept {
  size_t offset = 0;
  if (body.size() >= stamp_size) {
    write_stamp(body.data(), s);
    offset = stamp_size;
  }
  // A fixed, non-zero filler: compressible is fine (we negotiate no
  // compression), and a server that echoes garbage is easy to spot.
  for (size_t i = offset; i < body.size(); ++i)
    body[i] = uint8_t('a' + i % 26);
}

namespace {

// The filler repeats every 26 bytes; a block of a whole number of periods is
// compared with memcmp, so checking an echo costs about what copying it does.
constexpr size_t filler_block = 26 * 2520;  // 65,520 bytes

const uint8_t* filler_pattern() noexcept {
  static const auto* pattern = [] {
    static uint8_t bytes[filler_block];
    for (size_t i = 0; i < filler_block; ++i)
      bytes[i] = uint8_t('a' + i % 26);
    return bytes;
  }();
  return pattern;
}

}  // namespace

bool filler_intact(std::span<const uint8_t> body) noexcept {
  const uint8_t* pattern = filler_pattern();
  size_t at = body.size() >= stamp_size ? stamp_size : 0;
  while (at < body.size()) {
    // Compare from `at` to the end of its block: the pattern is aligned with
    // body offsets that are multiples of the block (and of 26).
    const size_t in_block = at % filler_block;
    const size_t n = std::min(body.size() - at, filler_block - in_block);
    if (std::memcmp(body.data() + at, pattern + in_block, n) != 0) return false;
    at += n;
  }
  return true;
}

void fill_text_payload(std::span<uint8_t> body, const stamp& s) noexcept {
  std::memset(body.data(), 'x', body.size());
  if (body.size() >= stamp_text_size) write_stamp_text(reinterpret_cast<char*>(body.data()), s);
}

bool text_filler_intact(std::span<const uint8_t> body) noexcept {
  for (size_t i = stamp_text_size; i < body.size(); ++i)
    if (body[i] != 'x') return false;
  return true;
}

}  // namespace horde::proto

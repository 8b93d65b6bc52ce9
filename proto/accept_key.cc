#include "proto/accept_key.hh"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace horde::proto {

void base64_encode(const uint8_t* in, size_t n, char* out) noexcept {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8 | in[i + 2];
    *out++ = alphabet[v >> 18];
    *out++ = alphabet[(v >> 12) & 63];
    *out++ = alphabet[(v >> 6) & 63];
    *out++ = alphabet[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t(in[i]) << 16;
    *out++ = alphabet[v >> 18];
    *out++ = alphabet[(v >> 12) & 63];
    *out++ = '=';
    *out++ = '=';
  } else if (n - i == 2) {
    const uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8;
    *out++ = alphabet[v >> 18];
    *out++ = alphabet[(v >> 12) & 63];
    *out++ = alphabet[(v >> 6) & 63];
    *out++ = '=';
  }
}

void encode_ws_key(const uint8_t (&random)[16], char (&key)[ws_key_length]) noexcept {
  base64_encode(random, sizeof random, key);
}

void accept_key_for(std::string_view key, char (&accept)[ws_accept_length]) noexcept {
  // SHA-1 is what RFC 6455 names; here it is a checksum, not security. The
  // one-shot SHA1() over a stack buffer keeps the connect path free of
  // allocation; keys are 24 characters, and longer ones are cut at 192 (a
  // server parser rejects them before they get here).
  uint8_t joined[192 + ws_guid.size()];
  const size_t key_size = std::min(key.size(), size_t(192));
  std::memcpy(joined, key.data(), key_size);
  std::memcpy(joined + key_size, ws_guid.data(), ws_guid.size());
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(joined, key_size + ws_guid.size(), digest);
  base64_encode(digest, sizeof digest, accept);
}

std::string accept_key_for(std::string_view key) {
  char accept[ws_accept_length];
  accept_key_for(key, accept);
  return std::string(accept, sizeof accept);
}

}  // namespace horde::proto

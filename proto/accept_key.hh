// The two derived strings of the opening handshake (RFC 6455 4.1, 4.2.2):
// Sec-WebSocket-Key, the base64 of 16 random bytes, and Sec-WebSocket-Accept,
// the base64 of SHA-1(key + the protocol's GUID). Fixed-size outputs so the
// connect path never allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace horde::proto {

inline constexpr size_t ws_key_length = 24;     // base64 of 16 bytes
inline constexpr size_t ws_accept_length = 28;  // base64 of a 20-byte SHA-1
inline constexpr std::string_view ws_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void encode_ws_key(const uint8_t (&random)[16], char (&key)[ws_key_length]) noexcept;

// The accept value a server must answer to `key` (any length; a client's key
// is 24 characters, a server computes it for whatever it was sent).
void accept_key_for(std::string_view key, char (&accept)[ws_accept_length]) noexcept;
std::string accept_key_for(std::string_view key);

// Standard base64 with padding; out must hold 4 * ceil(n / 3) characters.
void base64_encode(const uint8_t* in, size_t n, char* out) noexcept;

}  // namespace horde::proto

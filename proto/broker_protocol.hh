// The reference server's own protocol (docs/pubsub.md), as bytes: the
// commands a client sends (`sub G`, `unsub G`, `pub G PAYLOAD`) and the
// frames a server writes. I/O-free, so the engine (core/) never parses or
// encodes a protocol byte itself (DESIGN.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "proto/ws_session.hh"

namespace horde::proto {

inline constexpr size_t max_group_bytes = 200;

enum class command_kind : uint8_t { none, sub, unsub, pub };

struct command {
  command_kind kind = command_kind::none;  // none: not a command (echo it)
  std::string_view error;                  // non-empty: malformed (answer "err " + error)
  std::string_view group;
  std::span<const uint8_t> payload;  // pub only; every byte after "pub G "
};

// Classifies a message: `sub `, `unsub ` and `pub ` prefixes make a command;
// anything else is kind none. Views the message's bytes; never allocates.
command parse_command(std::span<const uint8_t> message) noexcept;

// Why a group name is not one (1-200 bytes, no space, no control bytes);
// empty when it is.
std::string_view group_name_error(std::string_view group) noexcept;

// The reference server's HTTP publish endpoint (`POST /publish/G`, a query
// string allowed): a publish of the request's body to group G, delivered to
// its WebSocket subscribers as `msg G BODY` like a `pub` command's payload.
enum class http_publish_route : uint8_t {
  other,      // not POST /publish/...: the server's other routes decide
  publish,    // group is a valid group name
  bad_group,  // POST /publish/... whose group is empty or not a name (404)
};

struct http_publish_target {
  http_publish_route route = http_publish_route::other;
  std::string_view group;  // a view into path
};

http_publish_target route_http_publish(std::string_view method, std::string_view path) noexcept;

// Whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF): an HTTP body that is not goes out in
// a binary frame, since a text frame must be UTF-8 (RFC 6455 5.6).
bool is_utf8(std::span<const uint8_t> bytes) noexcept;

// One unmasked frame with FIN set (RFC 6455 5.2; a server never masks), its
// payload the parts one after another. Server frames are the same bytes for
// every receiver, which is what lets a delivery be encoded once and copied.
void encode_server_frame(std::vector<uint8_t>& out, ws_opcode opcode,
                         std::initializer_list<std::span<const uint8_t>> parts);

}  // namespace horde::proto

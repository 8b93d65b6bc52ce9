// permessage-deflate (RFC 7692) for the server: which of a client's offers
// it accepts, and the answer the 101 carries. The server side of
// proto/permessage_deflate.hh's negotiate(); `horde serve --compression`.
//
// A client may offer several configurations, most preferred first (RFC 7692
// 5.1). The first permessage-deflate offer whose parameters are all valid
// and that the policy can meet is taken; an offer with an unknown, repeated
// or bad parameter is declined and the next one considered (5.1, 7.1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/permessage_deflate.hh"

namespace horde::proto {

// What the server is willing to do. Window bits 9..15 (zlib cannot compress
// with a 256-byte window, so an offer that demands 8 of our compressor is
// declined).
struct deflate_policy {
  uint8_t server_max_window_bits = 15;      // our compressor's window, at most
  uint8_t client_max_window_bits = 15;      // asked of a client that lets us choose
  bool server_no_context_takeover = false;  // we reset our compressor after each message
  bool client_no_context_takeover = false;  // asked of the client: our inflater is shared
};

// Reads one Sec-WebSocket-Extensions value of the request. True when an
// offer was accepted: `params` is the agreement (RFC names: client_* is the
// client's compressor) and `answer` the response header's value. False: no
// offer was acceptable (or none was made), the 101 names no extension.
bool accept_deflate_offer(std::string_view offers, const deflate_policy& policy,
                          deflate_params& params, std::string& answer);

}  // namespace horde::proto

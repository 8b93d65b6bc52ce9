// The client's side of the handshake answer (RFC 6455 4.1, 4.2.2): an
// incremental parser fed arbitrary splits of what the server sent. It checks
// the status, Upgrade, Connection, Sec-WebSocket-Accept (against the value
// computed for our key), the chosen subprotocol (one we offered) and
// extensions (we offer none). A non-101 answer is a result with its status
// and Retry-After, not an error of the parser. Bytes after the header are
// never consumed: they are the first WebSocket frames. Sec-WebSocket-Extensions
// must be empty unless we offered permessage-deflate, and then may only
// accept that offer (RFC 7692 7.1, proto/permessage_deflate.hh).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/accept_key.hh"
#include "proto/header_block.hh"
#include "proto/parse_status.hh"
#include "proto/permessage_deflate.hh"

namespace horde::proto {

enum class upgrade_failure : uint8_t {
  none,
  malformed,               // not HTTP/1.x, a bad status line or header line
  too_large,               // header bytes or count over the limits
  not_101,                 // a complete answer with another status (see status_code)
  missing_upgrade,         // no "Upgrade: websocket"
  missing_connection,      // no "upgrade" token in Connection
  bad_accept,              // Sec-WebSocket-Accept missing or wrong
  unexpected_subprotocol,  // a subprotocol we did not offer
  unexpected_extension,    // an extension we did not offer, or bad permessage-deflate parameters
};

std::string_view to_string(upgrade_failure failure) noexcept;

struct upgrade_limits {
  size_t max_header_bytes = 8192;  // status line included; capped at header_block_capacity
  size_t max_headers = 64;
};

class upgrade_response_parser {
 public:
  // expected_accept: the value for the key we sent (copied). offered: the
  // subprotocols we offered; must outlive the parse (nullptr: none).
  // deflate: our permessage-deflate offer, likewise (nullptr: none).
  void reset(std::string_view expected_accept, const std::vector<std::string>* offered,
             upgrade_limits limits = {}, const deflate_offer* deflate = nullptr) noexcept;

  // done: the header is complete (accepted() or failure() == not_101);
  // invalid: it can never be a valid answer (see failure()).
  parse_status feed(std::string_view input, size_t& consumed) noexcept;

  bool accepted() const noexcept { return _done && _failure == upgrade_failure::none; }
  upgrade_failure failure() const noexcept { return _failure; }
  int status_code() const noexcept { return _status; }
  // "" when none; views the header bytes (see header_block::feed for how long).
  std::string_view subprotocol() const noexcept { return _subprotocol; }
  uint32_t retry_after_seconds() const noexcept { return _retry_after; }  // 0 when absent
  // The server accepted our permessage-deflate offer with deflate_params().
  bool deflate_accepted() const noexcept { return _deflate_accepted; }
  const deflate_params& deflate_agreed() const noexcept { return _deflate_params; }

 private:
  parse_status finish() noexcept;
  bool take_extensions(std::string_view value) noexcept;
  parse_status fail(upgrade_failure why) noexcept {
    _failure = why;
    return parse_status::invalid;
  }

  header_block _block;
  char _expected_accept[ws_accept_length] = {};
  const std::vector<std::string>* _offered = nullptr;
  const deflate_offer* _deflate_offer = nullptr;
  deflate_params _deflate_params;
  bool _deflate_accepted = false;
  upgrade_limits _limits;
  std::string_view _subprotocol;
  uint32_t _retry_after = 0;
  int _status = 0;
  upgrade_failure _failure = upgrade_failure::none;
  bool _done = false;
};

}  // namespace horde::proto

#include "proto/deflate_accept.hh"

#include <algorithm>

#include "proto/http_token.hh"

namespace horde::proto {
namespace {

// One item of the list: a valid permessage-deflate offer the server can
// meet, or not. Our compressor cannot go below 9 bits (8 is read as 9 by
// zlib), and server_max_window_bits needs a value (RFC 7692 7.1.2.1).
bool read_offer(std::string_view item, deflate_extension& offer) noexcept {
  if (!read_deflate_extension(item, offer)) return false;
  return !offer.server_window_named || offer.server_window_bits >= 9;
}

void append_window(std::string& answer, std::string_view name, uint8_t bits) {
  answer += "; ";
  answer += name;
  answer += '=';
  answer += std::to_string(bits);
}

}  // namespace

bool accept_deflate_offer(std::string_view offers, const deflate_policy& policy,
                          deflate_params& params, std::string& answer) {
  deflate_extension offer;
  if (!any_list_item(offers, [&](std::string_view item) { return read_offer(item, offer); })) {
    return false;
  }
  params = deflate_params{};
  const uint8_t server_window = offer.server_window_named ? offer.server_window_bits : 15;
  params.server_max_window_bits = std::min(server_window, policy.server_max_window_bits);
  params.server_no_context_takeover =
      offer.server_no_context_takeover || policy.server_no_context_takeover;
  params.client_no_context_takeover =
      offer.client_no_context_takeover || policy.client_no_context_takeover;
  // The client's window is ours to narrow only when it said so; otherwise it
  // may use 15 and our inflater must take that. No value: we choose.
  uint8_t client_window = 15;
  if (offer.client_window_named) {
    const uint8_t offered = offer.client_window_bits == 0 ? 15 : offer.client_window_bits;
    client_window = std::min(offered, policy.client_max_window_bits);
  }
  // A client that offered 8 is left to its own choice, and our inflater
  // takes any window at 15: answering 8 would refuse clients (ours among
  // them) that cannot compress with it.
  if (client_window < 9) client_window = 15;
  params.client_max_window_bits = client_window;
  answer = "permessage-deflate";
  if (params.server_no_context_takeover) answer += "; server_no_context_takeover";
  if (params.client_no_context_takeover) answer += "; client_no_context_takeover";
  // Answered when asked for (it must be, 7.1.2.1) or narrower than the default.
  if (offer.server_window_named || params.server_max_window_bits != 15) {
    append_window(answer, "server_max_window_bits", params.server_max_window_bits);
  }
  if (client_window != 15) append_window(answer, "client_max_window_bits", client_window);
  return true;
}

}  // namespace horde::proto

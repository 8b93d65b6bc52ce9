#include "proto/deflate_accept.hh"

#include <algorithm>

#include "proto/http_token.hh"

namespace horde::proto {
namespace {

// One offer's parameters as the client wrote them.
struct offer_seen {
  uint8_t server_window = 15;  // server_max_window_bits: what our compressor may use
  bool server_window_asked = false;
  bool client_window_allowed = false;  // client_max_window_bits came, with or without a value
  uint8_t client_window = 15;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
};

// One parameter of an offer into seen; false when it makes the offer invalid
// (unknown, repeated, a value where none belongs, a bad window).
bool read_param(std::string_view param, offer_seen& seen, unsigned& names_seen) noexcept {
  const size_t equals = param.find('=');
  const std::string_view name = trim_spaces(param.substr(0, equals));
  const bool has_value = equals != std::string_view::npos;
  const uint8_t bits = has_value ? parse_window_bits(trim_spaces(param.substr(equals + 1))) : 0;
  static constexpr std::string_view names[] = {"server_no_context_takeover",
                                               "client_no_context_takeover",
                                               "server_max_window_bits", "client_max_window_bits"};
  unsigned which = 0;
  while (which < 4 && !equals_ignore_case(name, names[which]))
    ++which;
  if (which == 4 || (names_seen & (1u << which)) != 0) return false;
  names_seen |= 1u << which;
  switch (which) {
    case 0:
      seen.server_no_context_takeover = true;
      return !has_value;
    case 1:
      seen.client_no_context_takeover = true;
      return !has_value;
    case 2:
      seen.server_window = bits;
      seen.server_window_asked = true;
      return bits != 0;  // a value is required (RFC 7692 7.1.2.1)
    default:
      seen.client_window_allowed = true;
      if (!has_value) return true;
      seen.client_window = bits;
      return bits != 0;
  }
}

// One item of the list: a valid permessage-deflate offer, or not.
bool read_offer(std::string_view item, offer_seen& seen) noexcept {
  size_t semicolon = item.find(';');
  if (!equals_ignore_case(trim_spaces(item.substr(0, semicolon)), "permessage-deflate")) {
    return false;
  }
  unsigned names_seen = 0;
  while (semicolon != std::string_view::npos) {
    item.remove_prefix(semicolon + 1);
    semicolon = item.find(';');
    if (!read_param(item.substr(0, semicolon), seen, names_seen)) return false;
  }
  return true;
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
  offer_seen seen;
  const bool found = any_list_item(offers, [&](std::string_view item) {
    seen = offer_seen{};
    // Our compressor cannot go below 9 bits (8 is read as 9 by zlib).
    return read_offer(item, seen) && seen.server_window >= 9;
  });
  if (!found) return false;
  params = deflate_params{};
  params.server_max_window_bits = std::min(seen.server_window, policy.server_max_window_bits);
  params.server_no_context_takeover =
      seen.server_no_context_takeover || policy.server_no_context_takeover;
  params.client_no_context_takeover =
      seen.client_no_context_takeover || policy.client_no_context_takeover;
  // The client's window is ours to narrow only when it said so; otherwise it
  // may use 15 and our inflater must take that.
  uint8_t client_window =
      seen.client_window_allowed ? std::min(seen.client_window, policy.client_max_window_bits) : 15;
  // A client that offered 8 is left to its own choice, and our inflater
  // takes any window at 15: answering 8 would refuse clients (ours among
  // them) that cannot compress with it.
  if (client_window < 9) client_window = 15;
  params.client_max_window_bits = client_window;
  answer = "permessage-deflate";
  if (params.server_no_context_takeover) answer += "; server_no_context_takeover";
  if (params.client_no_context_takeover) answer += "; client_no_context_takeover";
  // Answered when asked for (it must be, 7.1.2.1) or narrower than the default.
  if (seen.server_window_asked || params.server_max_window_bits != 15) {
    append_window(answer, "server_max_window_bits", params.server_max_window_bits);
  }
  if (client_window != 15) append_window(answer, "client_max_window_bits", client_window);
  return true;
}

}  // namespace horde::proto

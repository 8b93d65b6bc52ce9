// Fuzzes permessage-deflate (proto/permessage_deflate.hh): the parser of the
// server's Sec-WebSocket-Extensions answer, the server's reading of a
// client's offers (proto/deflate_accept.hh) and the inflater.
//
// Input: the first byte shapes the offer and the agreed parameters (window
// bits from its low 3 bits, no context takeover from bits 3 and 4, whether
// our offer named windows from bit 5); the rest is both the answer's text
// and, cut in two at its middle, two compressed messages. Checked:
//  - an accepted answer agrees only to what RFC 7692 7.1 and the offer
//    allow: windows 9..15 ours (never past what we asked), 8..15 the
//    server's (never past what we asked), our no-context promise kept;
//  - read as a client's offers, the same text is either declined or agreed
//    on terms within the server's policy, with an answer a client accepts
//    and reads as the same terms;
//  - an inflated message is never over the limit, and a refused one leaves
//    nothing behind;
//  - after any input, the same connection's state and a fresh one still
//    carry a known message there and back (a bad message never poisons the
//    shard's shared streams).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proto/deflate_accept.hh"
#include "proto/permessage_deflate.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

constexpr uint64_t limit = 64 * 1024;

void check_answer(const deflate_offer& offer, std::string_view answer) {
  deflate_params p;
  if (negotiate(offer, answer, p) != deflate_answer::accepted) return;
  HORDE_FUZZ_CHECK(p.client_max_window_bits >= 9 && p.client_max_window_bits <= 15);
  HORDE_FUZZ_CHECK(p.server_max_window_bits >= 8 && p.server_max_window_bits <= 15);
  if (offer.client_max_window_bits != 0)
    HORDE_FUZZ_CHECK(p.client_max_window_bits <= offer.client_max_window_bits);
  if (offer.server_max_window_bits != 0)
    HORDE_FUZZ_CHECK(p.server_max_window_bits <= offer.server_max_window_bits);
  if (offer.client_no_context_takeover) HORDE_FUZZ_CHECK(p.client_no_context_takeover);
}

void check_offers(const deflate_policy& policy, std::string_view offers) {
  deflate_params server;
  std::string answer;
  if (!accept_deflate_offer(offers, policy, server, answer)) return;
  HORDE_FUZZ_CHECK(server.server_max_window_bits >= 9 &&
                   server.server_max_window_bits <= policy.server_max_window_bits);
  HORDE_FUZZ_CHECK(server.client_max_window_bits >= 9 && server.client_max_window_bits <= 15);
  if (policy.server_no_context_takeover) HORDE_FUZZ_CHECK(server.server_no_context_takeover);
  deflate_params client;
  HORDE_FUZZ_CHECK(negotiate({}, answer, client) == deflate_answer::accepted);
  HORDE_FUZZ_CHECK(client.server_max_window_bits == server.server_max_window_bits);
  HORDE_FUZZ_CHECK(client.server_no_context_takeover == server.server_no_context_takeover);
  HORDE_FUZZ_CHECK(client.client_no_context_takeover == server.client_no_context_takeover);
  HORDE_FUZZ_CHECK(client.client_max_window_bits == server.client_max_window_bits);
}

// A known message compressed for `sender` and inflated by `receiver` intact.
void check_round_trip(deflate_shard& shard, uint32_t sender, uint32_t receiver) {
  static constexpr std::string_view known = "{\"known\":\"message\",\"known\":\"message\"}";
  const auto message = std::span(reinterpret_cast<const uint8_t*>(known.data()), known.size());
  const auto out = shard.compress(sender, message);
  HORDE_FUZZ_CHECK(!out.empty());
  uint8_t copy[256];
  HORDE_FUZZ_CHECK(out.size() <= sizeof copy);
  std::copy(out.begin(), out.end(), copy);
  HORDE_FUZZ_CHECK(shard.inflate(receiver, {copy, out.size()}, limit) == inflate_status::ok);
  const auto back = shard.inflated();
  HORDE_FUZZ_CHECK(std::string_view(reinterpret_cast<const char*>(back.data()), back.size()) ==
                   known);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t shape = data[0];
  const std::span<const uint8_t> rest(data + 1, size - 1);
  const uint8_t bits = uint8_t(9 + (shape & 7) % 7);
  const bool named = (shape & 0x20) != 0;
  const deflate_offer offer{uint8_t(named ? bits : 0), uint8_t(named ? bits : 0),
                            (shape & 0x08) != 0, (shape & 0x10) != 0};
  const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
  check_answer(offer, text);
  check_offers({bits, bits, offer.server_no_context_takeover, offer.client_no_context_takeover},
               text);
  valid_utf8(rest);

  static deflate_shard shard;  // reused across inputs, as a shard's is across connections
  const deflate_params params{bits, bits, offer.client_no_context_takeover,
                              offer.server_no_context_takeover};
  const uint32_t handle = shard.open(params);
  HORDE_FUZZ_CHECK(handle != 0);
  for (const auto message : {rest.first(rest.size() / 2), rest.subspan(rest.size() / 2)}) {
    const inflate_status status = shard.inflate(handle, message, limit);
    if (status == inflate_status::ok) {
      HORDE_FUZZ_CHECK(shard.inflated().size() <= limit);
    } else {
      HORDE_FUZZ_CHECK(shard.inflated().empty());
    }
  }
  const uint32_t fresh = shard.open(params);
  check_round_trip(shard, fresh, fresh);
  shard.close(fresh);
  shard.close(handle);
  HORDE_FUZZ_CHECK(shard.open_count() == 0);
  return 0;
}

#include "proto/deflate_accept.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde::proto {
namespace {

std::span<const uint8_t> span_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string text_of(std::span<const uint8_t> data) {
  return {data.begin(), data.end()};
}

TEST(deflate_accept, a_bare_offer_is_answered_bare) {
  deflate_params p;
  std::string answer;
  ASSERT_TRUE(accept_deflate_offer("permessage-deflate", {}, p, answer));
  EXPECT_EQ(answer, "permessage-deflate");
  EXPECT_EQ(p.server_max_window_bits, 15);
  EXPECT_EQ(p.client_max_window_bits, 15);
  EXPECT_FALSE(p.server_no_context_takeover);
  EXPECT_FALSE(p.client_no_context_takeover);
}

TEST(deflate_accept, what_the_client_asks_of_us_is_granted_and_answered) {
  deflate_params p;
  std::string answer;
  ASSERT_TRUE(accept_deflate_offer(
      "permessage-deflate; server_max_window_bits=10; server_no_context_takeover; "
      "client_no_context_takeover; client_max_window_bits",
      {}, p, answer));
  EXPECT_EQ(answer,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10");
  EXPECT_EQ(p.server_max_window_bits, 10);
  EXPECT_TRUE(p.server_no_context_takeover);
  EXPECT_TRUE(p.client_no_context_takeover);
}

TEST(deflate_accept, our_policy_narrows_only_what_the_client_lets_us) {
  deflate_policy policy{11, 10, true, true};
  deflate_params p;
  std::string answer;
  // The client lets us choose its window: we ask for 10.
  ASSERT_TRUE(
      accept_deflate_offer("permessage-deflate; client_max_window_bits", policy, p, answer));
  EXPECT_EQ(answer,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=11; client_max_window_bits=10");
  EXPECT_EQ(p.client_max_window_bits, 10);
  // It does not: its window stays 15 (our inflater must take that), and the
  // answer may not name client_max_window_bits (RFC 7692 7.1.2.2).
  ASSERT_TRUE(accept_deflate_offer("permessage-deflate", policy, p, answer));
  EXPECT_EQ(answer.find("client_max_window_bits"), std::string::npos) << answer;
  EXPECT_EQ(p.client_max_window_bits, 15);
  // It asked for a smaller window than our policy's: the smaller holds.
  ASSERT_TRUE(accept_deflate_offer(
      "permessage-deflate; client_max_window_bits=9; server_max_window_bits=9", policy, p, answer));
  EXPECT_EQ(p.client_max_window_bits, 9);
  EXPECT_EQ(p.server_max_window_bits, 9);
}

TEST(deflate_accept, an_offer_we_cannot_meet_is_declined_and_the_next_one_taken) {
  deflate_params p;
  std::string answer;
  // zlib cannot compress with a 256-byte window.
  EXPECT_FALSE(accept_deflate_offer("permessage-deflate; server_max_window_bits=8", {}, p, answer));
  ASSERT_TRUE(
      accept_deflate_offer("permessage-deflate; server_max_window_bits=8, permessage-deflate; "
                           "client_no_context_takeover",
                           {}, p, answer));
  EXPECT_EQ(answer, "permessage-deflate; client_no_context_takeover");
}

TEST(deflate_accept, invalid_offers_are_declined) {
  deflate_params p;
  std::string answer;
  for (const char* offers : {
           "",
           " , ",
           "x-webkit-deflate-frame",
           "permessage-deflate; foo",
           "permessage-deflate; server_max_window_bits",  // a value is required
           "permessage-deflate; server_max_window_bits=16",
           "permessage-deflate; client_max_window_bits=07",
           "permessage-deflate; server_no_context_takeover=1",  // no value belongs there
           "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
       }) {
    EXPECT_FALSE(accept_deflate_offer(offers, {}, p, answer)) << offers;
  }
}

// Every offer horde's client makes, against every policy: our answer is
// one the client accepts (negotiate()), and both ends agree on the terms.
TEST(deflate_accept, horde_s_own_offers_are_agreed_by_both_ends) {
  std::vector<deflate_policy> policies = {
      {}, {9, 9, false, false}, {12, 15, true, false}, {15, 10, false, true}};
  for (const deflate_policy& policy : policies) {
    for (uint8_t bits : {0, 9, 12, 15}) {
      for (int flags = 0; flags < 4; ++flags) {
        const deflate_offer offer{bits, bits, (flags & 1) != 0, (flags & 2) != 0};
        deflate_params server;
        std::string answer;
        ASSERT_TRUE(accept_deflate_offer(render_offer(offer), policy, server, answer));
        deflate_params client;
        ASSERT_EQ(negotiate(offer, answer, client), deflate_answer::accepted) << answer;
        EXPECT_EQ(client.server_max_window_bits, server.server_max_window_bits) << answer;
        EXPECT_EQ(client.server_no_context_takeover, server.server_no_context_takeover) << answer;
        // The client compresses with at most what the server inflates with.
        EXPECT_LE(client.client_max_window_bits, server.client_max_window_bits) << answer;
        EXPECT_EQ(client.client_no_context_takeover, server.client_no_context_takeover) << answer;
      }
    }
  }
}

// The server's streams are the mirror of the client's: what one compresses
// the other inflates, both ways, message after message (context kept).
TEST(deflate_accept, a_server_shard_and_a_client_shard_understand_each_other) {
  for (const bool fresh : {false, true}) {
    deflate_params agreed;
    agreed.server_max_window_bits = 10;
    agreed.client_max_window_bits = 12;
    agreed.server_no_context_takeover = fresh;
    agreed.client_no_context_takeover = fresh;
    deflate_shard client_side, server_side;
    const uint32_t c = client_side.open(agreed);
    const uint32_t s = server_side.open(agreed, true);
    ASSERT_NE(c, 0u);
    ASSERT_NE(s, 0u);
    for (int i = 0; i < 20; ++i) {
      const std::string message =
          "{\"seq\":" + std::to_string(i) + ",\"text\":\"the same words again and again\"}";
      const auto up = client_side.compress(c, span_of(message));
      const std::vector<uint8_t> sent(up.begin(), up.end());
      ASSERT_EQ(server_side.inflate(s, sent, 1 << 20), inflate_status::ok);
      EXPECT_EQ(text_of(server_side.inflated()), message);
      const auto down = server_side.compress(s, span_of(message));
      const std::vector<uint8_t> back(down.begin(), down.end());
      ASSERT_EQ(client_side.inflate(c, back, 1 << 20), inflate_status::ok);
      EXPECT_EQ(text_of(client_side.inflated()), message);
    }
    // With context kept each end holds its own pair; without, the shard's.
    EXPECT_EQ(server_side.streams(), 2u);
  }
}

}  // namespace
}  // namespace horde::proto

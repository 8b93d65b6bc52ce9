#include "proto/permessage_deflate.hh"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/ws_session.hh"
#include "tests/support/event_recorder.hh"
#include "tests/support/frame_bytes.hh"
#include "tests/support/guard_page.hh"
#include "tests/support/session_endpoint.hh"

namespace horde::proto {
namespace {

using test::b;
using test::bytes;
using test::concat;

std::span<const uint8_t> span_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string text_of(std::span<const uint8_t> data) {
  return {data.begin(), data.end()};
}

// ---- the offer and the answer (RFC 7692 7.1) ----

TEST(permessage_deflate, the_offer_names_what_was_asked) {
  EXPECT_EQ(render_offer({}), "permessage-deflate; client_max_window_bits");
  EXPECT_EQ(render_offer({12, 10, true, true}),
            "permessage-deflate; client_max_window_bits=12; server_max_window_bits=10; "
            "client_no_context_takeover; server_no_context_takeover");
}

TEST(permessage_deflate, an_answer_with_parameters_is_taken_as_agreed) {
  deflate_params p;
  ASSERT_EQ(negotiate({}, "permessage-deflate", p), deflate_answer::accepted);
  EXPECT_EQ(p.client_max_window_bits, 15);
  EXPECT_EQ(p.server_max_window_bits, 15);
  EXPECT_FALSE(p.client_no_context_takeover);
  EXPECT_FALSE(p.server_no_context_takeover);

  ASSERT_EQ(negotiate({},
                      "Permessage-Deflate ; server_max_window_bits=\"10\";client_max_window_bits=9"
                      " ; server_no_context_takeover; client_no_context_takeover",
                      p),
            deflate_answer::accepted);
  EXPECT_EQ(p.client_max_window_bits, 9);
  EXPECT_EQ(p.server_max_window_bits, 10);
  EXPECT_TRUE(p.client_no_context_takeover);
  EXPECT_TRUE(p.server_no_context_takeover);

  // What we offered holds for our side whatever the answer leaves out.
  ASSERT_EQ(negotiate({12, 0, true, false}, "permessage-deflate", p), deflate_answer::accepted);
  EXPECT_EQ(p.client_max_window_bits, 12);
  EXPECT_TRUE(p.client_no_context_takeover);
  EXPECT_EQ(negotiate({}, "", p), deflate_answer::absent);
  EXPECT_EQ(negotiate({}, "  ", p), deflate_answer::absent);
}

TEST(permessage_deflate, answers_the_offer_does_not_allow_are_refused) {
  const deflate_offer offer{12, 11, false, false};
  const char* bad[] = {
      "x-webkit-deflate-frame",                  // another extension
      "permessage-deflate, permessage-deflate",  // twice
      "permessage-deflate, x-other",             // and another
      "permessage-deflate; mystery",             // unknown parameter
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; server_no_context_takeover=1",  // a value where none goes
      "permessage-deflate; client_no_context_takeover=true",
      "permessage-deflate; server_max_window_bits=12",  // over what we asked (11)
      "permessage-deflate; client_max_window_bits=13",  // over what we asked (12)
      "permessage-deflate; client_max_window_bits=8",   // zlib cannot compress with 8
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=010",
      "permessage-deflate; server_max_window_bits",  // a value is required
      "permessage-deflate; server_max_window_bits=1x",
      ",",
      "permessage-deflate;",
  };
  for (const char* answer : bad) {
    deflate_params p;
    EXPECT_EQ(negotiate(offer, answer, p), deflate_answer::invalid) << answer;
  }
  deflate_params p;
  EXPECT_EQ(negotiate(offer, "permessage-deflate; server_max_window_bits=8", p),
            deflate_answer::accepted)
      << "the server may narrow its own window to 8; we read it with 9";
}

// ---- the codec (RFC 7692 7.2) ----

struct codec_pair {
  deflate_shard shard;
  uint32_t sender = 0, receiver = 0;

  explicit codec_pair(deflate_params sent, deflate_params read) {
    sender = shard.open(sent);
    receiver = shard.open(read);
  }
  // Compressed by the sender, inflated by the receiver.
  std::string round_trip(std::string_view message, size_t* wire = nullptr) {
    const auto compressed = shard.compress(sender, span_of(message));
    const bytes copy(compressed.begin(), compressed.end());
    if (wire != nullptr) *wire = copy.size();
    EXPECT_EQ(shard.inflate(receiver, copy, 64u << 20), inflate_status::ok);
    return text_of(shard.inflated());
  }
};

// The compressor's window is client_max_window_bits, the inflater's
// server_max_window_bits: a pair agreeing on both reads its own messages.
deflate_params both_ways(uint8_t bits, bool no_takeover) {
  return {bits, bits, no_takeover, no_takeover};
}

std::string random_text(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = char(' ' + rng() % 95);
  return s;
}

std::string json_like(size_t n, uint32_t seed) {
  std::string s;
  for (uint32_t i = 0; s.size() < n; ++i)
    s += "{\"user\":\"u" + std::to_string((seed + i) % 97) +
         "\",\"room\":\"lobby\",\"seq\":" + std::to_string(i) + ",\"text\":\"hello there\"},";
  s.resize(n);
  return s;
}

TEST(permessage_deflate, the_rfc_hello_inflates_and_compresses_byte_for_byte) {
  deflate_shard shard;
  const uint32_t h = shard.open({});
  const bytes hello = b({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});  // RFC 7692 7.2.3.1
  ASSERT_EQ(shard.inflate(h, hello, 1024), inflate_status::ok);
  EXPECT_EQ(text_of(shard.inflated()), "Hello");
  // 7.2.3.2: the same message again, against the context of the first.
  ASSERT_EQ(shard.inflate(h, b({0xf2, 0x00, 0x11, 0x00, 0x00}), 1024), inflate_status::ok);
  EXPECT_EQ(text_of(shard.inflated()), "Hello");
  const auto out = shard.compress(h, span_of("Hello"));
  EXPECT_EQ(bytes(out.begin(), out.end()), hello);
  // 7.2.3.6: an empty message is one byte.
  EXPECT_EQ(shard.compress(shard.open({.client_no_context_takeover = true}), {}).size(), 1u);
}

TEST(permessage_deflate, every_window_and_takeover_echoes_byte_for_byte) {
  for (uint8_t bits = 9; bits <= 15; ++bits) {
    for (const bool no_takeover : {false, true}) {
      codec_pair pair(both_ways(bits, no_takeover), both_ways(bits, no_takeover));
      for (uint32_t i = 0; i < 5; ++i) {
        // Compressible, incompressible, and both longer than the window.
        const std::string json = json_like(1024 + i * 20000, i);
        const std::string noise = random_text(100 + i * 3000, i);
        EXPECT_TRUE(pair.round_trip(json) == json) << int(bits) << " " << no_takeover << " " << i;
        EXPECT_TRUE(pair.round_trip(noise) == noise) << int(bits) << " " << no_takeover << " " << i;
        EXPECT_EQ(pair.round_trip(""), "");
      }
    }
  }
}

TEST(permessage_deflate, context_takeover_makes_a_repeated_message_smaller) {
  const std::string m = json_like(1024, 1);
  codec_pair kept(both_ways(15, false), both_ways(15, false));
  codec_pair fresh(both_ways(15, true), both_ways(15, true));
  size_t first = 0, again_kept = 0, first_fresh = 0, again_fresh = 0;
  kept.round_trip(m, &first);
  kept.round_trip(m, &again_kept);
  fresh.round_trip(m, &first_fresh);
  fresh.round_trip(m, &again_fresh);
  EXPECT_LT(first, m.size() / 3) << "JSON-like text compresses";
  EXPECT_LT(again_kept, first / 2) << "the second copy refers to the first";
  EXPECT_EQ(again_fresh, first_fresh) << "without context every message starts afresh";
}

TEST(permessage_deflate, connections_without_context_share_the_shards_streams) {
  deflate_shard shard;
  std::vector<uint32_t> handles;
  for (int i = 0; i < 100; ++i)
    handles.push_back(shard.open(both_ways(12, true)));
  for (uint32_t h : handles) {
    const auto out = shard.compress(h, span_of("hello hello hello"));
    const bytes copy(out.begin(), out.end());
    ASSERT_EQ(shard.inflate(h, copy, 1024), inflate_status::ok);
  }
  EXPECT_EQ(shard.streams(), 2u) << "one compressor and one inflater for all";
  for (uint32_t h : handles)
    shard.close(h);
  deflate_shard own;
  for (int i = 0; i < 10; ++i) {
    const uint32_t h = own.open(both_ways(12, false));
    const auto out = own.compress(h, span_of("hello"));
    const bytes copy(out.begin(), out.end());
    ASSERT_EQ(own.inflate(h, copy, 1024), inflate_status::ok);
  }
  EXPECT_EQ(own.streams(), 20u) << "context takeover: two streams per connection";
  EXPECT_EQ(own.open_count(), 10u);
}

TEST(permessage_deflate, a_decompression_bomb_stops_at_the_limit) {
  deflate_shard shard;
  const uint32_t h = shard.open(both_ways(15, true));
  const std::string zeros(8u << 20, '\0');
  const auto out = shard.compress(h, span_of(zeros));
  const bytes bomb(out.begin(), out.end());
  ASSERT_LT(bomb.size(), 64u * 1024) << "8 MiB of zeros is tens of KiB compressed";
  EXPECT_EQ(shard.inflate(h, bomb, 1u << 20), inflate_status::too_big);
  EXPECT_TRUE(shard.inflated().empty());
  ASSERT_EQ(shard.inflate(h, bomb, 8u << 20), inflate_status::ok) << "exactly the limit fits";
  EXPECT_EQ(shard.inflated().size(), zeros.size());
}

TEST(permessage_deflate, bad_data_is_refused_and_the_shared_inflater_recovers) {
  deflate_shard shard;
  const uint32_t h = shard.open(both_ways(15, true));
  EXPECT_EQ(shard.inflate(h, b({0xff, 0xff, 0xff, 0xff, 0xff}), 1024), inflate_status::bad_data);
  const auto out = shard.compress(h, span_of("still works"));
  const bytes copy(out.begin(), out.end());
  ASSERT_EQ(shard.inflate(h, copy, 1024), inflate_status::ok);
  EXPECT_EQ(text_of(shard.inflated()), "still works");
  EXPECT_EQ(shard.inflate(0, copy, 1024), inflate_status::bad_data) << "no such handle";
}

TEST(permessage_deflate, utf8_is_checked_as_rfc_3629_says) {
  EXPECT_TRUE(valid_utf8(span_of("plain ascii")));
  EXPECT_TRUE(valid_utf8(span_of("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")));
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3",
                          "\x80", "\xff", "\xf0\x9f\x98"}) {
    EXPECT_FALSE(valid_utf8(span_of(bad))) << bad;
  }
}

// ---- in a session: RSV1 in the framing (RFC 7692 6) ----

using endpoint = test::session_endpoint;

// An unmasked frame as a server sends it (payload under 126 bytes).
bytes server_frame(int first_byte, const bytes& payload) {
  return concat({b({first_byte, int(payload.size())}), payload});
}

bytes compressed(std::string_view message, deflate_params params = {}) {
  deflate_shard shard;
  const auto out = shard.compress(shard.open(params), span_of(message));
  return {out.begin(), out.end()};
}

TEST(permessage_deflate, sessions_compress_with_rsv1_and_read_each_other) {
  endpoint client(ws_role::client), server(ws_role::server);
  ASSERT_TRUE(client.session.use_deflate(client.env, {}));
  ASSERT_TRUE(server.session.use_deflate(server.env, {}));
  const std::string message = json_like(3000, 4);
  ASSERT_EQ(client.session.send(client.env, ws_opcode::text, span_of(message), client.events),
            ws_state::open);
  const bytes wire = client.take_written();
  ASSERT_GE(wire.size(), 2u);
  EXPECT_EQ(wire[0], 0xc1) << "FIN, RSV1, text";
  EXPECT_LT(wire.size(), message.size() / 2);
  ASSERT_EQ(server.feed(wire), ws_state::open);
  ASSERT_EQ(server.events.messages.size(), 1u);
  EXPECT_EQ(server.events.messages[0].second, message);
  // Pings stay uncompressed (control frames never carry RSV1).
  client.session.ping(client.env, span_of("p"), client.events);
  EXPECT_EQ(client.take_written()[0], 0x89);
}

TEST(permessage_deflate, a_fragmented_compressed_message_reads_at_every_split_point) {
  const bytes body = compressed("Hello, fragmented world");
  const size_t cut = body.size() / 2;
  const bytes first(body.begin(), body.begin() + long(cut)),
      rest(body.begin() + long(cut), body.end());
  // RSV1 on the first frame only (RFC 7692 6.1).
  const bytes stream = concat({server_frame(0x41, first), server_frame(0x80, rest)});
  for (size_t split = 0; split <= stream.size(); ++split) {
    endpoint client(ws_role::client);
    ASSERT_TRUE(client.session.use_deflate(client.env, {}));
    test::guard_page_buffer guard(stream.size());
    client.session.feed(client.env, guard.place(std::span<const uint8_t>(stream.data(), split)),
                        client.events);
    ASSERT_EQ(client.session.feed(client.env,
                                  guard.place(std::span<const uint8_t>(stream.data() + split,
                                                                       stream.size() - split)),
                                  client.events),
              ws_state::open)
        << split;
    ASSERT_EQ(client.events.messages.size(), 1u) << split;
    EXPECT_EQ(client.events.messages[0].second, "Hello, fragmented world");
  }
}

struct fault_case {
  bytes input;
  bool negotiated;
  ws_failure failure;
  uint16_t code;
  const char* what;
};

TEST(permessage_deflate, compression_faults_fail_the_session_with_their_cause) {
  const bytes hello = compressed("Hello");
  const std::vector<fault_case> cases = {
      {server_frame(0xc1, hello), false, ws_failure::no_deflate_rsv1, 1002,
       "RSV1 without negotiation"},
      {concat({server_frame(0x41, hello), server_frame(0xc0, hello)}), true,
       ws_failure::reserved_bits, 1002, "RSV1 on a continuation"},
      {server_frame(0xe1, hello), true, ws_failure::reserved_bits, 1002, "RSV1 and RSV2"},
      {server_frame(0xc1, b({0xff, 0xff, 0xff})), true, ws_failure::bad_deflate, 1007,
       "data that does not inflate"},
      {server_frame(0xc1, compressed("caf\xc3")), true, ws_failure::invalid_utf8, 1007,
       "text that is not UTF-8 once inflated"},
  };
  for (const auto& c : cases) {
    endpoint client(ws_role::client);
    if (c.negotiated) {
      ASSERT_TRUE(client.session.use_deflate(client.env, {}));
    }
    EXPECT_EQ(client.feed(c.input), ws_state::failed) << c.what;
    EXPECT_EQ(client.session.failure(), c.failure) << c.what;
    EXPECT_EQ(client.session.failure_code(), c.code) << c.what;
    const bytes out = client.take_written();
    ASSERT_GE(out.size(), 4u) << c.what;
    EXPECT_EQ(out[0], 0x88) << c.what << ": a close frame goes out";
    EXPECT_TRUE(client.events.messages.empty()) << c.what;
  }
}

TEST(permessage_deflate, a_bomb_in_a_session_fails_1009_without_growing) {
  const std::string zeros(4u << 20, '\0');
  const bytes bomb = compressed(zeros);
  ASSERT_LT(bomb.size(), 0xffffu);
  const bytes frame =
      concat({b({0xc2, 126, int(bomb.size() >> 8), int(bomb.size() & 0xff)}), bomb});
  endpoint client(ws_role::client, ws_limits{1u << 20});
  ASSERT_TRUE(client.session.use_deflate(client.env, {}));
  EXPECT_EQ(client.feed(frame), ws_state::failed);
  EXPECT_EQ(client.session.failure(), ws_failure::too_big);
  EXPECT_EQ(client.session.failure_code(), 1009);
}

TEST(permessage_deflate, a_session_without_deflate_keeps_its_16_bytes_and_reset_frees_the_state) {
  endpoint client(ws_role::client);
  ASSERT_TRUE(client.session.use_deflate(client.env, both_ways(15, false)));
  EXPECT_EQ(client.env.deflate().open_count(), 1u);
  ASSERT_EQ(client.session.send(client.env, ws_opcode::binary, span_of("abc"), client.events),
            ws_state::open);
  client.session.release_context(client.env);
  EXPECT_FALSE(client.session.has_context()) << "the wslay context still goes back at a boundary";
  EXPECT_TRUE(client.session.deflating());
  client.session.reset(client.env);
  EXPECT_EQ(client.env.deflate().open_count(), 0u);
  EXPECT_EQ(client.env.deflate().streams(), 0u);
  EXPECT_FALSE(client.session.deflating());
  static_assert(sizeof(ws_session) <= 16);
}

}  // namespace
}  // namespace horde::proto

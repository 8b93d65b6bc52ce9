#include "proto/ws_session.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/event_recorder.hh"
#include "tests/support/guard_page.hh"

namespace horde::proto {
namespace {

using bytes = std::vector<uint8_t>;

bytes b(std::initializer_list<int> values) {
  bytes out;
  for (int v : values)
    out.push_back(uint8_t(v));
  return out;
}

bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct recorder final : test::event_recorder {
  bytes written;

  void write(std::span<const uint8_t> out) override {
    written.insert(written.end(), out.begin(), out.end());
  }
};

// One side of a conversation: env + session + what it saw.
struct endpoint {
  mask_source masks{7};
  ws_shard_env env;
  ws_session session;
  recorder events;

  explicit endpoint(ws_role role, ws_limits limits = {}) : env(role, limits, masks) {}
  ~endpoint() { session.reset(env); }

  ws_state feed(const bytes& in) { return session.feed(env, in, events); }
  ws_state send_text(std::string_view text) {
    return session.send(env, ws_opcode::text,
                        {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, events);
  }
  bytes take_written() {
    bytes out;
    out.swap(events.written);
    return out;
  }
};

// RFC 6455 5.7 examples.
const bytes unmasked_hello = b({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const bytes masked_hello = b({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
const bytes fragmented_hello = b({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
const bytes unmasked_ping_hello = b({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});

TEST(ws_session, client_reads_rfc_examples_at_every_split_point) {
  for (const bytes* input : {&unmasked_hello, &fragmented_hello}) {
    for (size_t split = 0; split <= input->size(); ++split) {
      endpoint client(ws_role::client);
      test::guard_page_buffer guard(input->size());
      auto first = guard.place(std::span<const uint8_t>(input->data(), split));
      EXPECT_EQ(client.session.feed(client.env, first, client.events), ws_state::open);
      auto second =
          guard.place(std::span<const uint8_t>(input->data() + split, input->size() - split));
      EXPECT_EQ(client.session.feed(client.env, second, client.events), ws_state::open);
      ASSERT_EQ(client.events.messages.size(), 1u) << split;
      EXPECT_EQ(client.events.messages[0].first, ws_opcode::text);
      EXPECT_EQ(client.events.messages[0].second, "Hello");
    }
  }
}

TEST(ws_session, server_unmasks_the_rfc_masked_frame) {
  endpoint server(ws_role::server);
  EXPECT_EQ(server.feed(masked_hello), ws_state::open);
  ASSERT_EQ(server.events.messages.size(), 1u);
  EXPECT_EQ(server.events.messages[0].second, "Hello");
}

TEST(ws_session, client_answers_a_ping_with_a_masked_pong_of_the_same_body) {
  endpoint client(ws_role::client);
  client.feed(unmasked_ping_hello);
  const bytes out = client.take_written();
  ASSERT_EQ(out.size(), 2u + 4 + 5);
  EXPECT_EQ(out[0], 0x8a);  // FIN + pong
  EXPECT_EQ(out[1], 0x85);  // masked, 5 bytes
  std::string body;
  for (size_t i = 0; i < 5; ++i)
    body += char(out[6 + i] ^ out[2 + i % 4]);
  EXPECT_EQ(body, "Hello");
  EXPECT_TRUE(client.events.messages.empty());
}

// A ping the peer sends just before its close is still answered, and the
// pong goes out ahead of our close reply (wslay alone would send only the
// close: this lost about one pong in five runs at the end of every run).
TEST(ws_session, a_ping_followed_by_a_close_in_one_read_gets_its_pong_first) {
  endpoint client(ws_role::client);
  const bytes close_1000 = b({0x88, 0x02, 0x03, 0xe8});
  EXPECT_EQ(client.feed(concat({unmasked_ping_hello, close_1000})), ws_state::closed);
  const bytes out = client.take_written();
  ASSERT_EQ(out.size(), (2u + 4 + 5) + (2u + 4 + 2));
  EXPECT_EQ(out[0], 0x8a);          // the pong first
  EXPECT_EQ(out[2 + 4 + 5], 0x88);  // then the close reply
}

TEST(ws_session, pongs_are_surfaced) {
  endpoint client(ws_role::client);
  client.feed(b({0x8a, 0x02, 'o', 'k'}));
  ASSERT_EQ(client.events.pongs.size(), 1u);
  EXPECT_EQ(client.events.pongs[0], "ok");
}

TEST(ws_session, extended_lengths_16_and_64_bit) {
  for (size_t size : {size_t(256), size_t(65536)}) {
    bytes frame = size < 65536 ? b({0x82, 0x7e, int(size >> 8), int(size & 0xff)})
                               : b({0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0});
    for (size_t i = 0; i < size; ++i)
      frame.push_back(uint8_t(i));
    endpoint client(ws_role::client);
    EXPECT_EQ(client.feed(frame), ws_state::open);
    ASSERT_EQ(client.events.messages.size(), 1u);
    EXPECT_EQ(client.events.messages[0].first, ws_opcode::binary);
    EXPECT_EQ(client.events.messages[0].second.size(), size);
    EXPECT_EQ(uint8_t(client.events.messages[0].second[255]), 255);
  }
}

TEST(ws_session, client_frames_are_masked_and_a_server_reads_them) {
  endpoint client(ws_role::client), server(ws_role::server);
  ASSERT_EQ(client.send_text("ping me"), ws_state::open);
  const bytes wire = client.take_written();
  ASSERT_GE(wire.size(), 2u);
  EXPECT_EQ(wire[1] & 0x80, 0x80);  // mask bit (RFC 6455 5.3)
  ASSERT_EQ(server.feed(wire), ws_state::open);
  ASSERT_EQ(server.events.messages.size(), 1u);
  EXPECT_EQ(server.events.messages[0].second, "ping me");
  // And back, unmasked.
  ASSERT_EQ(server.session.send(server.env, ws_opcode::binary,
                                std::span<const uint8_t>(wire.data(), 3), server.events),
            ws_state::open);
  const bytes reply = server.take_written();
  EXPECT_EQ(reply[1] & 0x80, 0);
  client.feed(reply);
  ASSERT_EQ(client.events.messages.size(), 1u);
  EXPECT_EQ(client.events.messages[0].first, ws_opcode::binary);
}

TEST(ws_session, close_handshake_started_by_us_reports_code_and_reason) {
  endpoint client(ws_role::client), server(ws_role::server);
  EXPECT_EQ(client.session.close(client.env, 1000, "bye", client.events), ws_state::closing);
  EXPECT_EQ(server.feed(client.take_written()), ws_state::closed);  // answered at once
  ASSERT_EQ(server.events.closes.size(), 1u);
  EXPECT_EQ(server.events.closes[0], std::make_pair(uint16_t(1000), std::string("bye")));
  EXPECT_EQ(client.feed(server.take_written()), ws_state::closed);
  ASSERT_EQ(client.events.closes.size(), 1u);
  EXPECT_EQ(client.events.closes[0].first, 1000);
  EXPECT_FALSE(client.session.at_boundary());  // a closed session keeps nothing to reuse
}

TEST(ws_session, close_started_by_the_peer_is_answered) {
  endpoint client(ws_role::client);
  EXPECT_EQ(client.feed(b({0x88, 0x06, 0x03, 0xe9, 'g', 'o', 'n', 'e'})), ws_state::closed);
  ASSERT_EQ(client.events.closes.size(), 1u);
  EXPECT_EQ(client.events.closes[0], std::make_pair(uint16_t(1001), std::string("gone")));
  const bytes reply = client.take_written();
  ASSERT_GE(reply.size(), 2u);
  EXPECT_EQ(reply[0], 0x88);
  // An empty close carries no code: reported as 1005 (RFC 6455 7.1.5).
  endpoint other(ws_role::client);
  other.feed(b({0x88, 0x00}));
  ASSERT_EQ(other.events.closes.size(), 1u);
  EXPECT_EQ(other.events.closes[0].first, 1005);
}

TEST(ws_session, protocol_violations_fail_with_the_right_close_code) {
  struct bad_case {
    bytes input;
    uint16_t code;
    const char* what;
  };
  bytes too_big = b({0x82, 0x7e, 0x04, 0x00});  // 1024 bytes, limit below
  too_big.resize(4 + 1024);
  const std::vector<bad_case> cases = {
      {masked_hello, 1002, "a masked frame from a server"},
      {b({0xc1, 0x01, 'x'}), 1002, "RSV1 without an extension"},
      {b({0x83, 0x01, 'x'}), 1002, "reserved opcode 3"},
      {b({0x81, 0x02, 0xc3, 0x28}), 1007, "invalid UTF-8 in text"},
      {b({0x80, 0x01, 'x'}), 1002, "continuation with nothing to continue"},
      {too_big, 1009, "message over the limit"},
  };
  for (const auto& c : cases) {
    endpoint client(ws_role::client, ws_limits{512});
    EXPECT_EQ(client.feed(c.input), ws_state::failed) << c.what;
    EXPECT_EQ(client.session.failure_code(), c.code) << c.what;
    const bytes out = client.take_written();
    ASSERT_GE(out.size(), 2u) << c.what;
    EXPECT_EQ(out[0], 0x88) << c.what << ": the reason goes out as a close frame";
    EXPECT_EQ(client.feed(unmasked_hello), ws_state::failed) << "a failed session stays failed";
    EXPECT_TRUE(client.events.messages.empty());
  }
}

TEST(ws_session, boundary_is_false_inside_a_frame_or_fragmented_message) {
  endpoint client(ws_role::client);
  client.feed(bytes(unmasked_hello.begin(), unmasked_hello.begin() + 3));
  EXPECT_FALSE(client.session.at_boundary());
  client.session.release_context(client.env);
  EXPECT_TRUE(client.session.has_context()) << "must not drop a half-read frame";
  client.feed(bytes(unmasked_hello.begin() + 3, unmasked_hello.end()));
  EXPECT_TRUE(client.session.at_boundary());

  client.feed(bytes(fragmented_hello.begin(), fragmented_hello.begin() + 5));  // first fragment
  EXPECT_FALSE(client.session.at_boundary());
  client.feed(bytes(fragmented_hello.begin() + 5, fragmented_hello.end()));
  EXPECT_TRUE(client.session.at_boundary());
  client.session.release_context(client.env);
  EXPECT_FALSE(client.session.has_context());
  EXPECT_EQ(client.env.contexts_in_use(), 0u);
  EXPECT_EQ(client.env.contexts_pooled(), 1u);
}

// The same stream, cut into the same pieces, read by a session that keeps
// its context and by one that gives it back whenever it may: the events and
// the bytes written must be identical.
TEST(ws_session, dropping_the_context_at_boundaries_changes_nothing) {
  bytes stream;
  for (int i = 0; i < 20; ++i) {
    stream = concat({stream, unmasked_hello, fragmented_hello, unmasked_ping_hello,
                     b({0x82, 0x7e, 0x01, 0x00})});
    stream.resize(stream.size() + 256, uint8_t(i));
  }
  stream = concat({stream, b({0x88, 0x02, 0x03, 0xe8})});
  for (size_t piece : {1u, 2u, 3u, 7u, 11u, 64u, 1000u}) {
    endpoint keeper(ws_role::client), dropper(ws_role::client);
    size_t drops = 0;
    for (size_t at = 0; at < stream.size(); at += piece) {
      const size_t n = std::min(piece, stream.size() - at);
      const bytes chunk(stream.begin() + long(at), stream.begin() + long(at + n));
      const auto a = keeper.feed(chunk);
      const auto c = dropper.feed(chunk);
      ASSERT_EQ(a, c) << "piece " << piece << " at " << at;
      if (dropper.session.at_boundary() && dropper.session.has_context()) {
        dropper.session.release_context(dropper.env);
        ++drops;
      }
    }
    if (piece <= 64) {  // larger pieces may never end on a frame boundary
      EXPECT_GT(drops, 0u) << piece;
    }
    EXPECT_EQ(keeper.events.messages, dropper.events.messages) << piece;
    EXPECT_EQ(keeper.events.closes, dropper.events.closes) << piece;
    EXPECT_EQ(keeper.events.messages.size(), 60u) << piece;
    // Masks differ only if the generators diverged: both drew the same words.
    EXPECT_EQ(keeper.events.written, dropper.events.written) << piece;
    EXPECT_EQ(keeper.session.state(), ws_state::closed);
  }
}

TEST(ws_session, a_pooled_context_serves_the_next_session) {
  mask_source masks(1);
  ws_shard_env env(ws_role::client, {}, masks);
  recorder events;
  ws_session first, second;
  first.feed(env, unmasked_hello, events);
  first.release_context(env);
  EXPECT_EQ(env.contexts_pooled(), 1u);
  second.feed(env, fragmented_hello, events);
  EXPECT_EQ(env.contexts_pooled(), 0u) << "taken from the pool, not allocated";
  EXPECT_EQ(events.messages.size(), 2u);
  second.reset(env);
  first.reset(env);
  EXPECT_EQ(env.contexts_in_use(), 0u);
}

TEST(ws_session, a_session_slot_is_small) {
  EXPECT_LE(sizeof(ws_session), 16u);
}

}  // namespace
}  // namespace horde::proto

#include "proto/ws_session.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/event_recorder.hh"
#include "tests/support/frame_bytes.hh"
#include "tests/support/guard_page.hh"
#include "tests/support/session_endpoint.hh"

namespace horde::proto {
namespace {

using test::b;
using test::bytes;
using test::concat;

using endpoint = test::session_endpoint;

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
  test::written_recorder events;
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

// Frames on a wire (masked or not): opcode and unmasked payload each.
std::vector<std::pair<int, std::string>> frames_of(const bytes& wire) {
  std::vector<std::pair<int, std::string>> out;
  size_t at = 0;
  while (at + 2 <= wire.size()) {
    const int opcode = wire[at] & 0x0f;
    const bool masked = (wire[at + 1] & 0x80) != 0;
    uint64_t length = wire[at + 1] & 0x7f;
    at += 2;
    if (length == 126) {
      length = uint64_t(wire[at]) << 8 | wire[at + 1];
      at += 2;
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = length << 8 | wire[at + i];
      at += 8;
    }
    uint8_t key[4] = {};
    if (masked) {
      std::copy(wire.begin() + long(at), wire.begin() + long(at + 4), key);
      at += 4;
    }
    std::string payload;
    for (uint64_t i = 0; i < length && at < wire.size(); ++i, ++at)
      payload += char(wire[at] ^ key[i % 4]);
    out.emplace_back(opcode, payload);
  }
  return out;
}

std::string close_body(uint16_t code) {
  return {char(code >> 8), char(code & 0xff)};
}

// An unmasked frame of up to 125 bytes, as a server sends it.
bytes server_frame(int first_byte, std::string_view payload) {
  bytes out(2 + payload.size());
  out[0] = uint8_t(first_byte);
  out[1] = uint8_t(payload.size());
  std::copy(payload.begin(), payload.end(), out.begin() + 2);
  return out;
}

struct ping_counter final : test::event_recorder {
  bytes written;
  std::vector<std::string> pings;
  void on_ping(std::span<const uint8_t> body) override {
    pings.emplace_back(body.begin(), body.end());
  }
  void write(std::span<const uint8_t> out) override {
    written.insert(written.end(), out.begin(), out.end());
  }
};

struct failure_case {
  bytes input;
  ws_failure failure;
  uint16_t code;
  const char* what;
};

std::vector<failure_case> failure_cases() {
  bytes too_big = b({0x82, 0x7e, 0x04, 0x00});  // 1024 bytes, the limit is 512
  too_big.resize(4 + 1024);
  return {
      {masked_hello, ws_failure::masked_frame, 1002, "a masked frame from a server"},
      {b({0xc1, 0x01, 'x'}), ws_failure::no_deflate_rsv1, 1002, "RSV1 without an extension"},
      {b({0x83, 0x01, 'x'}), ws_failure::bad_opcode, 1002, "reserved opcode 3"},
      {b({0x8c, 0x00}), ws_failure::bad_opcode, 1002, "reserved opcode 12"},
      {b({0x09, 0x01, 'x'}), ws_failure::bad_control_frame, 1002, "a fragmented ping"},
      {b({0x8a, 0x7e, 0x00, 0x80}), ws_failure::bad_control_frame, 1002, "a 128-byte pong"},
      {b({0x88, 0x02, 0x03, 0xe7}), ws_failure::bad_close_code, 1002, "close code 999"},
      {b({0x88, 0x02, 0x03, 0xed}), ws_failure::bad_close_code, 1002, "close code 1005"},
      {b({0x88, 0x01, 0x03}), ws_failure::bad_close_code, 1002, "a 1-byte close body"},
      {b({0x81, 0x02, 0xc3, 0x28}), ws_failure::invalid_utf8, 1007, "invalid UTF-8 in text"},
      {b({0x88, 0x04, 0x03, 0xe8, 0xc3, 0x28}), ws_failure::invalid_utf8, 1007,
       "invalid UTF-8 in a close reason"},
      {b({0x80, 0x01, 'x'}), ws_failure::protocol, 1002, "continuation with nothing to continue"},
      {concat({b({0x01, 0x01, 'a'}), b({0x81, 0x01, 'b'})}), ws_failure::protocol, 1002,
       "a new message inside a fragmented one"},
      {b({0x82, 0x7e, 0x00, 0x10}), ws_failure::protocol, 1002, "a 16-bit length under 126"},
      {too_big, ws_failure::too_big, 1009, "a frame over the limit"},
      {b({0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), ws_failure::too_big, 1009,
       "a 2^63-1 header with no payload"},
      {concat({b({0x02, 0x7e, 0x01, 0x00}), bytes(256, 1), b({0x80, 0x7e, 0x01, 0x01}),
               bytes(257, 2)}),
       ws_failure::too_big, 1009, "a fragmented message over the limit in total"},
  };
}

// Every fault class, the whole input cut at every point into two feeds
// against a guard page: the session fails with the cause and the code, sends
// that code in its close, and still delivers the message before the fault.
TEST(ws_session, each_fault_gives_its_cause_and_close_code_at_every_split_point) {
  for (const failure_case& c : failure_cases()) {
    const bytes stream = concat({unmasked_hello, c.input});
    for (size_t split = 0; split <= stream.size(); ++split) {
      endpoint client(ws_role::client, ws_limits{512});
      test::guard_page_buffer guard(stream.size());
      client.session.feed(client.env, guard.place(std::span<const uint8_t>(stream.data(), split)),
                          client.events);
      const ws_state got = client.session.feed(
          client.env,
          guard.place(std::span<const uint8_t>(stream.data() + split, stream.size() - split)),
          client.events);
      ASSERT_EQ(got, ws_state::failed) << c.what << " split " << split;
      EXPECT_EQ(client.session.failure(), c.failure) << c.what << " split " << split;
      EXPECT_EQ(client.session.failure_code(), c.code) << c.what << " split " << split;
      ASSERT_EQ(client.events.messages.size(), 1u) << c.what << ": the message before it";
      EXPECT_EQ(client.events.messages[0].second, "Hello");
      const auto sent = frames_of(client.take_written());
      ASSERT_EQ(sent.size(), 1u) << c.what << " split " << split;
      EXPECT_EQ(sent[0].first, 0x8) << c.what;
      EXPECT_EQ(sent[0].second, close_body(c.code)) << c.what << " split " << split;
      EXPECT_EQ(client.feed(unmasked_hello), ws_state::failed) << "a failed session stays failed";
      EXPECT_EQ(client.events.messages.size(), 1u);
      client.session.reset(client.env);
      EXPECT_EQ(client.session.failure(), ws_failure::none);
      EXPECT_EQ(client.session.failure_code(), 0);
    }
  }
}

TEST(ws_session, a_huge_header_with_no_payload_fails_at_once_with_1009) {
  endpoint client(ws_role::client);  // the default 16 MiB limit
  const bytes header = b({0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  test::guard_page_buffer guard(header.size());
  EXPECT_EQ(
      client.session.feed(client.env, guard.place(std::span<const uint8_t>(header)), client.events),
      ws_state::failed);
  EXPECT_EQ(client.session.failure(), ws_failure::too_big);
  EXPECT_EQ(client.session.failure_code(), 1009);
  EXPECT_EQ(describe(client.session.failure()), "message too big");
  const auto sent = frames_of(client.take_written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], std::make_pair(0x8, close_body(1009)));
  // Just over the default limit, the same.
  endpoint other(ws_role::client);
  EXPECT_EQ(other.feed(b({0x82, 0x7f, 0, 0, 0, 0, 0x01, 0, 0, 0x01})), ws_state::failed);
  EXPECT_EQ(other.session.failure(), ws_failure::too_big);
}

TEST(ws_session, a_burst_of_100_pings_in_one_feed_gets_one_pong_with_the_last_payload) {
  mask_source masks(3);
  ws_shard_env env(ws_role::client, {}, masks);
  ws_session session;
  ping_counter events;
  bytes burst;
  for (int i = 0; i < 100; ++i)
    burst = concat({burst, server_frame(0x89, "ping " + std::to_string(i))});
  burst = concat({burst, unmasked_hello});
  EXPECT_EQ(session.feed(env, burst, events), ws_state::open);
  EXPECT_EQ(events.pings.size(), 100u);
  EXPECT_EQ(events.pings.back(), "ping 99");
  EXPECT_EQ(events.messages.size(), 1u);
  const auto sent = frames_of(events.written);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], std::make_pair(0xa, std::string("ping 99")));
  EXPECT_EQ(env.pings_received(), 100u);
  EXPECT_EQ(env.pongs_queued(), 1u);
  EXPECT_TRUE(session.at_boundary());
  session.reset(env);
}

// Pings and messages, cut into three feeds at every pair of points: every
// message is delivered, every feed in which a ping completed answers the
// latest such ping once, and nothing else is written.
TEST(ws_session, pings_split_across_feeds_at_every_byte) {
  const bytes stream = concat({server_frame(0x89, "one"), unmasked_hello, server_frame(0x89, ""),
                               fragmented_hello, server_frame(0x89, "three")});
  // The end offset of each ping in the stream, with its payload.
  const std::vector<std::pair<size_t, std::string>> ping_ends = {
      {5, "one"}, {5 + 7 + 2, ""}, {stream.size(), "three"}};
  for (size_t i = 0; i <= stream.size(); ++i) {
    for (size_t j = i; j <= stream.size(); ++j) {
      mask_source masks(5);
      ws_shard_env env(ws_role::client, {}, masks);
      ws_session session;
      ping_counter events;
      test::guard_page_buffer guard(stream.size());
      std::vector<std::string> expected_pongs;
      size_t start = 0;
      for (size_t end : {i, j, stream.size()}) {
        const auto piece =
            guard.place(std::span<const uint8_t>(stream.data() + start, end - start));
        ASSERT_EQ(session.feed(env, piece, events), ws_state::open);
        std::string latest;
        bool any = false;
        for (const auto& [ping_end, payload] : ping_ends) {
          if (ping_end > start && ping_end <= end) {
            latest = payload;
            any = true;
          }
        }
        if (any) expected_pongs.push_back(latest);
        start = end;
      }
      ASSERT_EQ(events.messages.size(), 2u) << i << "," << j;
      EXPECT_EQ(events.pings, (std::vector<std::string>{"one", "", "three"})) << i << "," << j;
      std::vector<std::string> pongs;
      for (const auto& [opcode, payload] : frames_of(events.written)) {
        EXPECT_EQ(opcode, 0xa);
        pongs.push_back(payload);
      }
      EXPECT_EQ(pongs, expected_pongs) << i << "," << j;
      EXPECT_EQ(env.pongs_queued(), expected_pongs.size());
      EXPECT_TRUE(session.at_boundary());
      session.reset(env);
    }
  }
}

// wslay 1.1.1 checks a close reason's UTF-8 from byte 2 of each piece it
// reads; the guard hands it the close frame whole, so no split matters.
TEST(ws_session, a_close_reason_is_checked_whole_at_every_split_point) {
  const bytes good = server_frame(0x88,
                                  "\x03\xe8"
                                  "caf\xc3\xa9");  // 1000 "café"
  const bytes bad = server_frame(0x88,
                                 "\x03\xe8"
                                 "ab\xc3\x28");  // invalid UTF-8
  for (size_t split = 0; split <= good.size(); ++split) {
    endpoint client(ws_role::client), other(ws_role::client);
    client.feed(bytes(good.begin(), good.begin() + long(split)));
    EXPECT_EQ(client.feed(bytes(good.begin() + long(split), good.end())), ws_state::closed)
        << split;
    ASSERT_EQ(client.events.closes.size(), 1u) << split;
    EXPECT_EQ(client.events.closes[0], std::make_pair(uint16_t(1000), std::string("caf\xc3\xa9")));
    if (split > bad.size()) continue;
    other.feed(bytes(bad.begin(), bad.begin() + long(split)));
    EXPECT_EQ(other.feed(bytes(bad.begin() + long(split), bad.end())), ws_state::failed) << split;
    EXPECT_EQ(other.session.failure(), ws_failure::invalid_utf8) << split;
  }
}

TEST(ws_session, a_half_read_ping_keeps_the_context) {
  endpoint client(ws_role::client);
  const bytes ping = server_frame(0x89, "abc");
  client.feed(bytes(ping.begin(), ping.begin() + 3));
  EXPECT_FALSE(client.session.at_boundary());
  client.session.release_context(client.env);
  EXPECT_TRUE(client.session.has_context()) << "must not drop a half-read ping";
  client.feed(bytes(ping.begin() + 3, ping.end()));
  EXPECT_TRUE(client.session.at_boundary());
  const auto sent = frames_of(client.take_written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], std::make_pair(0xa, std::string("abc")));
}

TEST(ws_session, a_server_answers_a_masked_ping_and_refuses_an_unmasked_frame) {
  endpoint server(ws_role::server);
  bytes ping = masked_hello;
  ping[0] = 0x89;
  EXPECT_EQ(server.feed(concat({ping, masked_hello})), ws_state::open);
  ASSERT_EQ(server.events.messages.size(), 1u);
  const auto sent = frames_of(server.take_written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], std::make_pair(0xa, std::string("Hello")));
  EXPECT_EQ(server.feed(unmasked_hello), ws_state::failed);
  EXPECT_EQ(server.session.failure(), ws_failure::protocol);
  EXPECT_EQ(server.session.failure_code(), 1002);
}

TEST(ws_session, no_pong_after_a_close_or_a_fault) {
  endpoint client(ws_role::client);
  EXPECT_EQ(client.feed(concat({b({0x88, 0x02, 0x03, 0xe8}), server_frame(0x89, "late")})),
            ws_state::closed);
  auto sent = frames_of(client.take_written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, 0x8);
  endpoint other(ws_role::client);
  EXPECT_EQ(other.feed(concat({server_frame(0x89, "p"), b({0x83, 0x00})})), ws_state::failed);
  sent = frames_of(other.take_written());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], std::make_pair(0x8, close_body(1002)));
}

// What the session wrote for this stream before the frame guard existed
// (recorded from that build, same mask seed): a pong and the close reply.
// One ping per feed and no faults: the guard must change nothing.
TEST(ws_session, ordinary_traffic_is_written_byte_for_byte_as_before_the_guard) {
  bytes stream =
      concat({unmasked_hello, fragmented_hello, unmasked_ping_hello, b({0x82, 0x7e, 0x01, 0x00})});
  for (int i = 0; i < 256; ++i)
    stream.push_back(uint8_t(i));
  stream = concat({stream, b({0x8a, 0x02, 'o', 'k', 0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'})});
  endpoint client(ws_role::client);
  for (size_t at = 0; at < stream.size(); at += 7)
    client.feed(
        bytes(stream.begin() + long(at), stream.begin() + long(std::min(at + 7, stream.size()))));
  EXPECT_EQ(client.session.state(), ws_state::closed);
  EXPECT_EQ(client.events.messages.size(), 3u);
  const bytes recorded = b({0x8a, 0x85, 0x5a, 0x76, 0xf9, 0x4e, 0x12, 0x13, 0x95, 0x22, 0x35,
                            0x88, 0x85, 0xd2, 0x2c, 0x48, 0x4f, 0xd1, 0xc4, 0x2a, 0x36, 0xb7});
  EXPECT_EQ(client.take_written(), recorded);
}

TEST(ws_session, a_session_slot_is_small) {
  EXPECT_LE(sizeof(ws_session), 16u);
}

}  // namespace
}  // namespace horde::proto

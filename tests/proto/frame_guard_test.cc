#include "proto/frame_guard.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/frame_bytes.hh"
#include "tests/support/guard_page.hh"

namespace horde::proto {
namespace {

using test::b;
using test::bytes;
using test::concat;

// An unmasked frame (as a server sends it) with minimal length encoding.
bytes frame(int first_byte, const bytes& payload) {
  const uint64_t n = payload.size();
  bytes out;
  out.push_back(uint8_t(first_byte));
  if (n < 126) {
    out.push_back(uint8_t(n));
  } else if (n <= 0xffff) {
    out.push_back(126);
    out.push_back(uint8_t(n >> 8));
    out.push_back(uint8_t(n));
  } else {
    out.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(uint8_t(n >> shift));
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

bytes text(std::string_view s) {
  return bytes(s.begin(), s.end());
}

// What a guard made of a stream: the bytes it handed through (a close frame
// whole, where it came), the pings it took out, and how it ended.
struct outcome {
  bytes passed;
  std::vector<std::string> pings;
  size_t closes = 0;
  size_t pongs_before_close = 0;
  bool faulted = false;
  ws_failure failure = ws_failure::none;
};

// Feeds `pieces` one by one, each placed against a guard page.
outcome run(frame_guard& guard, const std::vector<bytes>& pieces) {
  outcome out;
  test::guard_page_buffer page(1 << 20);
  for (const bytes& piece : pieces) {
    const auto input = page.place(std::span<const uint8_t>(piece));
    size_t from = 0;
    for (;;) {
      const frame_guard::step s = guard.scan(input, from);
      EXPECT_LE(from, s.pass_end);
      EXPECT_LE(s.pass_end, s.resume);
      EXPECT_LE(s.resume, input.size());
      out.passed.insert(out.passed.end(), input.begin() + long(from),
                        input.begin() + long(s.pass_end));
      if (s.what == frame_guard::event::more) break;
      if (s.what == frame_guard::event::fault) {
        out.faulted = true;
        out.failure = guard.failure();
        return out;
      }
      if (s.what == frame_guard::event::ping) {
        const auto p = guard.latest_ping();
        out.pings.emplace_back(p.begin(), p.end());
      } else {
        ++out.closes;
        if (guard.pong_pending()) {
          ++out.pongs_before_close;
          guard.take_pong();
        }
        const auto close = guard.held_close();
        out.passed.insert(out.passed.end(), close.begin(), close.end());
      }
      from = s.resume;
    }
    // The session answers a pending ping at the end of every feed.
    if (guard.pong_pending()) guard.take_pong();
  }
  return out;
}

std::vector<bytes> split(const bytes& input, size_t at) {
  return {bytes(input.begin(), input.begin() + long(at)),
          bytes(input.begin() + long(at), input.end())};
}

frame_guard client_guard(uint64_t limit = 16u << 20) {
  frame_guard g;
  g.reset(false, limit);
  return g;
}

TEST(frame_guard, hands_through_ordinary_frames_and_takes_out_pings_at_every_split_point) {
  const bytes hello = frame(0x81, text("Hello"));
  const bytes ping_a = frame(0x89, text("a"));
  const bytes ping_empty = frame(0x89, {});
  const bytes big = frame(0x82, bytes(300, 7));
  const bytes huge = frame(0x82, bytes(70000, 9));
  const bytes frag1 = frame(0x01, text("He")), frag2 = frame(0x80, text("llo"));
  const bytes pong = frame(0x8a, text("p"));
  const bytes stream =
      concat({hello, ping_a, big, frag1, ping_empty, frag2, pong, huge, frame(0x89, text("last"))});
  const bytes expected_pass = concat({hello, big, frag1, frag2, pong, huge});
  // Inside the 70,000-byte payload only every 997th point: skipping is arithmetic.
  const size_t huge_at = stream.size() - huge.size() - frame(0x89, text("last")).size();
  for (size_t at = 0; at <= stream.size(); ++at) {
    if (at > huge_at + 16 && at + 16 < huge_at + huge.size() && at % 997 != 0) continue;
    frame_guard g = client_guard();
    const outcome out = run(g, split(stream, at));
    ASSERT_FALSE(out.faulted) << at;
    ASSERT_EQ(out.passed, expected_pass) << at;
    ASSERT_EQ(out.pings, (std::vector<std::string>{"a", "", "last"})) << at;
    EXPECT_TRUE(g.at_boundary()) << at;
  }
}

TEST(frame_guard, is_at_a_boundary_only_between_frames_and_messages) {
  const bytes stream = concat({frame(0x01, text("He")), frame(0x89, text("pi")),
                               frame(0x80, text("llo")), frame(0x82, text("x"))});
  const std::vector<size_t> boundaries = {0, stream.size()};
  for (size_t at = 0; at <= stream.size(); ++at) {
    frame_guard g = client_guard();
    run(g, {bytes(stream.begin(), stream.begin() + long(at))});
    const bool expected = at == 0 || at == stream.size() - 3 || at == stream.size();
    EXPECT_EQ(g.at_boundary(), expected) << at;
  }
}

TEST(frame_guard, a_server_guard_unmasks_client_pings_and_hands_through_masked_frames) {
  frame_guard g;
  g.reset(true, 1 << 20);
  // RFC 6455 5.7: a masked "Hello" text frame, and the same as a ping.
  const bytes masked_hello = b({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  bytes masked_ping = masked_hello;
  masked_ping[0] = 0x89;
  const bytes stream = concat({masked_hello, masked_ping, masked_hello});
  for (size_t at = 0; at <= stream.size(); ++at) {
    g.reset(true, 1 << 20);
    const outcome out = run(g, split(stream, at));
    ASSERT_FALSE(out.faulted);
    EXPECT_EQ(out.passed, concat({masked_hello, masked_hello})) << at;
    EXPECT_EQ(out.pings, std::vector<std::string>{"Hello"}) << at;
  }
  g.reset(true, 1 << 20);
  const outcome unmasked = run(g, {frame(0x81, text("Hello"))});
  EXPECT_TRUE(unmasked.faulted);
  EXPECT_EQ(unmasked.failure, ws_failure::protocol);
}

// A close frame is held back whole, so wslay reads it in one piece whatever
// the split (wslay 1.1.1 checks a close reason's UTF-8 per piece read).
TEST(frame_guard, a_close_is_handed_over_whole_after_any_pending_ping_at_every_split_point) {
  const bytes close = frame(0x88, concat({b({0x03, 0xe8}), text("bye \xc3\xa9")}));
  const bytes stream =
      concat({frame(0x81, text("hi")), frame(0x89, text("x")), close, frame(0x89, text("y"))});
  for (size_t at = 0; at <= stream.size(); ++at) {
    frame_guard g = client_guard();
    const outcome out = run(g, split(stream, at));
    EXPECT_EQ(out.closes, 1u) << at;
    EXPECT_EQ(out.pings, std::vector<std::string>{"x"}) << "nothing is taken out after a close";
    // The ping is answered before the close unless its feed ended first.
    EXPECT_EQ(out.pongs_before_close, at >= 4 + 3 && at < 4 + 3 + close.size() ? 0u : 1u) << at;
    EXPECT_EQ(out.passed, concat({frame(0x81, text("hi")), close, frame(0x89, text("y"))})) << at;
    EXPECT_TRUE(g.close_seen()) << at;
  }
}

struct fault_case {
  bytes input;
  ws_failure failure;
  const char* what;
};

std::vector<fault_case> fault_cases() {
  bytes len_2_63_minus_1 = b({0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  return {
      {b({0x81, 0x85, 1, 2, 3, 4, 'x', 'x', 'x', 'x', 'x'}), ws_failure::masked_frame, "masked"},
      {b({0xc1, 0x01, 'x'}), ws_failure::no_deflate_rsv1, "RSV1 without permessage-deflate"},
      {b({0xa1, 0x01, 'x'}), ws_failure::reserved_bits, "RSV2"},
      {b({0x91, 0x01, 'x'}), ws_failure::reserved_bits, "RSV3"},
      {b({0x83, 0x01, 'x'}), ws_failure::bad_opcode, "opcode 3"},
      {b({0x87, 0x00}), ws_failure::bad_opcode, "opcode 7"},
      {b({0x8b, 0x00}), ws_failure::bad_opcode, "opcode 11"},
      {b({0x8f, 0x00}), ws_failure::bad_opcode, "opcode 15"},
      {b({0x09, 0x00}), ws_failure::bad_control_frame, "ping without FIN"},
      {b({0x08, 0x00}), ws_failure::bad_control_frame, "close without FIN"},
      {b({0x0a, 0x00}), ws_failure::bad_control_frame, "pong without FIN"},
      {b({0x89, 0x7e, 0x00, 0x7e}), ws_failure::bad_control_frame, "ping of 126 bytes"},
      {b({0x88, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}), ws_failure::bad_control_frame, "long close"},
      {b({0x88, 0x01, 0x03}), ws_failure::bad_close_code, "close with a 1-byte body"},
      {len_2_63_minus_1, ws_failure::too_big, "2^63-1 bytes, no payload"},
      {b({0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}), ws_failure::protocol, "64-bit length, top bit"},
      {b({0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff}), ws_failure::protocol, "64-bit not minimal"},
      {b({0x82, 0x7e, 0x00, 0x7d}), ws_failure::protocol, "16-bit not minimal"},
      {b({0x82, 0x7e, 0x04, 0x01}), ws_failure::too_big, "one frame over the limit"},
      {b({0x80, 0x01, 'x'}), ws_failure::protocol, "continuation without a start"},
      {concat({frame(0x01, text("a")), frame(0x81, text("b"))}), ws_failure::protocol,
       "a new message inside a fragmented one"},
      {concat({frame(0x02, bytes(600, 1)), frame(0x00, bytes(400, 2)), frame(0x80, bytes(25, 3))}),
       ws_failure::too_big, "a fragmented message whose total passes the limit"},
  };
}

TEST(frame_guard, refuses_each_fault_at_its_header_at_every_split_point) {
  const bytes before = frame(0x81, text("ok"));
  for (const fault_case& c : fault_cases()) {
    const bytes stream = concat({before, c.input});
    // Where the faulty frame begins: everything before it is handed through.
    size_t faulty_start = 0;
    {
      frame_guard g = client_guard(1024);
      const outcome whole = run(g, {stream});
      ASSERT_TRUE(whole.faulted) << c.what;
      EXPECT_EQ(whole.failure, c.failure) << c.what;
      faulty_start = whole.passed.size();
      EXPECT_GE(faulty_start, before.size()) << c.what;
      EXPECT_TRUE(std::equal(whole.passed.begin(), whole.passed.end(), stream.begin())) << c.what;
    }
    for (size_t at = 0; at <= stream.size(); ++at) {
      frame_guard g = client_guard(1024);
      const outcome out = run(g, split(stream, at));
      ASSERT_TRUE(out.faulted) << c.what << " split " << at;
      EXPECT_EQ(out.failure, c.failure) << c.what << " split " << at;
      // A header cut by the split may have been handed through in part, but
      // never whole: wslay must not be able to act on a bad frame.
      EXPECT_LE(out.passed.size(), std::max(faulty_start, at)) << c.what << " split " << at;
      EXPECT_LT(out.passed.size(), stream.size()) << c.what;
      // Once failed, the guard stays failed.
      const auto again = g.scan(std::span<const uint8_t>(before), 0);
      EXPECT_EQ(again.what, frame_guard::event::fault);
      EXPECT_EQ(again.pass_end, 0u);
    }
  }
}

TEST(frame_guard, a_huge_length_fails_on_its_last_header_byte) {
  const bytes header = b({0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  frame_guard g = client_guard();
  for (size_t i = 0; i + 1 < header.size(); ++i) {
    const outcome out = run(g, {b({header[i]})});
    EXPECT_FALSE(out.faulted) << i;
  }
  const outcome last = run(g, {b({header.back()})});
  EXPECT_TRUE(last.faulted);
  EXPECT_EQ(last.failure, ws_failure::too_big);
  EXPECT_TRUE(last.passed.empty()) << "the last header byte is never handed through";
}

TEST(frame_guard, the_limit_is_inclusive) {
  for (uint64_t limit : {uint64_t(125), uint64_t(126), uint64_t(65536)}) {
    frame_guard g = client_guard(limit);
    const outcome at_limit = run(g, {frame(0x82, bytes(limit, 1))});
    EXPECT_FALSE(at_limit.faulted) << limit;
    const outcome over = run(g, {frame(0x82, bytes(limit + 1, 1))});
    EXPECT_TRUE(over.faulted) << limit;
    EXPECT_EQ(over.failure, ws_failure::too_big) << limit;
  }
}

TEST(frame_guard, describes_each_failure) {
  EXPECT_EQ(describe(ws_failure::masked_frame), "masked frame from server");
  EXPECT_EQ(describe(ws_failure::reserved_bits), "reserved bits set without an extension");
  EXPECT_EQ(describe(ws_failure::bad_opcode), "reserved opcode");
  EXPECT_EQ(describe(ws_failure::bad_control_frame), "control frame fragmented or over 125 bytes");
  EXPECT_EQ(describe(ws_failure::bad_close_code), "invalid close code");
  EXPECT_EQ(describe(ws_failure::invalid_utf8), "invalid UTF-8");
  EXPECT_EQ(describe(ws_failure::too_big), "message too big");
  EXPECT_EQ(describe(ws_failure::out_of_memory), "out of memory");
  EXPECT_EQ(describe(ws_failure::protocol), "protocol error");
  EXPECT_EQ(describe(ws_failure::none), "");
  EXPECT_EQ(close_code_for(ws_failure::too_big), 1009);
  EXPECT_EQ(close_code_for(ws_failure::invalid_utf8), 1007);
  EXPECT_EQ(close_code_for(ws_failure::out_of_memory), 1011);
  for (ws_failure f :
       {ws_failure::protocol, ws_failure::masked_frame, ws_failure::reserved_bits,
        ws_failure::bad_opcode, ws_failure::bad_control_frame, ws_failure::bad_close_code}) {
    EXPECT_EQ(close_code_for(f), 1002) << describe(f);
  }
}

}  // namespace
}  // namespace horde::proto

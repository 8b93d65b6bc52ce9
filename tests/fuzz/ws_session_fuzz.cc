// Fuzzes a WebSocket session (proto/ws_session.hh) with what its peer sends.
//
// Input: a control byte, then the peer's bytes.
//   bit 0     our role: 0 client (the peer sends unmasked frames), 1 server
//             (the peer masks them)
//   bits 1-3  how the peer's bytes are split into feeds: all at once, or
//             pieces of 1, 2, 3, 5, 8, 13 or 64 bytes
//   bits 4-5  how often, between feeds, we also act (never, 1/4, 1/2, 3/4 of
//             the time): send a text or binary message, ping, close, or
//             release the context; the schedule comes from the control byte
//   bit 6     release the context at every clean boundary, as the shards do
// Checked: every call returns state(); a failed or closed session stays so
// (further feeds return the same state) and never reopens; failure_code and
// failure() are set exactly when failed, never to 1011 / out_of_memory, and
// agree with each other; each feed queues at most one pong, and never more
// pongs than pings were read; the env's count
// of contexts in use matches the session; release_context drops the context
// exactly at a boundary; messages stay within the 1 MiB limit. reset(env) at
// the end returns every context, so ASan's leak check covers the pool.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proto/mask_source.hh"
#include "proto/ws_session.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

constexpr uint64_t max_message_bytes = 1u << 20;
constexpr size_t piece_sizes[8] = {0 /* all at once */, 1, 2, 3, 5, 8, 13, 64};
constexpr auto filler = [] {
  std::array<uint8_t, 300> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = uint8_t(i * 7 + 3);
  return bytes;
}();

// Records the session's events; write only counts bytes.
class recording_sink final : public ws_sink {
 public:
  void on_message(ws_opcode opcode, std::span<const uint8_t> body) override {
    HORDE_FUZZ_CHECK(opcode == ws_opcode::text || opcode == ws_opcode::binary);
    HORDE_FUZZ_CHECK(body.size() <= max_message_bytes);
    ++messages;
  }
  void on_pong(std::span<const uint8_t> body) override {
    HORDE_FUZZ_CHECK(body.size() <= 125);
    ++pongs;
  }
  void on_ping(std::span<const uint8_t> body) override {
    HORDE_FUZZ_CHECK(body.size() <= 125);
    ++pings;
  }
  void on_close(uint16_t code, std::string_view reason) override {
    HORDE_FUZZ_CHECK(code != 0);
    HORDE_FUZZ_CHECK(reason.size() <= 123);
    ++closes;
    HORDE_FUZZ_CHECK(closes == 1);  // the peer closes once; wslay reads nothing after
  }
  void write(std::span<const uint8_t> bytes) override { written += bytes.size(); }

  size_t messages = 0, pongs = 0, pings = 0, closes = 0, written = 0;
};

bool terminal(ws_state state) {
  return state == ws_state::failed || state == ws_state::closed;
}

// After any call that returned `returned`, from a session that was `before`.
void check_session(const ws_session& session, const ws_shard_env& env, ws_state before,
                   ws_state returned) {
  HORDE_FUZZ_CHECK(returned == session.state());
  if (terminal(before)) HORDE_FUZZ_CHECK(returned == before);
  if (before != ws_state::open) HORDE_FUZZ_CHECK(returned != ws_state::open);
  HORDE_FUZZ_CHECK((session.failure_code() != 0) == (returned == ws_state::failed));
  HORDE_FUZZ_CHECK((session.failure() != ws_failure::none) == (returned == ws_state::failed));
  // 1011 means memory ran out (ws_session.hh), which it never does here: a
  // peer's protocol error must not be reported as one.
  HORDE_FUZZ_CHECK(session.failure_code() != 1011);
  HORDE_FUZZ_CHECK(session.failure() != ws_failure::out_of_memory);
  // The code sent is the cause's, except when our own close went first and
  // wslay then refused a payload (it reports the code we sent).
  const uint16_t code = session.failure_code();
  if (code == 1002 || code == 1007 || code == 1009) {
    HORDE_FUZZ_CHECK(close_code_for(session.failure()) == code);
  }
  HORDE_FUZZ_CHECK(!describe(session.failure()).empty() || returned != ws_state::failed);
  HORDE_FUZZ_CHECK(env.contexts_in_use() == (session.has_context() ? 1u : 0u));
}

void release(ws_session& session, ws_shard_env& env) {
  const bool had = session.has_context();
  const bool boundary = session.at_boundary();
  const ws_state before = session.state();
  session.release_context(env);
  HORDE_FUZZ_CHECK(session.has_context() == (had && !boundary));
  check_session(session, env, before, session.state());
}

// One of our own actions, picked by `choice`.
void act(ws_session& session, ws_shard_env& env, recording_sink& sink, uint64_t choice) {
  static const std::string long_reason(130, 'r');  // over 123: close must truncate it

  const ws_state before = session.state();
  const size_t length = size_t(choice >> 8) % filler.size();  // 126+ needs the 16-bit length
  ws_state got = before;
  switch (choice % 6) {
    case 0: {
      constexpr std::string_view text = "horde fuzz \xc3\xa9";  // valid UTF-8
      got = session.send(env, ws_opcode::text,
                         {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, sink);
      break;
    }
    case 1:
      got = session.send(env, ws_opcode::binary, {filler.data(), length}, sink);
      break;
    case 2:
      got = session.ping(env, {filler.data(), length % 140}, sink);  // over 125: ping truncates
      break;
    case 3:
      got = session.close(env, 1000, "bye", sink);
      break;
    case 4:
      got = session.close(env, 4000, long_reason, sink);
      break;
    default:
      release(session, env);
      return;
  }
  check_session(session, env, before, got);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const ws_role role = (control & 1) != 0 ? ws_role::server : ws_role::client;
  const size_t piece_size = piece_sizes[(control >> 1) & 7];
  const unsigned action_rate = (control >> 4) & 3;  // in quarters
  const bool release_at_boundaries = (control & 0x40) != 0;

  mask_source masks(0x5eed);
  ws_shard_env env(role, ws_limits{max_message_bytes}, masks);
  ws_session session;
  recording_sink sink;

  std::span<const uint8_t> rest(data + 1, size - 1);
  uint64_t schedule = control;
  while (!rest.empty()) {
    const size_t n = piece_size == 0 ? rest.size() : std::min(piece_size, rest.size());
    const ws_state before = session.state();
    const uint64_t pongs_before = env.pongs_queued();
    const ws_state got = session.feed(env, rest.first(n), sink);
    check_session(session, env, before, got);
    HORDE_FUZZ_CHECK(env.pongs_queued() - pongs_before <= 1);  // RFC 6455 5.5.3: the latest only
    HORDE_FUZZ_CHECK(env.pongs_queued() <= env.pings_received());
    HORDE_FUZZ_CHECK(env.pings_received() == sink.pings);
    rest = rest.subspan(n);

    if (release_at_boundaries && session.at_boundary()) release(session, env);
    if (action_rate != 0) {
      schedule = horde::fuzz::mix(schedule);
      if ((schedule & 3) < action_rate) act(session, env, sink, schedule >> 2);
    }
  }

  // A finished session ignores whatever else arrives.
  if (terminal(session.state())) {
    const ws_state before = session.state();
    check_session(session, env, before, session.feed(env, {data, size}, sink));
    check_session(session, env, before, session.send(env, ws_opcode::binary, {data, size}, sink));
    check_session(session, env, before, session.close(env, 1000, {}, sink));
  }

  session.reset(env);
  HORDE_FUZZ_CHECK(!session.has_context());
  HORDE_FUZZ_CHECK(session.state() == ws_state::open && session.failure_code() == 0);
  HORDE_FUZZ_CHECK(env.contexts_in_use() == 0);
  return 0;
}

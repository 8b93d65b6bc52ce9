// One side of an in-memory WebSocket conversation for proto tests: a shard
// env, a session, and a recorder of its events and the bytes it wrote.
#pragma once

#include <span>
#include <string_view>

#include "proto/ws_session.hh"
#include "tests/support/event_recorder.hh"
#include "tests/support/frame_bytes.hh"

namespace horde::test {

struct written_recorder final : event_recorder {
  bytes written;

  void write(std::span<const uint8_t> out) override {
    written.insert(written.end(), out.begin(), out.end());
  }
};

struct session_endpoint {
  proto::mask_source masks{7};
  proto::ws_shard_env env;
  proto::ws_session session;
  written_recorder events;

  explicit session_endpoint(proto::ws_role role, proto::ws_limits limits = {})
      : env(role, limits, masks) {}
  ~session_endpoint() { session.reset(env); }

  proto::ws_state feed(const bytes& in) { return session.feed(env, in, events); }
  proto::ws_state send_text(std::string_view text) {
    return session.send(env, proto::ws_opcode::text,
                        {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, events);
  }
  bytes take_written() {
    bytes out;
    out.swap(events.written);
    return out;
  }
};

}  // namespace horde::test

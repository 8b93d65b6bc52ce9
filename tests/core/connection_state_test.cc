#include "core/connection_state.hh"

#include <gtest/gtest.h>

namespace horde::core {
namespace {

// Every (state, event) pair the lifecycle allows, and nothing else.
TEST(ConnectionState, TheTableAllowsExactlyTheLifecycle) {
  struct move {
    conn_state from;
    conn_event event;
    conn_state to;
  };
  const move allowed[] = {
      {conn_state::idle, conn_event::launch, conn_state::connecting},
      {conn_state::connecting, conn_event::retry, conn_state::idle},
      {conn_state::connecting, conn_event::connected_plain, conn_state::upgrading},
      {conn_state::connecting, conn_event::connected_tls, conn_state::tls_handshaking},
      {conn_state::connecting, conn_event::connected_raw, conn_state::open},
      {conn_state::connecting, conn_event::chain_failed, conn_state::done},
      {conn_state::tls_handshaking, conn_event::secured, conn_state::upgrading},
      {conn_state::upgrading, conn_event::upgraded, conn_state::open},
      {conn_state::open, conn_event::close_sent, conn_state::closing},
      {conn_state::tls_handshaking, conn_event::tear_down, conn_state::tearing},
      {conn_state::upgrading, conn_event::tear_down, conn_state::tearing},
      {conn_state::open, conn_event::tear_down, conn_state::tearing},
      {conn_state::closing, conn_event::tear_down, conn_state::tearing},
      {conn_state::tearing, conn_event::settled, conn_state::done},
      {conn_state::done, conn_event::relaunch, conn_state::idle},
      {conn_state::idle, conn_event::abandon, conn_state::done},
      {conn_state::connecting, conn_event::connected_http, conn_state::requesting},
      {conn_state::tls_handshaking, conn_event::secured_http, conn_state::requesting},
      {conn_state::requesting, conn_event::steps_done, conn_state::upgrading},
      {conn_state::requesting, conn_event::tear_down, conn_state::tearing},
  };
  size_t allowed_count = 0;
  for (size_t s = 0; s < size_t(conn_state::count); ++s) {
    for (size_t e = 0; e < size_t(conn_event::count); ++e) {
      const auto from = conn_state(s);
      const auto event = conn_event(e);
      std::optional<conn_state> expected;
      for (const auto& m : allowed)
        if (m.from == from && m.event == event) expected = m.to;
      EXPECT_EQ(next_state(from, event), expected) << "state " << s << " event " << e;
      allowed_count += expected.has_value();
    }
  }
  EXPECT_EQ(allowed_count, std::size(allowed));
}

TEST(ConnectionState, NothingLeavesTearingButSettling) {
  for (size_t e = 0; e < size_t(conn_event::count); ++e) {
    if (conn_event(e) == conn_event::settled) continue;
    EXPECT_FALSE(next_state(conn_state::tearing, conn_event(e))) << e;
  }
}

TEST(ConnectionState, EveryLaunchedConnectionCanEnd) {
  // From every state a connection can be in after launch, some path leads to done.
  for (conn_state s :
       {conn_state::connecting, conn_state::tls_handshaking, conn_state::requesting,
        conn_state::upgrading, conn_state::open, conn_state::closing, conn_state::tearing}) {
    conn_state at = s;
    for (int steps = 0; steps < 4 && at != conn_state::done; ++steps) {
      if (auto next = next_state(at, conn_event::tear_down)) {
        at = *next;
      } else if (auto settled = next_state(at, conn_event::settled)) {
        at = *settled;
      } else if (auto failed = next_state(at, conn_event::chain_failed)) {
        at = *failed;
      }
    }
    EXPECT_EQ(at, conn_state::done) << int(s);
  }
}

TEST(ConnectionState, HandshakeAndSocketStates) {
  EXPECT_TRUE(is_handshaking(conn_state::connecting));
  EXPECT_TRUE(is_handshaking(conn_state::tls_handshaking));
  EXPECT_TRUE(is_handshaking(conn_state::upgrading));
  EXPECT_FALSE(is_handshaking(conn_state::open));
  EXPECT_FALSE(has_socket(conn_state::connecting));  // the chain owns it
  EXPECT_TRUE(has_socket(conn_state::closing));
  EXPECT_FALSE(has_socket(conn_state::tearing));
}

}  // namespace
}  // namespace horde::core

// A client connection's lifecycle as a table: state x event -> state. Every
// change of a slot's state goes through next_state, so a move the table does
// not allow is a bug that stops the program where it happened, not a slot
// that never settles. Pure: unit-tested without sockets.
//
//   idle --launch--> connecting --connected_plain--> upgrading --upgraded--> open
//                         |      --connected_http--> requesting --steps_done--> upgrading
//   tls_handshaking --secured_http--> requesting   (HTTP steps before the upgrade)
//                         |      --connected_tls--> tls_handshaking --secured--> upgrading
//                         |      --connected_raw--> open
//                         |--retry--> idle (a busy port: the next pair)
//                         '--chain_failed--> done
//   upgrading, tls_handshaking, open, closing --tear_down--> tearing --settled--> done
//   open --close_sent--> closing
//   done --relaunch--> idle   (waiting to reconnect: --reconnect's backoff)
//   idle --abandon--> done    (the run ended while it waited)
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace horde::core {

enum class conn_state : uint8_t {
  idle,             // not launched yet (or waiting to launch again)
  connecting,       // socket/bind/connect[/send] chain in flight
  tls_handshaking,  // wss://: ClientHello sent with the chain, waiting for the handshake to end
  requesting,       // HTTP steps before the upgrade (a login): request sent, answer awaited
  upgrading,        // request sent, waiting for 101
  open,
  closing,  // our close frame sent, waiting for the server's
  tearing,  // cancels + close of the descriptor in flight
  done,
  count
};

enum class conn_event : uint8_t {
  launch,
  retry,  // the chain failed on a busy port: try another (source, port)
  connected_plain,
  connected_tls,
  connected_raw,
  chain_failed,
  secured,         // TLS handshake finished
  connected_http,  // connected, HTTP steps first
  secured_http,    // TLS up, HTTP steps first
  steps_done,      // the HTTP steps answered: the upgrade request goes out
  upgraded,
  close_sent,
  tear_down,
  settled,  // nothing left in flight: the slot may be reused
  relaunch,
  abandon,  // a reconnect that will not happen: the run is ending
  count
};

namespace detail {

constexpr size_t states = size_t(conn_state::count);
constexpr size_t events = size_t(conn_event::count);
using table_type = std::array<std::array<conn_state, events>, states>;

constexpr table_type make_transitions() {
  table_type t{};
  for (auto& row : t)
    row.fill(conn_state::count);  // not allowed
  auto allow = [&](conn_state from, conn_event e, conn_state to) {
    t[size_t(from)][size_t(e)] = to;
  };
  allow(conn_state::idle, conn_event::launch, conn_state::connecting);
  allow(conn_state::connecting, conn_event::retry, conn_state::idle);
  allow(conn_state::connecting, conn_event::connected_plain, conn_state::upgrading);
  allow(conn_state::connecting, conn_event::connected_tls, conn_state::tls_handshaking);
  allow(conn_state::connecting, conn_event::connected_raw, conn_state::open);
  allow(conn_state::connecting, conn_event::chain_failed, conn_state::done);
  allow(conn_state::tls_handshaking, conn_event::secured, conn_state::upgrading);
  allow(conn_state::connecting, conn_event::connected_http, conn_state::requesting);
  allow(conn_state::tls_handshaking, conn_event::secured_http, conn_state::requesting);
  allow(conn_state::requesting, conn_event::steps_done, conn_state::upgrading);
  allow(conn_state::upgrading, conn_event::upgraded, conn_state::open);
  allow(conn_state::open, conn_event::close_sent, conn_state::closing);
  for (conn_state live : {conn_state::tls_handshaking, conn_state::requesting,
                          conn_state::upgrading, conn_state::open, conn_state::closing})
    allow(live, conn_event::tear_down, conn_state::tearing);
  allow(conn_state::tearing, conn_event::settled, conn_state::done);
  allow(conn_state::done, conn_event::relaunch, conn_state::idle);
  allow(conn_state::idle, conn_event::abandon, conn_state::done);
  return t;
}

inline constexpr table_type transitions = make_transitions();

}  // namespace detail

// The state after `event`, or nullopt when the table does not allow it.
constexpr std::optional<conn_state> next_state(conn_state from, conn_event event) noexcept {
  const conn_state to = detail::transitions[size_t(from)][size_t(event)];
  if (to == conn_state::count) return std::nullopt;
  return to;
}

// Handshake states: launched, not yet open, not ended.
constexpr bool is_handshaking(conn_state s) noexcept {
  return s == conn_state::connecting || s == conn_state::tls_handshaking ||
         s == conn_state::requesting || s == conn_state::upgrading;
}

// States in which the connection holds a socket the server may write to.
constexpr bool has_socket(conn_state s) noexcept {
  return s == conn_state::tls_handshaking || s == conn_state::requesting ||
         s == conn_state::upgrading || s == conn_state::open || s == conn_state::closing;
}

}  // namespace horde::core

// GraphQL over WebSocket, the `graphql-transport-ws` subprotocol (the
// graphql-ws library's, github.com/enisdenjo/graphql-ws PROTOCOL.md), as a
// codec (proto/codec.hh): `--protocol graphql-ws`.
//
// Handshake: connection_init (with the `init-payload` option's object) ->
// connection_ack, within `ack-timeout`. Keep-alives: the server's ping is
// answered with a pong; with `ping-interval` the client pings too, and a
// ping still unanswered when the next is due fails the connection.
//
// Application messages are the protocol's own JSON text messages. The
// scenario sends `subscribe` (and `complete` to stop one) and receives
// `next` and `error` for the operations it started; `complete` from the
// server is counted and consumed. A `subscribe` sent without an "id" is
// horde's to track: the codec gives it one ("~" then its send time in ns,
// unique per connection) and consumes all its answers, timing it from send to
// its complete or error. That is how a publish is a mutation whose result no
// scenario has to tell apart from a delivery.
//
// Bad input from the server (not JSON, no type, an unknown type, a message
// out of the protocol's order, binary frames) is a `failed` event with one
// line saying why; parsing goes through json_reader, bounded by its size cap.
#pragma once

#include <cstdint>
#include <memory>

#include "base/result.hh"
#include "proto/codec.hh"

namespace horde::proto {

// The registry's entry for `--protocol graphql-ws`.
const codec_info& graphql_ws_codec_info();

// The codec itself, for tests (the registry's `make` calls this).
result<std::unique_ptr<codec>> make_graphql_ws_codec(const codec_setup& setup);

// The counters and histograms the codec declares, by index.
namespace graphql_ws_metric {
enum counter : uint32_t {
  acks,            // connection_ack received: handshakes done
  pings_answered,  // server pings answered with a pong
  pings_sent,      // the client's own pings (ping-interval)
  pongs,           // pongs received for them
  nexts,           // `next` for the scenario's operations, handed up
  errors,          // `error` for any operation
  completes,       // `complete` from the server for any operation
  assigned_sent,   // subscribes sent without an id: the codec assigned one
  assigned_nexts,  // `next` for those, consumed
  refused_sends,   // scenario messages that could not be sent (not a JSON object, binary)
  counter_count,
};
enum histogram : uint32_t {
  ack_latency,       // connection_init sent -> connection_ack
  pong_latency,      // client ping -> pong
  assigned_latency,  // assigned operation sent -> its complete or error
  histogram_count,
};
}  // namespace graphql_ws_metric

}  // namespace horde::proto

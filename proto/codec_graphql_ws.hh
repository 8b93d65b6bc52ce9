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
// `next` and `error` for the operations it started. The server's `complete`
// of a *subscription* the scenario started (its document begins with
// `subscription`) is handed up too: it ends a stream (a request with
// `end: '/type == "complete"'`). A query's or a mutation's complete follows
// its one answer: counted and consumed, so a request/response sees only
// that answer. Live subscriptions are remembered by id hash (8 bytes each,
// at most 256 a connection, only for connections that have some).
//
// With the `echo-query` option, a scenario message that is not a protocol
// message (the echo's stamped binary or text) is sent as a subscribe of that
// document, the message bound to its first variable (binary as base64url);
// the `next` answering it is handed up as the message read back from
// `echo-field`, byte for byte, so the stamped echo runs unchanged. Its id is
// "~b" or "~t" and a send time; its complete is consumed.
//
// A `subscribe` sent without an "id" is
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
  acks,             // connection_ack received: handshakes done
  pings_answered,   // server pings answered with a pong
  pings_sent,       // the client's own pings (ping-interval)
  pongs,            // pongs received for them
  nexts,            // `next` for the scenario's operations, handed up
  errors,           // `error` for any operation
  completes,        // `complete` from the server for any operation
  assigned_sent,    // subscribes sent without an id: the codec assigned one
  assigned_nexts,   // `next` for those, consumed
  refused_sends,    // scenario messages that could not be sent (not a JSON object, binary)
  echoes_sent,      // bare messages sent as echo-query subscribes
  echoes,           // their messages read back from the next and handed up
  echo_unreadable,  // an echo's next without the message at echo-field: consumed
  streams_ended,    // `complete` of a scenario's subscription, handed up
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

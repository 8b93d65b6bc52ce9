// Socket.IO v4 over WebSocket only (--protocol socketio; docs/protocols.md):
// the Engine.IO v4 handshake and keep-alive, one namespace joined, events
// and acknowledgements in a text view a scenario's templates and JSON
// pointers can read, binary attachments counted and skipped.
//
// Per connection: the open packet's ping deadline, the namespace connect's
// deadline, a pong owed: 32 bytes a slot (slot_state), so 100k connections
// cost 3.2 MB here. Nothing per message is kept: an ack's latency is the
// request scenario's (the ack is handed up as {"ack":<id>,"args":[...]}).
//
// Keep-alive: the server pings ("2") every pingInterval and drops a client
// whose pong ("3") is not back within pingTimeout. The pong is owed from
// inside a receive, so the ping's event carries `reply` and the shard
// flushes it in the same loop turn (core/codec_scenario.hh); the delay from
// the ping's kernel receive stamp to the pong's send is timed (pong_delay).
// A server silent for pingInterval + pingTimeout is gone, as socket.io's own
// client decides: the connection fails (server_silent), once a second look
// 10 ms on (after the shard has read what arrived while it was late) finds
// no ping either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hh"
#include "proto/codec.hh"
#include "proto/json_fields.hh"
#include "proto/socketio_packet.hh"

namespace horde::proto {

struct socketio_options {
  std::string nsp = "/";  // namespace=/chat
  std::string auth;       // auth={"token":"..."}: the connect packet's payload
  uint64_t connect_timeout_ns = 10'000'000'000;
};

// The options checked, or why not (said at plan time).
result<socketio_options> parse_socketio_options(const codec_options& given);

class socketio_codec final : public codec {
 public:
  // Metric indexes, in codec_info's order.
  enum counter : uint32_t {
    handshakes,      // namespaces connected (40 answered)
    connect_errors,  // namespaces refused (44)
    pongs,           // server pings answered
    server_silent,   // connections failed: no ping for pingInterval + pingTimeout
    events,          // events handed to the scenario
    acks_requested,  // events sent with an ack id
    acks,            // acks handed to the scenario
    attachments,     // binary attachments received and skipped
    disconnects,     // the server ended the namespace (41) or the session (1)
    refused_sends,   // scenario messages that cannot be sent (a binary packet, over maxPayload)
  };
  enum histogram : uint32_t { handshake_ns, pong_delay_ns };

  socketio_codec(const codec_setup& setup, socketio_options options);

  codec_event open(uint32_t slot, codec_output& out, uint64_t now) noexcept override;
  codec_event receive(uint32_t slot, ws_opcode opcode, std::span<const uint8_t> body,
                      uint64_t now) noexcept override;
  bool flush(uint32_t slot, codec_output& out, uint64_t now) noexcept override;
  bool send(uint32_t slot, codec_output& out, ws_opcode opcode, std::span<const uint8_t> body,
            uint64_t now) noexcept override;
  uint64_t next_due_ns(uint32_t slot) const noexcept override { return _slots[slot].due_ns; }
  codec_event on_due(uint32_t slot, codec_output& out, uint64_t now) noexcept override;
  void gone(uint32_t slot) noexcept override { _slots[slot] = {}; }

 private:
  enum class phase : uint8_t { idle, await_open, await_connect, ready, ended };
  enum owed : uint8_t {
    connect_owed = 1,
    pong_owed = 2,
    binary_message_due = 4,  // the next attachment is a binary message for the scenario
    silence_suspected = 8,   // the ping's deadline passed: failed if still so 10 ms on
  };
  struct slot_state {
    uint64_t due_ns = 0;       // the handshake's deadline, then the latest next ping; 0 = none
    uint64_t mark_ns = 0;      // await_*: the WebSocket's open; ready: the ping owed a pong
    uint32_t silence_ms = 0;   // pingInterval + pingTimeout, from the open packet
    uint32_t max_payload = 0;  // the server's maxPayload; 0 = not said
    uint16_t attachments = 0;  // binary frames still to skip
    phase at = phase::idle;
    uint8_t owes = 0;
  };
  static_assert(sizeof(slot_state) == 32);

  codec_event fail(slot_state& s, std::string_view why) noexcept;
  codec_event on_open_packet(slot_state& s, std::string_view json, uint64_t now) noexcept;
  codec_event on_socketio(slot_state& s, const socketio_packet& p, uint64_t now) noexcept;
  codec_event hand_up(slot_state& s, const socketio_packet& p) noexcept;
  bool send_binary(const slot_state& s, codec_output& out, std::span<const uint8_t> body) noexcept;

  socketio_options _options;
  codec_stats& _stats;
  std::vector<slot_state> _slots;
  std::string _connect;  // the connect packet, the same for every connection
  std::string _scratch;  // a frame being sent, or an ack being handed up
  json_reader _reader;
  json_pointer _ping_interval, _ping_timeout, _max_payload;
};

// The registry's entry (proto/codec_registry.cc).
codec_info socketio_codec_info();

}  // namespace horde::proto

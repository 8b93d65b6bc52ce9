// An application protocol spoken inside WebSocket messages (Socket.IO,
// graphql-transport-ws, MQTT, ...): its handshake after the upgrade, its
// keep-alives, and how a scenario's messages look on the wire. A codec is
// I/O-free: it is handed every message received and writes what it sends to
// a codec_output; core/codec_scenario.hh puts it between a connection and
// the scenario (echo, request/response, streams, pub/sub), which then runs
// unchanged over any protocol.
//
// The scenario above a codec speaks in *application messages*. For a text
// protocol these are usually the protocol's own messages (a Socket.IO event
// 42["join","room"]); a binary protocol documents a text view of what the
// scenario may send and will receive (MQTT's "SUB <topic>"). A delivery's
// stamp is found in what the codec hands up, so pub/sub accounting, request
// correlation and stream rules work as they do on bare WebSocket. Each codec
// gives pub/sub templates of its own (codec_info::defaults) for a user who
// gives none.
//
// A further protocol (STOMP, ActionCable, Phoenix Channels, ...) is one file
// implementing `codec`, one entry in codec_registry.cc, and its tests.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hh"
#include "proto/ws_session.hh"

namespace horde::proto {

// Where a codec's messages go: the connection's WebSocket session.
class codec_output {
 public:
  // false: the connection is gone (nothing more may be sent on it).
  virtual bool send(ws_opcode opcode, std::span<const uint8_t> body) noexcept = 0;

 protected:
  ~codec_output() = default;
};

// The counters and histograms a codec declared (codec_info::counters and
// ::histograms), by their index there. Reported as "protocol.<name>.<metric>".
class codec_stats {
 public:
  virtual void count(uint32_t counter, uint64_t n = 1) noexcept = 0;
  virtual void time(uint32_t histogram, uint64_t ns) noexcept = 0;

 protected:
  ~codec_stats() = default;
};

// What a codec made of a message (or of its open or due work).
struct codec_event {
  enum class kind : uint8_t {
    consumed,  // the codec's own (a keep-alive, a handshake step): nothing for the scenario
    ready,     // the protocol's handshake completed: the scenario starts on this connection
    message,   // an application message for the scenario: `body`, `binary`
    failed,    // the peer broke the protocol or refused the handshake: `why`
  };
  kind what = kind::consumed;
  std::span<const uint8_t> body;  // message: valid until the codec's next call
  bool binary = false;
  // The codec has something to send for this slot (a pong, a PUBACK): it is
  // sent through flush() soon after, never from inside a receive.
  bool reply = false;
  std::string_view why;  // failed: one line for a person (static storage)

  static codec_event ready_now() noexcept {
    codec_event e;
    e.what = kind::ready;
    return e;
  }
  static codec_event failure(std::string_view why) noexcept {
    codec_event e;
    e.what = kind::failed;
    e.why = why;
    return e;
  }
};

// One shard's codec for all its connections (slots 0..n-1, the shard's
// slots). Per-connection state lives in the codec, indexed by slot, and must
// stay small: a codec runs at 100k+ connections.
class codec {
 public:
  virtual ~codec() = default;

  // The WebSocket in `slot` is open (its earlier state, if any, is gone):
  // start the protocol's handshake. ready when there is none.
  virtual codec_event open(uint32_t slot, codec_output& out, uint64_t now) noexcept = 0;
  // A message from the server, received at `now` (the kernel's stamp).
  virtual codec_event receive(uint32_t slot, ws_opcode opcode, std::span<const uint8_t> body,
                              uint64_t now) noexcept = 0;
  // Sends what receive() left to answer (its event's `reply`); false when
  // the connection is gone.
  virtual bool flush(uint32_t slot, codec_output& out, uint64_t now) noexcept = 0;
  // An application message from the scenario, sent in the protocol's form;
  // false when the connection is gone or the message cannot be encoded (the
  // codec counts it).
  virtual bool send(uint32_t slot, codec_output& out, ws_opcode opcode,
                    std::span<const uint8_t> body, uint64_t now) noexcept = 0;
  // The codec's own timed work on the slot (a keep-alive to send, a
  // handshake's deadline); 0 = none.
  virtual uint64_t next_due_ns(uint32_t slot) const noexcept = 0;
  // That time has come: consumed, or failed (a handshake that timed out, a
  // keep-alive unanswered).
  virtual codec_event on_due(uint32_t slot, codec_output& out, uint64_t now) noexcept = 0;
  // The connection ended, for whatever reason.
  virtual void gone(uint32_t slot) noexcept = 0;
};

// --protocol-option KEY=VALUE pairs, in the order given.
using codec_options = std::vector<std::pair<std::string, std::string>>;

// What a codec is given to run on one shard.
struct codec_setup {
  const codec_options& options;
  std::span<const uint32_t> conn_ids;  // the run-wide id of the connection in each slot
  codec_stats& stats;
  uint64_t seed;  // for anything random (ids, jitter): differs per shard
};

// Pub/sub templates (holes {group}, {payload}) and upgrade details a codec
// supplies where the user gave none.
struct codec_defaults {
  std::vector<std::string> subprotocols;  // Sec-WebSocket-Protocol to offer
  std::string path;                       // used when the URL's path is "/"
  std::string subscribe, subscribe_ack, publish, unsubscribe, unsubscribe_ack;
};

struct codec_option_help {
  std::string_view key;
  std::string_view text;  // what it does, its default
};

struct codec_info {
  std::string_view name;     // --protocol NAME
  std::string_view summary;  // one line for --help
  std::vector<codec_option_help> options;
  std::vector<std::string_view> counters;    // metric names, declared in this order
  std::vector<std::string_view> histograms;  // latency histograms, in this order
  codec_defaults defaults;
  // A codec for one shard, or why the options are invalid (said to the user
  // at plan time, before any connection).
  result<std::unique_ptr<codec>> (*make)(const codec_setup& setup);
};

// Every codec horde has, "ws" (bare WebSocket: no codec) excluded.
std::span<const codec_info> codecs() noexcept;
// The codec named `name`, or nullptr.
const codec_info* find_codec(std::string_view name) noexcept;

}  // namespace horde::proto

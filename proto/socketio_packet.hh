// Engine.IO v4 and Socket.IO v5 text packets (the wire of the socket.io 3
// and 4 libraries) as they travel in WebSocket text frames: read one the
// server sent, and write what a scenario asks to send. Stateless and
// I/O-free; codec_socketio.hh is the connection's state machine.
//
// Wire: an Engine.IO packet is one type digit and its data (0 open + JSON,
// 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop). A message carrying
// Socket.IO is "4" + <type>[<attachments>-][<namespace>,][<ack id>][JSON],
// type 0 connect, 1 disconnect, 2 event, 3 ack, 4 connect_error,
// 5 binary_event, 6 binary_ack; the namespace is absent for "/".
// Binary attachments follow as binary frames of their own.
//
// Limits (a hostile server's packet past one is refused with a reason, never
// read further): a namespace of at most 256 bytes, an ack id of at most 15
// digits (socket.io's ids are JavaScript numbers, exact below 2^53),
// at most 1000 attachments.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace horde::proto {

enum class engineio_type : uint8_t { open, close, ping, pong, message, upgrade, noop };
enum class socketio_type : uint8_t {
  connect,
  disconnect,
  event,
  ack,
  connect_error,
  binary_event,
  binary_ack,
};

inline constexpr size_t socketio_max_namespace = 256;
inline constexpr size_t socketio_max_id_digits = 15;
inline constexpr uint32_t socketio_max_attachments = 1000;

struct socketio_packet {
  engineio_type engine = engineio_type::noop;
  // engine == message: the Socket.IO packet. Views into the frame read.
  socketio_type type = socketio_type::event;
  uint32_t attachments = 0;
  std::string_view nsp = "/";
  bool has_id = false;
  uint64_t id = 0;
  std::string_view data;  // the JSON after the header (open: the handshake object); may be empty
};

struct socketio_read {
  bool ok = false;
  std::string_view why;  // !ok: one line for a person (static storage)
  socketio_packet packet;
};

// One text frame from the server.
socketio_read read_socketio_packet(std::string_view frame) noexcept;

// How a scenario's text message is sent (see docs/protocols.md, socketio):
//  - "4<type>..." is a Socket.IO packet as seen in a browser's devtools
//    (42["chat","hi"], 42{seq}["echo","x"] asking for an ack): sent as
//    written, the namespace added when one is set and the packet has none;
//  - "[...]" is an event's arguments (["join","room"]): sent as 42[...];
//  - anything else is a plain message, as socket.send(text) sends it:
//    42["message","<text as a JSON string>"].
// Binary packets (types 5 and 6) need attachments a text cannot carry
// (a binary message is encode_socketio_binary_message's).
enum class socketio_send_kind : uint8_t { packet, event, plain, refused };
struct socketio_encoded {
  socketio_send_kind kind = socketio_send_kind::refused;
  bool asks_ack = false;  // an event that carries an ack id
};
// Writes the frame into `out` (cleared first). `nsp` is "/" or "/name".
socketio_encoded encode_socketio_send(std::string& out, std::string_view text,
                                      std::string_view nsp);

// socket.send(buffer)'s header: 451-["message",{"_placeholder":true,"num":0}]
// (namespace added), the buffer following as a binary frame.
void encode_socketio_binary_message(std::string& out, std::string_view nsp);
// Whether a binary event is that header: one attachment, the event "message".
bool is_binary_message(const socketio_packet& p) noexcept;

// The client's connect packet: 40, 40/nsp, ; then the auth JSON if any.
void encode_socketio_connect(std::string& out, std::string_view nsp, std::string_view auth);

// Appends `text` as the inside of a JSON string (quotes and backslashes
// escaped, control bytes as \u00XX).
void append_json_string_body(std::string& out, std::string_view text);

// The text of a plain message (the argument of ["message","..."]) when the
// event is exactly that and its string needs no unescaping; otherwise empty
// with `plain` false.
struct socketio_plain {
  bool plain = false;
  std::string_view text;
};
socketio_plain plain_message_of(std::string_view event_data) noexcept;

}  // namespace horde::proto

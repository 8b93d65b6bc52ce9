#include "proto/codec_socketio.hh"

#include <charconv>

namespace horde::proto {

namespace {

constexpr uint64_t ms_ns = 1'000'000;
// How long after a missed ping's deadline the codec looks again (silence_suspected).
constexpr uint64_t silence_recheck_ns = 10 * ms_ns;

// "10s", "500ms": a duration of at least 1 ms and at most an hour.
bool parse_timeout(std::string_view text, uint64_t& ns) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  const std::string_view unit(end, size_t(text.data() + text.size() - end));
  if (ec != std::errc() || n == 0 || n > 3'600'000) return false;
  if (unit == "ms") {
    ns = n * ms_ns;
  } else if (unit == "s" && n <= 3600) {
    ns = n * 1000 * ms_ns;
  } else {
    return false;
  }
  return true;
}

// A JSON number that is a whole count of milliseconds below 2^31 (what
// Engine.IO's timers take); -1 when it is not.
int64_t whole_ms(const json_scalar& value) {
  if (value.kind != json_value_kind::number) return -1;
  uint64_t n = 0;
  const auto [end, ec] =
      std::from_chars(value.text.data(), value.text.data() + value.text.size(), n);
  if (ec != std::errc() || end != value.text.data() + value.text.size() || n >= (1ull << 31))
    return -1;
  return int64_t(n);
}

std::string_view as_text(std::span<const uint8_t> body) noexcept {
  return {reinterpret_cast<const char*>(body.data()), body.size()};
}

std::span<const uint8_t> as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

codec_event consumed(bool reply = false) noexcept {
  codec_event e;
  e.reply = reply;
  return e;
}

}  // namespace

result<socketio_options> parse_socketio_options(const codec_options& given) {
  socketio_options o;
  for (const auto& [key, value] : given) {
    if (key == "namespace") {
      if (value.empty() || value.front() != '/' || value.size() > socketio_max_namespace ||
          value.find_first_of(", ") != std::string::npos)
        return make_error("namespace=" + value +
                          ": a namespace starts with '/' (/chat), has no ',' or space and at "
                          "most 256 bytes");
      o.nsp = value;
    } else if (key == "auth") {
      if (value.size() < 2 || value.front() != '{' || value.back() != '}')
        return make_error("auth=" + value +
                          ": the auth payload is a JSON object ({\"token\":\"t\"})");
      o.auth = value;
    } else if (key == "connect-timeout") {
      if (!parse_timeout(value, o.connect_timeout_ns))
        return make_error("connect-timeout=" + value +
                          ": a duration such as 10s or 500ms (up to 1h)");
    }
  }
  return o;
}

socketio_codec::socketio_codec(const codec_setup& setup, socketio_options options)
    : _options(std::move(options)), _stats(setup.stats), _slots(setup.conn_ids.size()) {
  encode_socketio_connect(_connect, _options.nsp, _options.auth);
  _ping_interval = *json_pointer::parse("/pingInterval");
  _ping_timeout = *json_pointer::parse("/pingTimeout");
  _max_payload = *json_pointer::parse("/maxPayload");
}

codec_event socketio_codec::fail(slot_state& s, std::string_view why) noexcept {
  s.at = phase::ended;
  s.due_ns = 0;
  s.owes = 0;
  return codec_event::failure(why);
}

codec_event socketio_codec::open(uint32_t slot, codec_output&, uint64_t now) noexcept {
  // The server speaks first (its open packet); the client waits for it.
  slot_state& s = _slots[slot];
  s = {};
  s.at = phase::await_open;
  s.mark_ns = now;
  s.due_ns = now + _options.connect_timeout_ns;
  return consumed();
}

codec_event socketio_codec::receive(uint32_t slot, ws_opcode opcode, std::span<const uint8_t> body,
                                    uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  if (s.at == phase::ended || s.at == phase::idle) return consumed();
  if (opcode == ws_opcode::binary) {
    if (s.attachments == 0) return fail(s, "Socket.IO: a binary frame no packet announced");
    --s.attachments;
    _stats.count(attachments);
    if ((s.owes & binary_message_due) == 0) return consumed();
    // socket.send(buffer)'s one attachment: the scenario's binary message.
    s.owes &= uint8_t(~binary_message_due);
    codec_event e;
    e.what = codec_event::kind::message;
    e.binary = true;
    e.body = body;
    return e;
  }
  if (s.attachments != 0)
    return fail(s, "Socket.IO: a text frame where binary attachments were due");
  const socketio_read read = read_socketio_packet(as_text(body));
  if (!read.ok) return fail(s, read.why);
  const socketio_packet& p = read.packet;
  switch (p.engine) {
    case engineio_type::open:
      if (s.at != phase::await_open) return fail(s, "Engine.IO: a second open packet");
      return on_open_packet(s, p.data, now);
    case engineio_type::ping:
      if (s.at == phase::await_open) return fail(s, "Engine.IO: a ping before the open packet");
      s.owes = uint8_t((s.owes | pong_owed) & ~silence_suspected);
      if (s.at == phase::ready) {
        s.mark_ns = now;
        s.due_ns = now + uint64_t(s.silence_ms) * ms_ns;
      }
      return consumed(true);
    case engineio_type::close:
      _stats.count(disconnects);
      return fail(s, "Engine.IO: the server closed the session");
    case engineio_type::message:
      if (s.at == phase::await_open) return fail(s, "Engine.IO: a message before the open packet");
      return on_socketio(s, p, now);
    case engineio_type::pong:  // an answer to no ping of ours: harmless
    case engineio_type::upgrade:
    case engineio_type::noop:
      return consumed();
  }
  return consumed();
}

codec_event socketio_codec::on_open_packet(slot_state& s, std::string_view json,
                                           uint64_t) noexcept {
  const json_pointer pointers[] = {_ping_interval, _ping_timeout, _max_payload};
  json_scalar fields[3];
  _reader.get_many(as_bytes(json), pointers, fields);
  const int64_t interval = whole_ms(fields[0]);
  const int64_t timeout = whole_ms(fields[1]);
  if (interval <= 0 || timeout <= 0)
    return fail(s, "Engine.IO: the open packet lacks a positive pingInterval and pingTimeout");
  const int64_t max_payload = whole_ms(fields[2]);  // a byte count, same bounds
  s.silence_ms = uint32_t(interval + timeout);
  s.max_payload = max_payload > 0 ? uint32_t(max_payload) : 0;
  s.at = phase::await_connect;
  s.owes |= connect_owed;  // sent by flush(): nothing is sent from inside a receive
  return consumed(true);
}

codec_event socketio_codec::on_socketio(slot_state& s, const socketio_packet& p,
                                        uint64_t now) noexcept {
  const bool ours = p.nsp == _options.nsp;
  switch (p.type) {
    case socketio_type::connect:
      if (s.at != phase::await_connect || !ours) return consumed();  // another namespace's
      s.at = phase::ready;
      _stats.count(handshakes);
      _stats.time(handshake_ns, now > s.mark_ns ? now - s.mark_ns : 0);
      s.mark_ns = 0;
      s.due_ns = now + uint64_t(s.silence_ms) * ms_ns;
      return codec_event::ready_now();
    case socketio_type::connect_error:
      if (!ours) return consumed();
      _stats.count(connect_errors);
      return fail(s, "Socket.IO: the server refused the namespace (connect_error)");
    case socketio_type::disconnect:
      if (!ours) return consumed();
      _stats.count(disconnects);
      return fail(s, "Socket.IO: the server disconnected the namespace");
    case socketio_type::event:
    case socketio_type::binary_event:
    case socketio_type::ack:
    case socketio_type::binary_ack:
      if (s.at != phase::ready)
        return fail(s, "Socket.IO: an event before the namespace connected");
      return hand_up(s, p);
  }
  return consumed();
}

// What the scenario reads (docs/protocols.md): a plain message's text, an
// event's argument array, an ack as {"ack":<id>,"args":[...]}.
codec_event socketio_codec::hand_up(slot_state& s, const socketio_packet& p) noexcept {
  s.attachments = uint16_t(p.attachments);
  codec_event e;
  e.what = codec_event::kind::message;
  if (p.type == socketio_type::ack || p.type == socketio_type::binary_ack) {
    _stats.count(acks);
    _scratch.assign("{\"ack\":");
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, p.id);
    _scratch.append(digits, end);
    _scratch.append(",\"args\":");
    _scratch.append(p.data);
    _scratch += '}';
    e.body = as_bytes(_scratch);
    return e;
  }
  _stats.count(events);
  if (p.type == socketio_type::binary_event && is_binary_message(p)) {
    s.owes |= binary_message_due;  // handed up when its attachment arrives
    return consumed();
  }
  const socketio_plain plain = plain_message_of(p.data);
  e.body = as_bytes(plain.plain ? plain.text : p.data);
  return e;
}

bool socketio_codec::flush(uint32_t slot, codec_output& out, uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  if ((s.owes & connect_owed) != 0) {
    s.owes &= uint8_t(~connect_owed);
    if (!out.send(ws_opcode::text, as_bytes(_connect))) return false;
  }
  if ((s.owes & pong_owed) != 0) {
    s.owes &= uint8_t(~pong_owed);
    static constexpr uint8_t pong[] = {'3'};
    if (!out.send(ws_opcode::text, pong)) return false;
    _stats.count(pongs);
    if (s.at == phase::ready && s.mark_ns != 0) {
      _stats.time(pong_delay_ns, now > s.mark_ns ? now - s.mark_ns : 0);
      s.mark_ns = 0;
    }
  }
  return true;
}

bool socketio_codec::send(uint32_t slot, codec_output& out, ws_opcode opcode,
                          std::span<const uint8_t> body, uint64_t) noexcept {
  const slot_state& s = _slots[slot];
  if (opcode == ws_opcode::binary) return send_binary(s, out, body);
  if (opcode != ws_opcode::text) {
    _stats.count(refused_sends);
    return false;
  }
  const socketio_encoded encoded = encode_socketio_send(_scratch, as_text(body), _options.nsp);
  if (encoded.kind == socketio_send_kind::refused ||
      (s.max_payload != 0 && _scratch.size() > s.max_payload)) {
    _stats.count(refused_sends);
    return false;
  }
  if (encoded.asks_ack) _stats.count(acks_requested);
  return out.send(ws_opcode::text, as_bytes(_scratch));
}

// A binary message goes as socket.send(buffer) does: a binary event
// announcing one attachment, then the attachment's own frame.
bool socketio_codec::send_binary(const slot_state& s, codec_output& out,
                                 std::span<const uint8_t> body) noexcept {
  if (s.max_payload != 0 && body.size() > s.max_payload) {
    _stats.count(refused_sends);
    return false;
  }
  encode_socketio_binary_message(_scratch, _options.nsp);
  return out.send(ws_opcode::text, as_bytes(_scratch)) && out.send(ws_opcode::binary, body);
}

codec_event socketio_codec::on_due(uint32_t slot, codec_output&, uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  if (s.due_ns == 0 || s.due_ns > now) return consumed();
  if (s.at != phase::ready) return fail(s, "Socket.IO: no handshake within connect-timeout");
  if ((s.owes & silence_suspected) == 0) {
    // A shard that woke late runs its timers before it reads what arrived
    // meanwhile: a ping may be waiting. Look again after those receives.
    s.owes |= silence_suspected;
    s.due_ns = now + silence_recheck_ns;
    return consumed();
  }
  _stats.count(server_silent);
  return fail(s, "Engine.IO: no ping from the server within pingInterval + pingTimeout");
}

codec_info socketio_codec_info() {
  codec_info info;
  info.name = "socketio";
  info.summary = "Socket.IO v4 (Engine.IO v4 over WebSocket): events, acks, rooms";
  info.options = {
      {"namespace", "the namespace to connect to and send on (default /);"},
      {"auth", "a JSON object sent with the connect packet (socket.handshake.auth);"},
      {"connect-timeout", "time for the open packet and the namespace connect (default 10s)"},
  };
  info.counters = {"handshakes",  "connect_errors", "pongs", "server_silent",
                   "events",      "acks_requested", "acks",  "attachments",
                   "disconnects", "refused_sends"};
  info.histograms = {"handshake", "pong_delay"};
  info.defaults.path = "/socket.io/?EIO=4&transport=websocket";
  info.defaults.subscribe = R"(["join","{group}"])";
  info.defaults.subscribe_ack = R"(["joined","{group}"])";
  info.defaults.publish = R"(["publish","{group}","{payload}"])";
  info.defaults.unsubscribe = R"(["leave","{group}"])";
  info.defaults.unsubscribe_ack = R"(["left","{group}"])";
  info.make = [](const codec_setup& setup) -> result<std::unique_ptr<codec>> {
    auto options = parse_socketio_options(setup.options);
    if (!options) return options.error();
    return std::unique_ptr<codec>(std::make_unique<socketio_codec>(setup, std::move(*options)));
  };
  return info;
}

}  // namespace horde::proto

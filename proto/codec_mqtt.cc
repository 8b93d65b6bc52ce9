// Per connection: slot_state below, 48 bytes (static_assert), plus its
// run-wide id (4). A packet split across WebSocket messages, or a message
// holding several packets, waits in `buf`, which is released as soon as it
// is empty, so an idle connection holds no heap. What awaits an answer (a
// SUBACK's topic, a PUBACK's send time) lives in one per-shard map only
// while it waits; so do the PUBACKs owed for QoS 1 deliveries, and the
// messages waiting for a connection's echo SUBACK. The echo topic is
// rendered from its template and the run-wide id when needed, never stored.
#include "proto/codec_mqtt.hh"

#include <charconv>
#include <deque>
#include <map>
#include <unordered_map>

#include "proto/mqtt_wire.hh"

namespace horde::proto {

namespace {

using namespace std::string_view_literals;
constexpr uint64_t ns_per_s = 1'000'000'000;

// Counters, declared once: the registry's names follow this order.
// clang-format off
#define HORDE_MQTT_COUNTERS(X)                                                          \
  X(connacks) X(connects_refused) X(pingreqs) X(pingresps) X(publishes) X(pubacks)      \
  X(publishes_refused) X(publishes_unacked) X(publishes_held) X(publishes_window_full)  \
  X(deliveries) X(pubacks_sent) X(subscribes) X(subacks) X(subscribes_refused)          \
  X(unsubscribes) X(unsubacks) X(unencodable) X(disconnects_received)                   \
  X(echo_subscribes) X(echo_subacks) X(echo_publishes) X(echo_deliveries) X(echo_held)
#define HORDE_MQTT_ENUM(name) c_##name,
// clang-format on
enum counter : uint32_t { HORDE_MQTT_COUNTERS(HORDE_MQTT_ENUM) };
#define HORDE_MQTT_NAME(name) #name##sv,
enum histogram : uint32_t { h_connack, h_suback, h_puback, h_pingresp, h_echo_suback };

struct mqtt_config {
  uint8_t level = 4;  // protocol level: 4 = 3.1.1, 5 = 5.0
  uint8_t qos = 0;
  uint16_t keepalive_s = 60;
  uint32_t connect_timeout_s = 10;
  uint32_t max_packet = 1 << 20;
  bool clean = true;
  bool has_username = false, has_password = false;
  std::string client_id = "horde-{conn}";
  // Where a message outside the text view goes and comes back from; empty
  // (echo-topic=none): such a message is refused, as before echo existed.
  std::string echo_topic = "horde/echo/{conn}";
  // Where those messages are published instead, when a service behind the
  // broker answers them on the echo topic; empty: the echo topic itself.
  std::string request_topic;
  std::string username, password;
};

bool valid_topic(std::string_view topic, bool filter) noexcept {
  if (topic.empty() || topic.size() > 65535) return false;
  for (const char c : topic)
    if (c == '\0' || (!filter && (c == '+' || c == '#'))) return false;
  return true;
}

// `pattern` with every {conn} replaced by `conn`, into `out`.
void render_conn(std::string& out, std::string_view pattern, uint32_t conn) {
  out.assign(pattern);
  const std::string id = std::to_string(conn);
  for (size_t at = out.find("{conn}"); at != std::string::npos; at = out.find("{conn}", at + 1))
    out.replace(at, 6, id);
}

bool parse_number(std::string_view text, uint32_t low, uint32_t high, uint32_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= low && out <= high;
}

result<void> apply_option(mqtt_config& c, const std::string& key, const std::string& value) {
  uint32_t n = 0;
  if (key == "version") {
    if (value == "3.1.1" || value == "4")
      c.level = 4;
    else if (value == "5" || value == "5.0")
      c.level = 5;
    else
      return make_error("version=" + value + ": expected 3.1.1 or 5");
  } else if (key == "qos") {
    if (!parse_number(value, 0, 1, n)) return make_error("qos=" + value + ": expected 0 or 1");
    c.qos = uint8_t(n);
  } else if (key == "keepalive") {
    if (!parse_number(value, 0, 65535, n))
      return make_error("keepalive=" + value + ": expected seconds, 0 (off) to 65535");
    c.keepalive_s = uint16_t(n);
  } else if (key == "connect-timeout") {
    if (!parse_number(value, 1, 3600, n))
      return make_error("connect-timeout=" + value + ": expected seconds, 1 to 3600");
    c.connect_timeout_s = n;
  } else if (key == "max-packet") {
    if (!parse_number(value, 64, mqtt::max_remaining, n))
      return make_error("max-packet=" + value + ": expected bytes, 64 to 268435455");
    c.max_packet = n;
  } else if (key == "clean") {
    if (value != "true" && value != "false")
      return make_error("clean=" + value + ": expected true or false");
    c.clean = value == "true";
  } else if (key == "client-id") {
    if (value.size() > 60'000) return make_error("client-id: longer than 60000 bytes");
    c.client_id = value;
  } else if (key == "echo-topic" || key == "request-topic") {
    std::string sample;
    render_conn(sample, value, 4'294'967'295u);
    if (value != "none" && !valid_topic(sample, false))
      return make_error(key + "=" + value +
                        ": expected a topic name (no + or #, at most 65535 bytes) or none");
    (key == "echo-topic" ? c.echo_topic : c.request_topic) = value == "none" ? "" : value;
  } else if (key == "username") {
    c.username = value;
    c.has_username = true;
  } else if (key == "password") {
    c.password = value;
    c.has_password = true;
  }
  return {};
}

result<mqtt_config> parse_config(const codec_options& options) {
  mqtt_config c;
  for (const auto& [key, value] : options)
    if (auto done = apply_option(c, key, value); !done) return done.error();
  if (c.has_password && !c.has_username && c.level == 4)
    return make_error("password= needs username= in MQTT 3.1.1 (§3.1.2.9)");
  if (!c.request_topic.empty() && c.echo_topic.empty())
    return make_error("request-topic= needs an echo-topic= (where the replies come back)");
  return c;
}

enum class phase : uint8_t { idle, connecting, ready, pinging };

// A connection's echo subscription (slot_state::echo): its state in the low
// bits, and whether the scenario's messages are binary, to hand their
// deliveries up as they were sent (MQTT 3.1.1 has no such flag).
enum echo_bits : uint8_t {
  echo_none = 0,         // nothing outside the text view sent yet
  echo_subscribing = 1,  // SUBSCRIBE sent: messages wait for its SUBACK
  echo_subscribed = 2,   // they are published as the scenario sends them
  echo_acked = 3,        // SUBACK read: the waiting messages go out in flush()
  echo_state = 3,
  echo_binary = 4,
};

struct slot_state {
  std::vector<uint8_t> buf;  // bytes of packets not yet handled; from buf_off
  uint64_t due_ns = 0;       // CONNACK deadline, next PINGREQ, or PINGRESP deadline
  uint32_t buf_off = 0;
  uint16_t next_id = 0;      // the last packet id used
  uint16_t inflight = 0;     // QoS 1 publishes awaiting their PUBACK
  uint16_t waiting = 0;      // packets awaiting any ack (ids in use)
  uint16_t window = 65535;   // the broker's Receive Maximum
  uint16_t keepalive_s = 0;  // ours, or the broker's Server Keep Alive
  phase at = phase::idle;
  uint8_t echo = echo_none;  // echo_bits
};
static_assert(sizeof(slot_state) <= 48);

// What waits for an answer, by (slot, packet id).
struct pending {
  uint64_t sent_ns = 0;
  uint8_t type = 0;   // mqtt::publish, subscribe or unsubscribe
  bool echo = false;  // the connection's own echo subscription: not handed up
  std::string topic;  // subscribe and unsubscribe: handed up with the ack
};

// A message outside the text view, sent before the echo subscription's
// SUBACK: published once it arrives.
struct echo_waiting {
  uint64_t sent_ns = 0;
  std::vector<uint8_t> payload;
};
struct echo_queue {
  std::deque<echo_waiting> messages;
  size_t bytes = 0;  // of their payloads
};
// What one connection may hold for its echo SUBACK beyond its first message
// (which may be up to max-packet): a broker that never answers costs this
// much, then messages are refused.
constexpr size_t max_echo_wait_bytes = 1 << 20;

// Packet ids in use per connection, under the 65535 there are, so that
// take_id always finds a free one.
constexpr uint16_t max_waiting = 65000;
// QoS 1 publishes one connection holds while the broker's window is full:
// a publisher far beyond what its broker acknowledges is refused past it.
constexpr size_t max_held = 4096;

uint64_t key_of(uint32_t slot, uint16_t id) noexcept {
  return uint64_t(slot) << 16 | id;
}

class mqtt_codec final : public codec {
 public:
  mqtt_codec(mqtt_config config, const codec_setup& setup)
      : _config(std::move(config)),
        _stats(setup.stats),
        _conn_ids(setup.conn_ids.begin(), setup.conn_ids.end()),
        _slots(setup.conn_ids.size()) {}

  codec_event open(uint32_t slot, codec_output& out, uint64_t now) noexcept override;
  codec_event receive(uint32_t slot, ws_opcode opcode, std::span<const uint8_t> body,
                      uint64_t now) noexcept override;
  codec_event next(uint32_t slot, uint64_t now) noexcept override;
  bool flush(uint32_t slot, codec_output& out, uint64_t now) noexcept override;
  bool send(uint32_t slot, codec_output& out, ws_opcode opcode, std::span<const uint8_t> body,
            uint64_t now) noexcept override;
  uint64_t next_due_ns(uint32_t slot) const noexcept override { return _slots[slot].due_ns; }
  codec_event on_due(uint32_t slot, codec_output& out, uint64_t now) noexcept override;
  void gone(uint32_t slot) noexcept override;

 private:
  codec_event parse(uint32_t slot, std::span<const uint8_t> data, bool owned, uint64_t now);
  codec_event on_packet(uint32_t slot, const mqtt::fixed_header& h, std::span<const uint8_t> body,
                        uint64_t now);
  codec_event on_connack(uint32_t slot, std::span<const uint8_t> body, uint64_t now);
  codec_event on_publish(uint32_t slot, uint8_t flags, std::span<const uint8_t> body);
  codec_event on_ack(uint32_t slot, uint8_t type, std::span<const uint8_t> body, uint64_t now);
  codec_event on_pingresp(uint32_t slot, uint64_t now);
  bool send_packet(uint32_t slot, codec_output& out, uint64_t now);
  uint16_t take_id(uint32_t slot) noexcept;
  void keep_rest(slot_state& s, std::span<const uint8_t> data, size_t pos, bool owned,
                 bool handed_up);
  static void compact(slot_state& s) noexcept;
  bool send_echo(uint32_t slot, codec_output& out, ws_opcode opcode, std::span<const uint8_t> body,
                 uint64_t now);
  void subscribe_echo(uint32_t slot, uint64_t now);
  void flush_echo(uint32_t slot);
  bool encode_publish(uint32_t slot, std::string_view topic, std::span<const uint8_t> payload,
                      uint64_t sent_ns, std::string_view response_topic = {});
  bool publish_outside_view(uint32_t slot, std::span<const uint8_t> payload, uint64_t sent_ns);
  bool echo_delivery(uint32_t slot, std::string_view topic);
  codec_event on_echo_suback(uint32_t slot, std::map<uint64_t, pending>::iterator found,
                             bool granted, uint64_t took);
  std::string_view echo_topic(uint32_t slot) {
    render_conn(_topic, _config.echo_topic, _conn_ids[slot]);
    return _topic;
  }
  void count(counter c) noexcept { _stats.count(c); }
  void idle_from(slot_state& s, uint64_t now) noexcept {
    s.due_ns = s.keepalive_s == 0 ? 0 : now + s.keepalive_s * ns_per_s;
  }

  const mqtt_config _config;
  codec_stats& _stats;
  std::vector<uint32_t> _conn_ids;
  std::vector<slot_state> _slots;
  std::map<uint64_t, pending> _pending;  // ordered: a slot's entries are a range
  std::unordered_map<uint32_t, std::vector<uint16_t>> _owed;  // PUBACKs to send, by slot
  // QoS 1 publishes (encoded) waiting for the broker's window, by slot.
  std::unordered_map<uint32_t, std::deque<std::vector<uint8_t>>> _held;
  // Messages waiting for their connection's echo SUBACK, by slot.
  std::unordered_map<uint32_t, echo_queue> _echo_wait;
  std::string _topic;         // a connection's echo topic, rendered on demand
  std::string _request;       // its request topic, likewise
  std::vector<uint8_t> _out;  // the packet being encoded
  std::string _text;          // the ack handed up ("SUBACK t"), valid until the next call
};

codec_event mqtt_codec::open(uint32_t slot, codec_output& out, uint64_t now) noexcept {
  gone(slot);
  slot_state& s = _slots[slot];
  std::string id;
  render_conn(id, _config.client_id, _conn_ids[slot]);
  mqtt::connect_fields f;
  f.level = _config.level;
  f.clean = _config.clean;
  f.keepalive_s = _config.keepalive_s;
  f.client_id = id;
  f.username = _config.username;
  f.password = _config.password;
  f.has_username = _config.has_username;
  f.has_password = _config.has_password;
  f.maximum_packet_size = _config.max_packet;
  _out.clear();
  mqtt::put_connect(_out, f);
  s.at = phase::connecting;
  s.keepalive_s = _config.keepalive_s;
  s.due_ns = now + _config.connect_timeout_s * ns_per_s;
  out.send(ws_opcode::binary, _out);
  return {};
}

void mqtt_codec::gone(uint32_t slot) noexcept {
  slot_state& s = _slots[slot];
  const auto held = _held.find(slot);
  const size_t unsent = held == _held.end() ? 0 : held->second.size();
  if (s.inflight + unsent != 0) _stats.count(c_publishes_unacked, s.inflight + unsent);
  if (held != _held.end()) _held.erase(held);
  _echo_wait.erase(slot);
  if (!s.buf.empty() || s.buf.capacity() != 0) std::vector<uint8_t>().swap(s.buf);
  s = slot_state{};
  _pending.erase(_pending.lower_bound(key_of(slot, 0)), _pending.upper_bound(key_of(slot, 65535)));
  _owed.erase(slot);
}

codec_event mqtt_codec::receive(uint32_t slot, ws_opcode opcode, std::span<const uint8_t> body,
                                uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  if (s.at == phase::idle) return {};  // failed already: nothing more is read
  if (opcode != ws_opcode::binary)
    return codec_event::failure("MQTT over WebSocket: the broker sent a text message (§6.0)");
  compact(s);
  if (s.buf.empty()) return parse(slot, body, false, now);
  s.buf.insert(s.buf.end(), body.begin(), body.end());
  return parse(slot, s.buf, true, now);
}

codec_event mqtt_codec::next(uint32_t slot, uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  compact(s);
  if (s.buf.empty()) return {};
  return parse(slot, s.buf, true, now);
}

// Drops what the last event handed up (no longer needed once the codec is
// called again); an empty buffer gives its memory back.
void mqtt_codec::compact(slot_state& s) noexcept {
  if (s.buf_off == 0) return;
  if (s.buf_off >= s.buf.size()) {
    std::vector<uint8_t>().swap(s.buf);
  } else {
    s.buf.erase(s.buf.begin(), s.buf.begin() + s.buf_off);
  }
  s.buf_off = 0;
}

// Keeps data[pos..] for later: data is the slot's buffer (owned) or the
// message being read. `handed_up`: an event's body may lie in the buffer,
// so it stays until the next call.
void mqtt_codec::keep_rest(slot_state& s, std::span<const uint8_t> data, size_t pos, bool owned,
                           bool handed_up) {
  if (!owned) {
    if (pos < data.size()) s.buf.assign(data.begin() + ptrdiff_t(pos), data.end());
    return;
  }
  s.buf_off = uint32_t(pos);
  if (!handed_up) compact(s);
}

// Handles the whole packets in `data` until one makes an event for the
// scenario; keeps the rest (a partial packet, or packets for next()).
codec_event mqtt_codec::parse(uint32_t slot, std::span<const uint8_t> data, bool owned,
                              uint64_t now) {
  slot_state& s = _slots[slot];
  bool reply = false;
  size_t pos = 0;
  while (pos < data.size()) {
    mqtt::fixed_header h;
    const parse_status st = mqtt::read_fixed_header(data.subspan(pos), h);
    if (st == parse_status::invalid || (h.header_size != 0 && h.body_size > _config.max_packet)) {
      gone(slot);
      return codec_event::failure(st == parse_status::invalid
                                      ? "MQTT: a remaining length of more than four bytes"
                                      : "MQTT: a packet over max-packet");
    }
    if (st == parse_status::need_more) break;
    const auto body = data.subspan(pos + h.header_size, h.body_size);
    pos += h.header_size + h.body_size;
    codec_event e = on_packet(slot, h, body, now);
    if (e.what == codec_event::kind::failed) {
      gone(slot);
      return e;
    }
    reply = reply || e.reply;
    if (e.what == codec_event::kind::consumed) continue;
    // ready or message: the rest waits for next(), `e.body` stays valid
    // (it lies in the message, or before buf_off).
    keep_rest(s, data, pos, owned, true);
    e.more = s.buf_off < s.buf.size();
    e.reply = reply;
    return e;
  }
  keep_rest(s, data, pos, owned, false);
  codec_event e;
  e.reply = reply;
  return e;
}

codec_event mqtt_codec::on_packet(uint32_t slot, const mqtt::fixed_header& h,
                                  std::span<const uint8_t> body, uint64_t now) {
  const phase at = _slots[slot].at;
  if (h.type == mqtt::connack) {
    if (at != phase::connecting) return codec_event::failure("MQTT: a second CONNACK");
    if (h.flags != 0) return codec_event::failure("MQTT: CONNACK with reserved flag bits set");
    return on_connack(slot, body, now);
  }
  if (at == phase::connecting && h.type != mqtt::disconnect)
    return codec_event::failure("MQTT: a packet before the CONNACK");
  switch (h.type) {
    case mqtt::publish:
      return on_publish(slot, h.flags, body);
    case mqtt::puback:
    case mqtt::suback:
    case mqtt::unsuback:
      if (h.flags != 0) return codec_event::failure("MQTT: an ack with reserved flag bits set");
      return on_ack(slot, h.type, body, now);
    case mqtt::pingresp:
      return on_pingresp(slot, now);
    case mqtt::disconnect:
      count(c_disconnects_received);
      return codec_event::failure("MQTT: the broker sent DISCONNECT");
    case mqtt::auth:
      return codec_event::failure("MQTT: AUTH (enhanced authentication) is not supported");
    default:
      return codec_event::failure("MQTT: a packet type a broker never sends to a client");
  }
}

// 3.1.1 return codes 1-5 and MQTT 5 reason codes from 0x80 refuse.
std::string_view refusal(uint8_t code) noexcept {
  switch (code) {
    case 1:
    case 0x84:
      return "MQTT: CONNACK refused: unsupported protocol version (try version=)";
    case 2:
    case 0x85:
      return "MQTT: CONNACK refused: client identifier not valid (see client-id=)";
    case 3:
    case 0x88:
    case 0x89:
      return "MQTT: CONNACK refused: server unavailable or busy";
    case 4:
    case 0x86:
      return "MQTT: CONNACK refused: bad user name or password";
    case 5:
    case 0x87:
      return "MQTT: CONNACK refused: not authorized";
    case 0x97:
      return "MQTT: CONNACK refused: quota exceeded";
    default:
      return "MQTT: CONNACK refused (a non-zero return code)";
  }
}

codec_event mqtt_codec::on_connack(uint32_t slot, std::span<const uint8_t> body, uint64_t now) {
  slot_state& s = _slots[slot];
  mqtt::reader in(body);
  const uint8_t ack_flags = in.byte();
  const uint8_t code = in.byte();
  mqtt::reader::properties props;
  if (_config.level == 5) props = in.props();
  if (in.bad() || !in.empty() || (ack_flags & 0xfe) != 0)
    return codec_event::failure("MQTT: a malformed CONNACK");
  if (code != 0) {
    count(c_connects_refused);
    return codec_event::failure(refusal(code));
  }
  count(c_connacks);
  _stats.time(h_connack, now - (s.due_ns - _config.connect_timeout_s * ns_per_s));
  if (props.receive_maximum != 0) s.window = props.receive_maximum;
  if (props.has_server_keep_alive) s.keepalive_s = props.server_keep_alive;
  s.at = phase::ready;
  idle_from(s, now);
  return codec_event::ready_now();
}

codec_event mqtt_codec::on_publish(uint32_t slot, uint8_t flags, std::span<const uint8_t> body) {
  const uint8_t qos = (flags >> 1) & 3;
  if (qos == 3) return codec_event::failure("MQTT: a PUBLISH with QoS 3");
  if (qos == 2) return codec_event::failure("MQTT: a QoS 2 PUBLISH (horde subscribes at 0 or 1)");
  mqtt::reader in(body);
  const std::string_view topic = in.string();
  const uint16_t id = qos > 0 ? in.two() : 0;
  if (_config.level == 5) in.props();
  const auto payload = in.rest();
  if (in.bad() || (qos > 0 && id == 0) || (topic.empty() && _config.level == 4))
    return codec_event::failure("MQTT: a malformed PUBLISH");
  count(c_deliveries);
  codec_event e;
  e.what = codec_event::kind::message;
  e.body = payload;
  if (echo_delivery(slot, topic)) {
    count(c_echo_deliveries);
    e.binary = (_slots[slot].echo & echo_binary) != 0;
  }
  if (qos == 1) {
    std::vector<uint16_t>& owed = _owed[slot];
    // A broker sends at most its in-flight window before our PUBACKs go out;
    // a bound keeps a flood from growing this without end.
    if (owed.size() >= 65535) return codec_event::failure("MQTT: over 65535 PUBACKs owed");
    owed.push_back(id);
    e.reply = true;
  }
  return e;
}

codec_event mqtt_codec::on_ack(uint32_t slot, uint8_t type, std::span<const uint8_t> body,
                               uint64_t now) {
  mqtt::reader in(body);
  const uint16_t id = in.two();
  uint8_t code = 0;
  if (type == mqtt::puback) {
    // MQTT 5 may add a reason code and properties; 3.1.1 has neither.
    if (_config.level == 5 && !in.empty()) code = in.byte();
    if (_config.level == 5 && !in.empty()) in.props();
  } else {
    if (_config.level == 5) in.props();
    if (type == mqtt::suback || _config.level == 5) code = in.byte();
    in.rest();  // one code per filter: horde sends one filter per packet
  }
  if (in.bad() || !in.empty()) return codec_event::failure("MQTT: a malformed acknowledgement");
  const auto found = _pending.find(key_of(slot, id));
  const uint8_t expected = type == mqtt::puback   ? mqtt::publish
                           : type == mqtt::suback ? mqtt::subscribe
                                                  : mqtt::unsubscribe;
  if (found == _pending.end() || found->second.type != expected)
    return codec_event::failure("MQTT: an acknowledgement of a packet id not awaiting one");
  const uint64_t took = now - found->second.sent_ns;
  if (type == mqtt::puback) {
    _pending.erase(found);
    --_slots[slot].inflight;
    --_slots[slot].waiting;
    count(code < 0x80 ? c_pubacks : c_publishes_refused);
    if (code < 0x80) _stats.time(h_puback, took);
    codec_event e;
    e.reply = _held.contains(slot);  // the window opened: flush() sends what waits
    return e;
  }
  const bool granted = code < 0x80;
  if (found->second.echo) return on_echo_suback(slot, found, granted, took);
  if (type == mqtt::suback) {
    count(granted ? c_subacks : c_subscribes_refused);
    if (granted) _stats.time(h_suback, took);
    _text = granted ? "SUBACK " : "SUBFAIL ";
  } else {
    count(c_unsubacks);
    _text = "UNSUBACK ";
  }
  _text += found->second.topic;
  _pending.erase(found);
  --_slots[slot].waiting;
  codec_event e;
  e.what = codec_event::kind::message;
  e.body = {reinterpret_cast<const uint8_t*>(_text.data()), _text.size()};
  return e;
}

// The echo subscription is in force: what waited for it goes out from
// flush(). A broker that refuses it (an ACL) leaves nothing to measure.
codec_event mqtt_codec::on_echo_suback(uint32_t slot, std::map<uint64_t, pending>::iterator found,
                                       bool granted, uint64_t took) {
  _pending.erase(found);
  slot_state& s = _slots[slot];
  --s.waiting;
  if (!granted) {
    count(c_subscribes_refused);
    return codec_event::failure(
        "MQTT: the broker refused the echo topic's SUBSCRIBE (echo-topic=)");
  }
  count(c_echo_subacks);
  _stats.time(h_echo_suback, took);
  s.echo = uint8_t((s.echo & ~echo_state) | echo_acked);
  codec_event e;
  e.reply = true;
  return e;
}

codec_event mqtt_codec::on_pingresp(uint32_t slot, uint64_t now) {
  slot_state& s = _slots[slot];
  count(c_pingresps);
  if (s.at == phase::pinging) {
    _stats.time(h_pingresp, now - (s.due_ns - s.keepalive_s * ns_per_s));
    s.at = phase::ready;
    idle_from(s, now);
  }
  return {};
}

// The PUBACKs owed and the held publishes the window now takes, in one
// message: MQTT over WebSocket allows several packets in one (§6.0).
bool mqtt_codec::flush(uint32_t slot, codec_output& out, uint64_t now) noexcept {
  _out.clear();
  if (const auto owed = _owed.find(slot); owed != _owed.end()) {
    for (const uint16_t id : owed->second)
      mqtt::put_puback(_out, id);
    _stats.count(c_pubacks_sent, owed->second.size());
    _owed.erase(owed);
  }
  slot_state& s = _slots[slot];
  if ((s.echo & echo_state) == echo_acked) flush_echo(slot);
  if (const auto held = _held.find(slot); held != _held.end()) {
    auto& queue = held->second;
    for (; !queue.empty() && s.inflight < s.window; queue.pop_front(), ++s.inflight)
      _out.insert(_out.end(), queue.front().begin(), queue.front().end());
    if (queue.empty()) _held.erase(held);
  }
  return _out.empty() || send_packet(slot, out, now);
}

// Sends _out; a packet sent restarts the keep-alive's idle time (§3.1.2.10).
bool mqtt_codec::send_packet(uint32_t slot, codec_output& out, uint64_t now) {
  slot_state& s = _slots[slot];
  if (s.at == phase::ready) idle_from(s, now);
  return out.send(ws_opcode::binary, _out);
}

uint16_t mqtt_codec::take_id(uint32_t slot) noexcept {
  slot_state& s = _slots[slot];
  // Ids still awaiting an ack are skipped; fewer than 65535 are (the
  // caller's bounds), so this ends.
  do {
    s.next_id = uint16_t(s.next_id + 1);
  } while (s.next_id == 0 || _pending.contains(key_of(slot, s.next_id)));
  return s.next_id;
}

bool mqtt_codec::send(uint32_t slot, codec_output& out, ws_opcode opcode,
                      std::span<const uint8_t> body, uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  uint8_t type = 0;
  if (text.starts_with("PUB "))
    type = mqtt::publish;
  else if (text.starts_with("SUB "))
    type = mqtt::subscribe;
  else if (text.starts_with("UNSUB "))
    type = mqtt::unsubscribe;
  else
    return send_echo(slot, out, opcode, body, now);
  text.remove_prefix(text.find(' ') + 1);
  const size_t space = type == mqtt::publish ? text.find(' ') : std::string_view::npos;
  const std::string_view topic = text.substr(0, space);
  const std::string_view payload = space == std::string_view::npos ? ""sv : text.substr(space + 1);
  if (s.at == phase::idle || s.at == phase::connecting ||
      !valid_topic(topic, type != mqtt::publish) || payload.size() > _config.max_packet) {
    count(c_unencodable);
    return false;
  }
  _out.clear();
  if (type == mqtt::publish) {
    if (!encode_publish(slot, topic,
                        {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()}, now))
      return false;
    return _out.empty() || send_packet(slot, out, now);  // empty: held for the window
  }
  if (s.waiting >= max_waiting) {
    count(c_unencodable);
    return false;
  }
  ++s.waiting;
  const uint16_t id = take_id(slot);
  if (type == mqtt::subscribe)
    mqtt::put_subscribe(_out, _config.level, id, topic, _config.qos);
  else
    mqtt::put_unsubscribe(_out, _config.level, id, topic);
  _pending.emplace(key_of(slot, id), pending{now, type, false, std::string(topic)});
  count(type == mqtt::subscribe ? c_subscribes : c_unsubscribes);
  return send_packet(slot, out, now);
}

// Appends a PUBLISH of `payload` to `topic` at the configured QoS to _out,
// or holds it while the broker's window is full (_out unchanged); false
// when refused (counted). At QoS 1 its PUBACK is timed from `sent_ns`, the
// scenario's send, any wait included.
bool mqtt_codec::encode_publish(uint32_t slot, std::string_view topic,
                                std::span<const uint8_t> payload, uint64_t sent_ns,
                                std::string_view response_topic) {
  slot_state& s = _slots[slot];
  const uint8_t qos = _config.qos;
  const auto held = qos == 1 ? _held.find(slot) : _held.end();
  if (qos == 1) {
    // Acknowledged: bounded by the broker's window and the packet id space.
    if (s.waiting >= max_waiting || (held != _held.end() && held->second.size() >= max_held)) {
      count(c_publishes_window_full);
      return false;
    }
    ++s.waiting;
  }
  const uint16_t id = qos == 1 ? take_id(slot) : 0;
  const size_t start = _out.size();
  mqtt::put_publish(_out, _config.level, topic, payload, qos, id, response_topic);
  count(c_publishes);
  if (qos == 0) return true;
  _pending.emplace(key_of(slot, id), pending{sent_ns, mqtt::publish, false, {}});
  if (s.inflight >= s.window || held != _held.end()) {
    // After those before it: order kept.
    _held[slot].emplace_back(_out.begin() + ptrdiff_t(start), _out.end());
    _out.resize(start);
    count(c_publishes_held);
    return true;
  }
  ++s.inflight;
  return true;
}

// A message outside the text view: published to the connection's echo
// topic, where the broker delivers it back. The first one subscribes to
// that topic (a pub/sub run never sends one, so it never pays for it), and
// messages wait for the SUBACK: a publish sent before the subscription is
// in force could be routed to no one.
bool mqtt_codec::send_echo(uint32_t slot, codec_output& out, ws_opcode opcode,
                           std::span<const uint8_t> body, uint64_t now) {
  slot_state& s = _slots[slot];
  if (_config.echo_topic.empty() || s.at == phase::idle || s.at == phase::connecting ||
      body.size() > _config.max_packet) {
    count(c_unencodable);
    return false;
  }
  s.echo = uint8_t((s.echo & echo_state) | (opcode == ws_opcode::binary ? echo_binary : 0));
  const uint8_t state = s.echo & echo_state;
  _out.clear();
  if (state == echo_subscribed) {
    if (!publish_outside_view(slot, body, now)) return false;
    return _out.empty() || send_packet(slot, out, now);
  }
  if (state == echo_none && s.waiting >= max_waiting) {
    count(c_publishes_window_full);
    return false;
  }
  // Waiting for the SUBACK, or for flush() after it (order kept).
  echo_queue& waiting = _echo_wait[slot];
  if (waiting.messages.size() >= max_held ||
      (!waiting.messages.empty() && waiting.bytes + body.size() > max_echo_wait_bytes)) {
    count(c_publishes_window_full);
    return false;
  }
  waiting.messages.push_back({now, std::vector<uint8_t>(body.begin(), body.end())});
  waiting.bytes += body.size();
  count(c_echo_held);
  if (state != echo_none) return true;
  subscribe_echo(slot, now);
  return send_packet(slot, out, now);
}

// Appends the SUBSCRIBE to the connection's echo topic to _out. No Local
// stays unset (MQTT 5 §3.8.3.1), so the broker sends our own publishes back.
void mqtt_codec::subscribe_echo(uint32_t slot, uint64_t now) {
  slot_state& s = _slots[slot];
  s.echo = uint8_t((s.echo & ~echo_state) | echo_subscribing);
  ++s.waiting;
  const uint16_t id = take_id(slot);
  mqtt::put_subscribe(_out, _config.level, id, echo_topic(slot), _config.qos);
  _pending.emplace(key_of(slot, id), pending{now, mqtt::subscribe, true, {}});
  count(c_echo_subscribes);
}

// The echo SUBACK came: what waited for it is published, in order, into
// _out (or held for the broker's window), and later messages go at once.
void mqtt_codec::flush_echo(uint32_t slot) {
  slot_state& s = _slots[slot];
  s.echo = uint8_t((s.echo & ~echo_state) | echo_subscribed);
  const auto found = _echo_wait.find(slot);
  if (found == _echo_wait.end()) return;
  std::deque<echo_waiting> waiting;
  waiting.swap(found->second.messages);
  _echo_wait.erase(found);
  for (const echo_waiting& m : waiting)
    publish_outside_view(slot, m.payload, m.sent_ns);
}

// A message outside the text view into _out: to the echo topic, or to the
// request topic with the echo topic as its MQTT 5 Response Topic.
bool mqtt_codec::publish_outside_view(uint32_t slot, std::span<const uint8_t> payload,
                                      uint64_t sent_ns) {
  const std::string_view reply = echo_topic(slot);
  bool done = false;
  if (_config.request_topic.empty()) {
    done = encode_publish(slot, reply, payload, sent_ns);
  } else {
    render_conn(_request, _config.request_topic, _conn_ids[slot]);
    done = encode_publish(slot, _request, payload, sent_ns, _config.level == 5 ? reply : ""sv);
  }
  if (done) count(c_echo_publishes);
  return done;
}

// Whether a delivery on `topic` is the echo of this connection's own
// message.
bool mqtt_codec::echo_delivery(uint32_t slot, std::string_view topic) {
  return (_slots[slot].echo & echo_state) != echo_none && topic == echo_topic(slot);
}

codec_event mqtt_codec::on_due(uint32_t slot, codec_output& out, uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  if (s.due_ns == 0 || now < s.due_ns) return {};
  switch (s.at) {
    case phase::connecting:
      gone(slot);
      return codec_event::failure("MQTT: no CONNACK within connect-timeout");
    case phase::pinging:
      gone(slot);
      return codec_event::failure("MQTT: no PINGRESP within the keep-alive");
    case phase::ready:
      _out.assign({uint8_t(mqtt::pingreq << 4), 0});
      count(c_pingreqs);
      s.at = phase::pinging;
      s.due_ns = now + s.keepalive_s * ns_per_s;  // the PINGRESP's deadline
      out.send(ws_opcode::binary, _out);
      return {};
    case phase::idle:
      break;
  }
  return {};
}

result<std::unique_ptr<codec>> make_mqtt(const codec_setup& setup) {
  auto config = parse_config(setup.options);
  if (!config) return config.error();
  return std::unique_ptr<codec>(std::make_unique<mqtt_codec>(std::move(*config), setup));
}

}  // namespace

const codec_info& mqtt_codec_info() {
  static const codec_info info{
      "mqtt",
      "MQTT 3.1.1 or 5 over WebSocket: topics as groups, echo and requests through each "
      "connection's own topic, QoS 0 or 1, PINGREQ keep-alive",
      {
          {"version", "3.1.1 or 5 (default 3.1.1)"},
          {"qos", "0 or 1: of publishes and subscriptions; at 1 PUBACKs are timed (default 0)"},
          {"keepalive",
           "seconds; a PINGREQ after that long idle, its PINGRESP due as long "
           "after; 0 = off (default 60)"},
          {"client-id", "template, {conn} = the connection's number (default horde-{conn})"},
          {"echo-topic",
           "template: a message that is not SUB/UNSUB/PUB (an echo stamp, a request) is "
           "published here and its delivery handed back, subscribed on the first one; none = "
           "refuse such messages (default horde/echo/{conn})"},
          {"request-topic",
           "template: publish those messages here instead, for a service that answers on "
           "echo-topic (MQTT 5: sent as the Response Topic); default none (the echo topic "
           "itself)"},
          {"clean", "true or false: clean session / clean start (default true)"},
          {"username", "user name in CONNECT (default none)"},
          {"password", "password in CONNECT (default none)"},
          {"connect-timeout", "seconds to wait for CONNACK (default 10)"},
          {"max-packet",
           "bytes: the largest packet accepted, announced in MQTT 5 "
           "(default 1048576)"},
      },
      {HORDE_MQTT_COUNTERS(HORDE_MQTT_NAME)},
      {"connack", "suback", "puback", "pingresp", "echo_suback"},
      {{"mqtt"},
       "",
       "SUB {group}",
       "SUBACK {group}",
       "PUB {group} {payload}",
       "UNSUB {group}",
       "UNSUBACK {group}"},
      &make_mqtt,
  };
  return info;
}

}  // namespace horde::proto

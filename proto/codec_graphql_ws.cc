#include "proto/codec_graphql_ws.hh"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/json_fields.hh"
#include "proto/jwt.hh"
#include "proto/jwt_verify.hh"
#include "proto/socketio_packet.hh"

namespace horde::proto {

namespace {

namespace m = graphql_ws_metric;

// An id the codec assigned starts with this; the digits after it are the
// operation's send time in ns (docs/protocols.md: the scenario's own ids
// must not start with it).
constexpr char assigned_mark = '~';
// An echo operation's id is "~b" or "~t" (the scenario sent a binary or a
// text message) then a send time: the answer says how to hand it back, with
// nothing kept per operation.
constexpr char echo_binary_mark = 'b';
constexpr char echo_text_mark = 't';
// Live subscriptions the scenario started, per connection: past this the
// oldest is forgotten (its complete is then consumed, not handed up), as the
// request scenario bounds what it keeps in flight.
constexpr size_t max_live_subscriptions = 256;
// Server pings waiting for their pongs: the codec flushes every loop turn,
// so more than this between two turns is a flood, not a keep-alive.
constexpr uint16_t max_pongs_owed = 1024;

enum class phase : uint8_t { closed, awaiting_ack, ready };

// Per connection: 32 bytes (so 3.2 MB at 100k connections).
struct slot_state {
  uint64_t due_ns = 0;         // the ack deadline, or the next client ping; 0: none
  uint64_t since_ns = 0;       // connection_init sent, then our unanswered ping sent; 0: none
  uint64_t last_assigned = 0;  // the last id assigned (a send time): ids stay unique
  uint16_t pongs_owed = 0;     // server pings not answered yet
  phase state = phase::closed;
};
static_assert(sizeof(slot_state) == 32);

struct settings {
  std::string init = R"({"type":"connection_init"})";
  uint64_t ack_timeout_ns = 10'000'000'000;
  uint64_t ping_interval_ns = 0;
  // echo-query: a bare scenario message becomes a subscribe of this
  // document, the message bound to its first variable. Both halves are
  // rendered once: echo_head, the message (escaped), echo_tail, the id.
  std::string echo_head, echo_tail;
  std::string echo_field = "/payload/data/echo";  // where the next carries it back
};

std::span<const uint8_t> bytes_of(std::string_view text) noexcept {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// "0", "250ms", "10s", "2m": a whole number and a unit (none only for 0).
result<uint64_t> parse_duration(std::string_view key, std::string_view text) {
  size_t digits = 0;
  uint64_t value = 0;
  while (digits < text.size() && digits < 9 && text[digits] >= '0' && text[digits] <= '9')
    value = value * 10 + uint64_t(text[digits++] - '0');
  const std::string_view unit = text.substr(digits);
  uint64_t scale = 0;
  if (unit == "ms") scale = 1'000'000;
  if (unit == "s") scale = 1'000'000'000;
  if (unit == "m") scale = 60'000'000'000;
  if (unit.empty() && value == 0 && digits > 0) scale = 1;
  if (digits == 0 || scale == 0) {
    return make_error(std::string(key) + "=" + std::string(text) +
                      ": expected a duration such as 500ms, 10s or 2m (0 for none)");
  }
  return value * scale;
}

bool name_char(char c) noexcept {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The first variable a GraphQL document declares ("t" in
// query($t:String!){echo(text:$t)}), or empty.
std::string_view first_variable(std::string_view document) noexcept {
  const size_t dollar = document.find('$');
  if (dollar == std::string_view::npos) return {};
  size_t end = dollar + 1;
  while (end < document.size() && name_char(document[end]))
    ++end;
  return document.substr(dollar + 1, end - dollar - 1);
}

// Whether a document's (first) operation is a subscription: its first word,
// after the whitespace, commas and comments GraphQL ignores. A query or a
// mutation answers once and its complete is the codec's; a subscription is a
// stream, which its complete ends.
bool is_subscription(std::string_view document) noexcept {
  size_t i = 0;
  while (i < document.size()) {
    const char c = document[i];
    if (c == '#') {
      i = document.find('\n', i);
      if (i == std::string_view::npos) return false;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
      ++i;
    } else {
      break;
    }
  }
  constexpr std::string_view keyword = "subscription";
  if (document.substr(i, keyword.size()) != keyword) return false;
  const size_t after = i + keyword.size();
  return after == document.size() || !name_char(document[after]);
}

// FNV-1a: a live subscription is remembered by a hash of its id, 8 bytes.
uint64_t id_hash(std::string_view id) noexcept {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

result<std::string> echo_head_of(const std::string& document) {
  const std::string_view variable = first_variable(document);
  if (variable.empty() || (variable[0] >= '0' && variable[0] <= '9')) {
    return make_error("echo-query=" + document +
                      ": expected a GraphQL document with a String variable for the message, "
                      "e.g. query($t:String!){echo(text:$t)}");
  }
  std::string head = R"({"type":"subscribe","payload":{"query":")";
  append_json_string_body(head, document);
  head += R"(","variables":{")";
  head += variable;
  head += R"(":")";
  return head;
}

result<settings> parse_settings(const codec_options& options) {
  settings s;
  for (const auto& [key, value] : options) {
    if (key == "echo-query") {
      auto head = echo_head_of(value);
      if (!head) return head.error();
      s.echo_head = std::move(*head);
      s.echo_tail = R"("}},"id":")";
      s.echo_tail += assigned_mark;
    } else if (key == "echo-field") {
      if (!json_pointer::parse(value))
        return make_error("echo-field=" + value +
                          ": expected a JSON pointer such as /payload/data/echo");
      s.echo_field = value;
    } else if (key == "init-payload") {
      // Sent verbatim, so checked whole (the DOM parser, not On Demand's
      // lazy walk): a broken payload would only show as the server's 4400.
      simdjson::dom::parser parser;
      simdjson::dom::object object;
      if (parser.parse(simdjson::padded_string(value)).get(object) != simdjson::SUCCESS) {
        return make_error("init-payload=" + value +
                          ": expected a JSON object, e.g. {\"token\":\"abc\"}");
      }
      s.init = R"({"type":"connection_init","payload":)" + value + "}";
    } else if (key == "ack-timeout" || key == "ping-interval") {
      auto ns = parse_duration(key, value);
      if (!ns) return ns.error();
      if (key == "ack-timeout" && *ns == 0) return make_error("ack-timeout must be over 0");
      (key == "ack-timeout" ? s.ack_timeout_ns : s.ping_interval_ns) = *ns;
    }
  }
  return s;
}

// The send time an assigned id carries, or 0 when it carries none.
uint64_t assigned_time(std::string_view id) noexcept {
  if (id.size() < 2 || id.size() > 21) return 0;
  uint64_t value = 0;
  for (const char c : id.substr(1)) {
    if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10) return 0;
    value = value * 10 + uint64_t(c - '0');
  }
  return value;
}

class graphql_ws_codec final : public codec {
 public:
  graphql_ws_codec(settings s, size_t slots, codec_stats& stats)
      : _settings(std::move(s)), _slots(slots), _stats(stats) {
    _pointers[0] = *json_pointer::parse("/type");
    _pointers[1] = *json_pointer::parse("/id");
    _pointers[2] = *json_pointer::parse("/payload/query");
    _echo_field = *json_pointer::parse(_settings.echo_field);
  }

  codec_event open(uint32_t slot, codec_output& out, uint64_t now) noexcept override {
    slot_state& s = _slots[slot];
    s = slot_state{};
    _live.erase(slot);
    s.state = phase::awaiting_ack;
    s.since_ns = now;
    s.due_ns = now + _settings.ack_timeout_ns;
    out.send(ws_opcode::text, bytes_of(_settings.init));
    return {};
  }

  codec_event receive(uint32_t slot, ws_opcode opcode, std::span<const uint8_t> body,
                      uint64_t now) noexcept override;

  bool flush(uint32_t slot, codec_output& out, uint64_t) noexcept override {
    static constexpr std::string_view pong = R"({"type":"pong"})";
    slot_state& s = _slots[slot];
    for (; s.pongs_owed > 0; --s.pongs_owed) {
      if (!out.send(ws_opcode::text, bytes_of(pong))) return false;
      _stats.count(m::pings_answered);
    }
    return true;
  }

  bool send(uint32_t slot, codec_output& out, ws_opcode opcode, std::span<const uint8_t> body,
            uint64_t now) noexcept override;

  uint64_t next_due_ns(uint32_t slot) const noexcept override { return _slots[slot].due_ns; }

  codec_event on_due(uint32_t slot, codec_output& out, uint64_t now) noexcept override {
    slot_state& s = _slots[slot];
    if (s.state == phase::awaiting_ack)
      return codec_event::failure("no connection_ack within ack-timeout");
    if (s.state != phase::ready || _settings.ping_interval_ns == 0) {
      s.due_ns = 0;
      return {};
    }
    if (s.since_ns != 0) return codec_event::failure("no pong within ping-interval");
    static constexpr std::string_view ping = R"({"type":"ping"})";
    if (!out.send(ws_opcode::text, bytes_of(ping))) return {};
    _stats.count(m::pings_sent);
    s.since_ns = now;
    s.due_ns = now + _settings.ping_interval_ns;
    return {};
  }

  void gone(uint32_t slot) noexcept override {
    _slots[slot] = slot_state{};
    _live.erase(slot);
  }

 private:
  codec_event on_operation(uint32_t slot, std::string_view type, const json_scalar& id,
                           std::span<const uint8_t> body, uint64_t now) noexcept;
  codec_event on_assigned(std::string_view type, std::string_view id, std::span<const uint8_t> body,
                          uint64_t now) noexcept;
  codec_event echo_answer(bool binary, std::span<const uint8_t> body) noexcept;
  bool send_echo(uint32_t slot, codec_output& out, bool binary, std::span<const uint8_t> body,
                 uint64_t now) noexcept;
  void track(uint32_t slot, std::string_view type, std::string_view id,
             const json_scalar& query) noexcept;
  bool forget_live(uint32_t slot, std::string_view id) noexcept;
  void append_new_id(uint32_t slot, uint64_t now) noexcept;
  codec_event on_ack(slot_state& s, uint64_t now) noexcept {
    _stats.count(m::acks);
    _stats.time(m::ack_latency, now > s.since_ns ? now - s.since_ns : 0);
    s.state = phase::ready;
    s.since_ns = 0;
    s.due_ns = _settings.ping_interval_ns != 0 ? now + _settings.ping_interval_ns : 0;
    return codec_event::ready_now();
  }
  void assigned_done(std::string_view id, uint64_t now) noexcept {
    const uint64_t sent = assigned_time(id);
    if (sent != 0 && sent <= now) _stats.time(m::assigned_latency, now - sent);
  }

  settings _settings;
  std::vector<slot_state> _slots;
  codec_stats& _stats;
  json_reader _reader;
  std::array<json_pointer, 3> _pointers;  // /type, /id, /payload/query (read on sends only)
  json_pointer _echo_field;
  std::string _scratch;  // an outgoing message with its assigned id
  std::string _decoded;  // a binary echo's bytes, handed up
  // The scenario's live subscriptions (hashes of their ids), only for the
  // connections that have any: their complete is handed up (a stream's end).
  std::unordered_map<uint32_t, std::vector<uint64_t>> _live;
};

codec_event graphql_ws_codec::receive(uint32_t slot, ws_opcode opcode,
                                      std::span<const uint8_t> body, uint64_t now) noexcept {
  if (opcode != ws_opcode::text)
    return codec_event::failure("a binary message: graphql-transport-ws is text only");
  std::array<json_scalar, 2> fields;
  _reader.get_many(body, std::span(_pointers).first<2>(), fields);
  if (fields[0].kind == json_value_kind::invalid_json)
    return codec_event::failure("a message that is not JSON");
  if (fields[0].kind != json_value_kind::string)
    return codec_event::failure("a message without a string \"type\"");
  const std::string_view type = fields[0].text;
  slot_state& s = _slots[slot];
  if (type == "ping") {
    if (s.pongs_owed >= max_pongs_owed)
      return codec_event::failure("over 1024 pings before one could be answered");
    ++s.pongs_owed;
    codec_event e;
    e.reply = true;
    return e;
  }
  if (type == "pong") {  // ours answered, or a one-way heartbeat (allowed by the protocol)
    if (s.state == phase::ready && s.since_ns != 0) {
      _stats.count(m::pongs);
      _stats.time(m::pong_latency, now > s.since_ns ? now - s.since_ns : 0);
      s.since_ns = 0;
    }
    return {};
  }
  if (type == "connection_ack") {
    if (s.state != phase::awaiting_ack) return codec_event::failure("a second connection_ack");
    return on_ack(s, now);
  }
  if (s.state != phase::ready) return codec_event::failure("a message before connection_ack");
  return on_operation(slot, type, fields[1], body, now);
}

// next, error or complete for one operation.
codec_event graphql_ws_codec::on_operation(uint32_t slot, std::string_view type,
                                           const json_scalar& id, std::span<const uint8_t> body,
                                           uint64_t now) noexcept {
  const bool known = type == "next" || type == "error" || type == "complete";
  if (!known) {
    return codec_event::failure(
        "a message of a type a server may not send (not next, error, complete, ping, pong)");
  }
  if (id.kind != json_value_kind::string || id.text.empty())
    return codec_event::failure("a next, error or complete without a string \"id\"");
  if (id.text[0] == assigned_mark) return on_assigned(type, id.text, body, now);
  codec_event handed;
  handed.what = codec_event::kind::message;
  handed.body = body;
  if (type == "next") {
    _stats.count(m::nexts);
    return handed;
  }
  // An error is a request's answer (its match sees it); a complete ends a
  // subscription the scenario started (a stream's end frame), while a
  // query's or a mutation's follows its one answer and is the codec's.
  const bool live = forget_live(slot, id.text);
  _stats.count(type == "error" ? m::errors : m::completes);
  if (type == "error") return handed;
  if (!live) return {};
  _stats.count(m::streams_ended);
  return handed;
}

// The answers to an operation the codec started: a publish (consumed) or
// an echo (its next is the scenario's message back).
codec_event graphql_ws_codec::on_assigned(std::string_view type, std::string_view id,
                                          std::span<const uint8_t> body, uint64_t now) noexcept {
  const char mark = id.size() > 1 ? id[1] : '\0';
  const bool echo = mark == echo_binary_mark || mark == echo_text_mark;
  if (type == "next") {
    if (echo) return echo_answer(mark == echo_binary_mark, body);
    _stats.count(m::assigned_nexts);
    return {};
  }
  _stats.count(type == "error" ? m::errors : m::completes);
  if (!echo) assigned_done(id, now);
  return {};
}

// The message an echo operation carried, read back from its next as sent:
// text unescaped, binary from its base64url.
codec_event graphql_ws_codec::echo_answer(bool binary, std::span<const uint8_t> body) noexcept {
  const json_scalar value = _reader.get(body, _echo_field);
  codec_event e;
  e.what = codec_event::kind::message;
  e.binary = binary;
  e.body = bytes_of(value.text);
  if (binary) {
    _decoded.clear();
    if (value.kind == json_value_kind::string && base64url_decode(value.text, _decoded))
      e.body = bytes_of(_decoded);
    else
      e.what = codec_event::kind::consumed;
  } else if (value.kind != json_value_kind::string) {
    e.what = codec_event::kind::consumed;
  }
  if (e.what == codec_event::kind::consumed) {
    _stats.count(m::echo_unreadable);  // the echo scenario counts it unanswered
    return {};
  }
  _stats.count(m::echoes);
  return e;
}

// A scenario's subscribe to a subscription is remembered until its complete
// (either side's) or its error.
void graphql_ws_codec::track(uint32_t slot, std::string_view type, std::string_view id,
                             const json_scalar& query) noexcept {
  if (type == "complete") {
    forget_live(slot, id);
    return;
  }
  if (type != "subscribe" || query.kind != json_value_kind::string || !is_subscription(query.text))
    return;
  std::vector<uint64_t>& live = _live[slot];
  if (live.size() >= max_live_subscriptions) live.erase(live.begin());
  live.push_back(id_hash(id));
}

bool graphql_ws_codec::forget_live(uint32_t slot, std::string_view id) noexcept {
  const auto found = _live.find(slot);
  if (found == _live.end()) return false;
  std::vector<uint64_t>& live = found->second;
  const auto at = std::find(live.begin(), live.end(), id_hash(id));
  if (at == live.end()) return false;
  live.erase(at);
  if (live.empty()) _live.erase(found);
  return true;
}

// A new id the codec assigns: its send time, bumped past the last one so two
// in flight never share one (the mark before it is the caller's).
void graphql_ws_codec::append_new_id(uint32_t slot, uint64_t now) noexcept {
  slot_state& s = _slots[slot];
  s.last_assigned = now > s.last_assigned ? now : s.last_assigned + 1;
  char digits[20];  // to_chars, not to_string: no allocation per message
  const auto written = std::to_chars(digits, digits + sizeof digits, s.last_assigned);
  _scratch.append(digits, written.ptr);
}

bool graphql_ws_codec::send(uint32_t slot, codec_output& out, ws_opcode opcode,
                            std::span<const uint8_t> body, uint64_t now) noexcept {
  std::array<json_scalar, 3> fields;
  if (opcode == ws_opcode::text) _reader.get_many(body, _pointers, fields);
  if (opcode != ws_opcode::text || fields[0].kind != json_value_kind::string) {
    const bool data = opcode == ws_opcode::text || opcode == ws_opcode::binary;
    if (!_settings.echo_head.empty() && data)
      return send_echo(slot, out, opcode == ws_opcode::binary, body, now);
    _stats.count(m::refused_sends);  // the server would close with 4400: not sent
    return false;
  }
  const bool scenario_id = fields[1].kind == json_value_kind::string && !fields[1].text.empty() &&
                           fields[1].text[0] != assigned_mark;
  if (scenario_id) track(slot, fields[0].text, fields[1].text, fields[2]);
  if (fields[0].text != "subscribe" || fields[1].kind != json_value_kind::missing)
    return out.send(ws_opcode::text, body);
  // A subscribe without an id: horde's own (a publish).
  const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  const size_t brace = text.find('{');  // the object's: "type" was read from it
  _scratch.assign(text.substr(0, brace + 1));
  _scratch += R"("id":")";
  _scratch += assigned_mark;
  append_new_id(slot, now);
  _scratch += "\",";
  _scratch.append(text.substr(brace + 1));
  _stats.count(m::assigned_sent);
  return out.send(ws_opcode::text, bytes_of(_scratch));
}

// A bare message (an echo's stamp) as a subscribe of echo-query: a text
// message JSON-escaped, a binary one as base64url, so either comes back
// byte for byte.
bool graphql_ws_codec::send_echo(uint32_t slot, codec_output& out, bool binary,
                                 std::span<const uint8_t> body, uint64_t now) noexcept {
  const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  _scratch.assign(_settings.echo_head);
  if (binary)
    base64url_append(_scratch, text);
  else
    append_json_string_body(_scratch, text);
  _scratch += _settings.echo_tail;
  _scratch += binary ? echo_binary_mark : echo_text_mark;
  append_new_id(slot, now);
  _scratch += "\"}";
  _stats.count(m::echoes_sent);
  return out.send(ws_opcode::text, bytes_of(_scratch));
}

}  // namespace

result<std::unique_ptr<codec>> make_graphql_ws_codec(const codec_setup& setup) {
  auto s = parse_settings(setup.options);
  if (!s) return s.error();
  return std::unique_ptr<codec>(
      std::make_unique<graphql_ws_codec>(std::move(*s), setup.conn_ids.size(), setup.stats));
}

const codec_info& graphql_ws_codec_info() {
  static const codec_info info{
      .name = "graphql-ws",
      .summary =
          "GraphQL over WebSocket, the graphql-transport-ws subprotocol: "
          "subscriptions as pub/sub, queries and mutations as requests",
      .options =
          {
              {"init-payload",
               "a JSON object sent as connection_init's payload, e.g. {\"token\":\"abc\"} "
               "(default: none)"},
              {"ack-timeout",
               "how long a connection waits for connection_ack before it fails (default 10s)"},
              {"ping-interval",
               "send the protocol's ping this often; a ping unanswered by the next fails the "
               "connection (default 0: off; the server's pings are always answered)"},
              {"echo-query",
               "a GraphQL document whose first variable is a String, e.g. "
               "query($t:String!){echo(text:$t)}: each echo message (horde's stamp) is sent as "
               "a subscribe of it, the message bound to that variable (binary as base64url), "
               "and the next that carries it back is the echo (default: none; echo messages "
               "are then refused)"},
              {"echo-field",
               "with echo-query: the JSON pointer in the answer's next where the message "
               "comes back (default /payload/data/echo)"},
          },
      .counters = {"acks", "pings_answered", "pings_sent", "pongs", "nexts", "errors", "completes",
                   "assigned_sent", "assigned_nexts", "refused_sends", "echoes_sent", "echoes",
                   "echo_unreadable", "streams_ended"},
      .histograms = {"ack", "pong", "assigned"},
      .defaults =
          {
              .subprotocols = {"graphql-transport-ws"},
              .path = "/graphql",
              .subscribe = R"({"id":"{group}","type":"subscribe","payload":{"query":)"
                           R"("subscription($g:String!){messages(group:$g)}",)"
                           R"("variables":{"g":"{group}"}}})",
              .subscribe_ack = "",
              .publish = R"({"type":"subscribe","payload":{"query":)"
                         R"("mutation($g:String!,$p:String!){publish(group:$g,payload:$p)}",)"
                         R"("variables":{"g":"{group}","p":"{payload}"}}})",
              .unsubscribe = R"({"id":"{group}","type":"complete"})",
              .unsubscribe_ack = "",
          },
      .make = make_graphql_ws_codec,
  };
  return info;
}

}  // namespace horde::proto

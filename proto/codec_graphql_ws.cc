#include "proto/codec_graphql_ws.hh"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "proto/json_fields.hh"

namespace horde::proto {

namespace {

namespace m = graphql_ws_metric;

// An id the codec assigned starts with this; the digits after it are the
// operation's send time in ns (docs/protocols.md: the scenario's own ids
// must not start with it).
constexpr char assigned_mark = '~';
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

result<settings> parse_settings(const codec_options& options) {
  settings s;
  for (const auto& [key, value] : options) {
    if (key == "init-payload") {
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
  }

  codec_event open(uint32_t slot, codec_output& out, uint64_t now) noexcept override {
    slot_state& s = _slots[slot];
    s = slot_state{};
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

  void gone(uint32_t slot) noexcept override { _slots[slot] = slot_state{}; }

 private:
  codec_event on_operation(std::string_view type, const json_scalar& id,
                           std::span<const uint8_t> body, uint64_t now) noexcept;
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
  std::array<json_pointer, 2> _pointers;  // /type, /id
  std::string _scratch;                   // an outgoing message with its assigned id
};

codec_event graphql_ws_codec::receive(uint32_t slot, ws_opcode opcode,
                                      std::span<const uint8_t> body, uint64_t now) noexcept {
  if (opcode != ws_opcode::text)
    return codec_event::failure("a binary message: graphql-transport-ws is text only");
  std::array<json_scalar, 2> fields;
  _reader.get_many(body, _pointers, fields);
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
  return on_operation(type, fields[1], body, now);
}

// next, error or complete for one operation.
codec_event graphql_ws_codec::on_operation(std::string_view type, const json_scalar& id,
                                           std::span<const uint8_t> body, uint64_t now) noexcept {
  const bool known = type == "next" || type == "error" || type == "complete";
  if (!known) {
    return codec_event::failure(
        "a message of a type a server may not send (not next, error, complete, ping, pong)");
  }
  if (id.kind != json_value_kind::string || id.text.empty())
    return codec_event::failure("a next, error or complete without a string \"id\"");
  const bool assigned = id.text[0] == assigned_mark;
  codec_event handed;
  handed.what = codec_event::kind::message;
  handed.body = body;
  if (type == "next") {
    _stats.count(assigned ? m::assigned_nexts : m::nexts);
    return assigned ? codec_event{} : handed;
  }
  if (type == "error") {
    _stats.count(m::errors);
    if (!assigned) return handed;  // a request's answer: its match sees it
  } else {
    _stats.count(m::completes);
  }
  if (assigned) assigned_done(id.text, now);
  return {};
}

bool graphql_ws_codec::send(uint32_t slot, codec_output& out, ws_opcode opcode,
                            std::span<const uint8_t> body, uint64_t now) noexcept {
  std::array<json_scalar, 2> fields;
  if (opcode == ws_opcode::text) _reader.get_many(body, _pointers, fields);
  if (opcode != ws_opcode::text || fields[0].kind != json_value_kind::string) {
    _stats.count(m::refused_sends);  // the server would close with 4400: not sent
    return false;
  }
  if (fields[0].text != "subscribe" || fields[1].kind != json_value_kind::missing)
    return out.send(ws_opcode::text, body);
  // A subscribe without an id: horde's own (a publish). Its id is its send
  // time, bumped past the last one so two in flight never share one.
  slot_state& s = _slots[slot];
  s.last_assigned = now > s.last_assigned ? now : s.last_assigned + 1;
  const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  const size_t brace = text.find('{');  // the object's: "type" was read from it
  _scratch.assign(text.substr(0, brace + 1));
  _scratch += R"("id":")";
  _scratch += assigned_mark;
  char digits[20];  // to_chars, not to_string: no allocation per publish
  const auto written = std::to_chars(digits, digits + sizeof digits, s.last_assigned);
  _scratch.append(digits, written.ptr);
  _scratch += "\",";
  _scratch.append(text.substr(brace + 1));
  _stats.count(m::assigned_sent);
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
          },
      .counters = {"acks", "pings_answered", "pings_sent", "pongs", "nexts", "errors", "completes",
                   "assigned_sent", "assigned_nexts", "refused_sends"},
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

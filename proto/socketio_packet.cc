#include "proto/socketio_packet.hh"

namespace horde::proto {

namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

socketio_read refuse(std::string_view why) noexcept {
  socketio_read r;
  r.why = why;
  return r;
}

// Reads the Socket.IO header after "4<type>": [<n>-][<nsp>,][<id>], leaving
// the JSON in packet.data. Empty on success, else why.
std::string_view read_header(std::string_view rest, socketio_packet& p) noexcept {
  if (p.type == socketio_type::binary_event || p.type == socketio_type::binary_ack) {
    size_t digits = 0;
    uint32_t n = 0;
    while (digits < rest.size() && is_digit(rest[digits])) {
      if (digits == 4) return "Socket.IO binary packet: attachment count too long";
      n = n * 10 + uint32_t(rest[digits] - '0');
      ++digits;
    }
    if (digits == 0 || digits >= rest.size() || rest[digits] != '-')
      return "Socket.IO binary packet without '<count>-'";
    if (n > socketio_max_attachments) return "Socket.IO binary packet: over 1000 attachments";
    p.attachments = n;
    rest.remove_prefix(digits + 1);
  }
  if (!rest.empty() && rest.front() == '/') {
    const size_t comma = rest.find(',');
    const size_t end = comma == std::string_view::npos ? rest.size() : comma;
    if (end > socketio_max_namespace) return "Socket.IO namespace over 256 bytes";
    p.nsp = rest.substr(0, end);
    rest.remove_prefix(comma == std::string_view::npos ? end : end + 1);
  }
  size_t digits = 0;
  uint64_t id = 0;
  while (digits < rest.size() && is_digit(rest[digits])) {
    if (digits == socketio_max_id_digits) return "Socket.IO ack id over 15 digits";
    id = id * 10 + uint64_t(rest[digits] - '0');
    ++digits;
  }
  if (digits > 0) {
    p.has_id = true;
    p.id = id;
    rest.remove_prefix(digits);
  }
  p.data = rest;
  return {};
}

// An event's or ack's arguments are a JSON array (read no further here: the
// scenario's JSON reader validates what it walks).
bool is_array(std::string_view data) noexcept {
  return data.size() >= 2 && data.front() == '[' && data.back() == ']';
}

std::string_view check_data(const socketio_packet& p) noexcept {
  switch (p.type) {
    case socketio_type::event:
    case socketio_type::binary_event:
      if (!is_array(p.data) || p.data.size() < 3) return "Socket.IO event without a JSON array";
      return {};
    case socketio_type::ack:
    case socketio_type::binary_ack:
      if (!p.has_id) return "Socket.IO ack without an id";
      if (!is_array(p.data)) return "Socket.IO ack without a JSON array";
      return {};
    case socketio_type::connect:
    case socketio_type::connect_error:
      if (!p.data.empty() && p.data.front() != '{')
        return "Socket.IO connect data is not an object";
      return {};
    case socketio_type::disconnect:
      return {};
  }
  return "Socket.IO packet of an unknown type";
}

}  // namespace

socketio_read read_socketio_packet(std::string_view frame) noexcept {
  if (frame.empty()) return refuse("empty Engine.IO packet");
  if (frame[0] < '0' || frame[0] > '6') return refuse("Engine.IO packet of an unknown type");
  socketio_read r;
  socketio_packet& p = r.packet;
  p.engine = engineio_type(frame[0] - '0');
  frame.remove_prefix(1);
  if (p.engine != engineio_type::message) {
    p.data = frame;
    r.ok = true;
    return r;
  }
  if (frame.empty() || frame[0] < '0' || frame[0] > '6')
    return refuse("Engine.IO message that is no Socket.IO packet");
  p.type = socketio_type(frame[0] - '0');
  frame.remove_prefix(1);
  if (std::string_view why = read_header(frame, p); !why.empty()) return refuse(why);
  if (std::string_view why = check_data(p); !why.empty()) return refuse(why);
  r.ok = true;
  return r;
}

void append_json_string_body(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  for (const char c : text) {
    const auto u = uint8_t(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
}

socketio_encoded encode_socketio_send(std::string& out, std::string_view text,
                                      std::string_view nsp) {
  out.clear();
  socketio_encoded e;
  const bool named = nsp != "/";
  if (text.size() >= 2 && text[0] == '4' && text[1] >= '0' && text[1] <= '6') {
    if (text[1] == '5' || text[1] == '6') return e;  // attachments cannot ride in text
    e.kind = socketio_send_kind::packet;
    std::string_view rest = text.substr(2);
    out.append(text.substr(0, 2));
    if (named && (rest.empty() || rest.front() != '/')) {
      out.append(nsp);
      out += ',';
    }
    std::string_view after_nsp = rest;
    if (!after_nsp.empty() && after_nsp.front() == '/') {
      const size_t comma = after_nsp.find(',');
      after_nsp =
          comma == std::string_view::npos ? std::string_view() : after_nsp.substr(comma + 1);
    }
    e.asks_ack = text[1] == '2' && !after_nsp.empty() && is_digit(after_nsp.front());
    out.append(rest);
    return e;
  }
  out += "42";
  if (named) {
    out.append(nsp);
    out += ',';
  }
  if (!text.empty() && text.front() == '[') {
    e.kind = socketio_send_kind::event;
    out.append(text);
    return e;
  }
  e.kind = socketio_send_kind::plain;
  out += "[\"message\",\"";
  append_json_string_body(out, text);
  out += "\"]";
  return e;
}

namespace {
constexpr std::string_view binary_message_args = R"(["message",{"_placeholder":true,"num":0}])";
}

void encode_socketio_binary_message(std::string& out, std::string_view nsp) {
  out = "451-";
  if (nsp != "/") {
    out.append(nsp);
    out += ',';
  }
  out.append(binary_message_args);
}

bool is_binary_message(const socketio_packet& p) noexcept {
  return p.type == socketio_type::binary_event && p.attachments == 1 && !p.has_id &&
         p.data == binary_message_args;
}

void encode_socketio_connect(std::string& out, std::string_view nsp, std::string_view auth) {
  out = "40";
  if (nsp != "/") {
    out.append(nsp);
    out += ',';
  }
  out.append(auth);
}

socketio_plain plain_message_of(std::string_view data) noexcept {
  constexpr std::string_view head = "[\"message\",\"";
  if (data.size() < head.size() + 2 || data.substr(0, head.size()) != head ||
      data.substr(data.size() - 2) != "\"]")
    return {};
  const std::string_view text = data.substr(head.size(), data.size() - head.size() - 2);
  // A quote inside means more arguments (or an escape); a backslash, an escape.
  if (text.find_first_of("\"\\") != std::string_view::npos) return {};
  return {true, text};
}

}  // namespace horde::proto

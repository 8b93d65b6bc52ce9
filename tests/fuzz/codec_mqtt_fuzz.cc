// Fuzzes the MQTT codec (proto/codec_mqtt.hh) as a hostile broker would
// drive it. The first input byte picks the options (version, QoS, a small
// max-packet, echo-topic or none, a request-topic) and where in a list of sends (the text
// view, and messages outside it that go through the connection's echo topic,
// text and binary) the scenario starts sending between messages; the rest
// is split into WebSocket messages (fuzz::chunks) fed to one connection that
// was sent a CONNECT. Checked:
//  - nothing crashes, over-reads (ASan in the libFuzzer build) or loops;
//  - a message event's body lies within max-packet (binary only when echo is
//    on: a delivery on the connection's own topic), and `more` is always
//    followed through next() to an event without it, within as many calls
//    as the message had bytes;
//  - a failed event has a reason, and after it the connection reads nothing;
//  - the codec never sends on a connection that failed.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "proto/codec_mqtt.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::proto;

namespace {

struct counting_output final : codec_output {
  size_t sends = 0;
  bool send(ws_opcode, std::span<const uint8_t>) noexcept override {
    ++sends;
    return true;
  }
};

struct no_stats final : codec_stats {
  void count(uint32_t, uint64_t) noexcept override {}
  void time(uint32_t, uint64_t) noexcept override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t choice = data[0];
  codec_options options = {{"version", (choice & 1) != 0 ? "5" : "3.1.1"},
                           {"qos", (choice & 2) != 0 ? "1" : "0"},
                           {"max-packet", (choice & 4) != 0 ? "64" : "4096"},
                           {"echo-topic", (choice & 64) != 0 ? "none" : "horde/echo/{conn}"}};
  if ((choice & 192) == 128) options.emplace_back("request-topic", "svc/{conn}");
  const size_t max_packet = (choice & 4) != 0 ? 64 : 4096;
  const std::vector<uint32_t> ids = {3};
  no_stats stats;
  auto made = mqtt_codec_info().make({options, ids, stats, 0});
  HORDE_FUZZ_CHECK(made.has_value());
  codec& c = **made;
  counting_output out;
  c.open(0, out, 0);
  bool failed = false;
  uint64_t now = 1;
  horde::fuzz::chunks pieces(data + 1, size - 1);
  std::string_view piece;
  struct message {
    std::string_view text;
    ws_opcode opcode;
  };
  static const message sends[] = {
      {"SUB a", ws_opcode::text},      {"PUB a x y", ws_opcode::text},
      {"UNSUB a", ws_opcode::text},    {"PUB b", ws_opcode::text},
      {"hs1.echo", ws_opcode::text},   {"HRD1 binary", ws_opcode::binary},
      {"{\"id\":1}", ws_opcode::text}, {"PUB horde/echo/3 z", ws_opcode::text}};
  size_t turn = 0;
  while (pieces.next(piece)) {
    now += 1'000'000;
    const std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(piece.data()),
                                        piece.size());
    const size_t sent_before = out.sends;
    codec_event e = c.receive(0, ws_opcode::binary, body, now);
    for (size_t calls = 0;; ++calls) {
      HORDE_FUZZ_CHECK(calls <= piece.size());
      if (e.what == codec_event::kind::message) {
        HORDE_FUZZ_CHECK(e.body.size() <= max_packet);
        HORDE_FUZZ_CHECK(!e.binary || (choice & 64) == 0);
      }
      if (e.what == codec_event::kind::failed) {
        HORDE_FUZZ_CHECK(!e.why.empty());
        failed = true;
      }
      if (!e.more) break;
      e = c.next(0, now);
    }
    if (failed) {
      HORDE_FUZZ_CHECK(c.receive(0, ws_opcode::binary, body, now).what ==
                       codec_event::kind::consumed);
      c.flush(0, out, now);
      HORDE_FUZZ_CHECK(out.sends == sent_before);
      break;
    }
    c.flush(0, out, now);
    const message& send = sends[((choice >> 3) + turn++) & 7];
    c.send(0, out, send.opcode,
           {reinterpret_cast<const uint8_t*>(send.text.data()), send.text.size()}, now);
    if (c.next_due_ns(0) != 0 && c.next_due_ns(0) <= now + 60'000'000'000) c.on_due(0, out, now);
  }
  c.gone(0);
  return 0;
}

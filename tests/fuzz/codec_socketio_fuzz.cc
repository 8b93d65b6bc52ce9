// Fuzzes the Socket.IO codec (proto/codec_socketio.hh) with what a server
// sends and what a scenario asks to send, on one connection.
//
// Input: a control byte, then pieces (fuzz_support.hh's chunks). The control
// byte's bit 0 sets namespace=/chat. Each piece's first byte picks an action
// (mod 8): 0-4 the rest is a text frame from the server, 5 a binary frame,
// 6 a scenario message to send (binary when bit 3 is set), 7 time passes (byte 1 of the piece, in
// 100 ms steps) and due work runs; a receive that owes a reply is flushed.
// Checked: a failure has a reason and is final (nothing is handed up after
// it, nothing is due) until the slot is opened again; a message is handed
// up only after `ready`, and is no larger than the frame plus the ack
// wrapper; the codec never sends more than one frame per send or two per
// flush; every frame it sends is Engine.IO text ("3", "40...", "42..."),
// or a binary attachment right after its "451-" header.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/codec_socketio.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

struct sink final : codec_output, codec_stats {
  bool send(ws_opcode opcode, std::span<const uint8_t> body) noexcept override {
    if (opcode == ws_opcode::binary) {
      HORDE_FUZZ_CHECK(announced);  // only after its 451- header
    } else {
      HORDE_FUZZ_CHECK(opcode == ws_opcode::text);
      HORDE_FUZZ_CHECK(!body.empty());
      HORDE_FUZZ_CHECK(body[0] == '3' || body[0] == '4');
    }
    const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
    announced = opcode == ws_opcode::text && text.substr(0, 4) == "451-";
    ++frames;
    return true;
  }
  void count(uint32_t counter, uint64_t) noexcept override { HORDE_FUZZ_CHECK(counter < 10); }
  void time(uint32_t histogram, uint64_t) noexcept override { HORDE_FUZZ_CHECK(histogram < 2); }
  size_t frames = 0;
  bool announced = false;
};

constexpr uint64_t step_ns = 100'000'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  codec_options options;
  if ((data[0] & 1) != 0) options.emplace_back("namespace", "/chat");
  const uint32_t ids[] = {7};
  sink out;
  const codec_setup setup{options, ids, out, 1};
  auto made = socketio_codec_info().make(setup);
  HORDE_FUZZ_CHECK(made.has_value());
  codec& c = **made;

  uint64_t now = step_ns;
  bool ready = false, failed = false;
  c.open(0, out, now);
  auto handle = [&](const codec_event& e, size_t frame_size) {
    if (failed) HORDE_FUZZ_CHECK(e.what == codec_event::kind::consumed);
    switch (e.what) {
      case codec_event::kind::failed:
        HORDE_FUZZ_CHECK(!e.why.empty());
        HORDE_FUZZ_CHECK(c.next_due_ns(0) == 0);
        failed = true;
        break;
      case codec_event::kind::ready:
        HORDE_FUZZ_CHECK(!ready);
        ready = true;
        break;
      case codec_event::kind::message:
        HORDE_FUZZ_CHECK(ready);
        HORDE_FUZZ_CHECK(e.body.size() <= frame_size + 32);
        break;
      case codec_event::kind::consumed:
        break;
    }
    if (e.reply) {
      const size_t before = out.frames;
      c.flush(0, out, now);
      HORDE_FUZZ_CHECK(out.frames - before <= 2);
    }
  };

  horde::fuzz::chunks pieces(data + 1, size - 1);
  std::string_view piece;
  while (pieces.next(piece)) {
    if (piece.empty()) continue;
    const uint8_t action = uint8_t(piece[0]) % 8;
    const std::string_view rest = piece.substr(1);
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(rest.data()),
                                         rest.size());
    if (action <= 4) {
      handle(c.receive(0, ws_opcode::text, bytes, now), rest.size());
    } else if (action == 5) {
      handle(c.receive(0, ws_opcode::binary, bytes, now), rest.size());
    } else if (action == 6) {
      const bool binary = (uint8_t(piece[0]) & 8) != 0;
      const size_t before = out.frames;
      c.send(0, out, binary ? ws_opcode::binary : ws_opcode::text, bytes, now);
      HORDE_FUZZ_CHECK(out.frames - before <= (binary ? 2u : 1u));
    } else {
      now += step_ns * (rest.empty() ? 1 : uint8_t(rest[0]));
      const uint64_t due = c.next_due_ns(0);
      if (due != 0 && due <= now) handle(c.on_due(0, out, now), 0);
    }
    if (failed && action == 7) {  // the shard would reconnect: the slot starts over
      c.gone(0);
      c.open(0, out, now);
      failed = ready = false;
    }
  }
  c.gone(0);
  HORDE_FUZZ_CHECK(c.next_due_ns(0) == 0);
  return 0;
}

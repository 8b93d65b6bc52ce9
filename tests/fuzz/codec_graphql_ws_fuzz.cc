// Fuzzes the graphql-transport-ws codec (proto/codec_graphql_ws.hh) with what
// a server sends, interleaved with what the shard and the scenario do.
//
// Input: lines. Each line's first byte picks the action and its second byte
// the slot (bit 0) and how far the clock moves first (the rest, in ms); the
// rest of the line is the message, if the action takes one:
//   0 open   1 receive text   2 receive binary   3 flush   4 scenario send
//   (binary when the message starts with \x01)   5 due (whatever is due on
//   the slot)   6 gone   7 receive text (again, so most lines are server
//   messages)
// The codec runs with echo-query, so bare messages become echo operations
// and the answers to "~b"/"~t" ids are read back; subscriptions the scenario
// starts are tracked until their complete.
// Every message is copied into a buffer of exactly its size, so ASan flags a
// read past it. A failed event ends the connection (gone), as the shard does.
// Checked: nothing crashes; a failure has a one-line reason; `ready` comes
// once per open; a message is handed up only on a ready
// slot and is the bytes received, unchanged (an echo's answer: what it
// carried, never longer than the message); each flush sends exactly the
// pongs owed (one per ping received since, at most 1024); everything sent is
// text; a subscribe without an id, or a bare message, goes out with a "~"
// id, each one new.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "proto/codec_graphql_ws.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;
using kind = codec_event::kind;

struct output final : codec_output {
  std::vector<std::string> sent;
  bool send(ws_opcode opcode, std::span<const uint8_t> body) noexcept override {
    HORDE_FUZZ_CHECK(opcode == ws_opcode::text);
    sent.emplace_back(reinterpret_cast<const char*>(body.data()), body.size());
    return true;
  }
};

struct null_stats final : codec_stats {
  void count(uint32_t counter, uint64_t) noexcept override {
    HORDE_FUZZ_CHECK(counter < graphql_ws_metric::counter_count);
  }
  void time(uint32_t histogram, uint64_t) noexcept override {
    HORDE_FUZZ_CHECK(histogram < graphql_ws_metric::histogram_count);
  }
};

struct slot_model {
  bool open = false, ready = false;
  size_t pings = 0;                // received since the last flush
  std::set<std::string> assigned;  // ids the codec gave on this connection
};

void check_event(const codec_event& e) {
  if (e.what == kind::failed) {
    HORDE_FUZZ_CHECK(!e.why.empty());
    HORDE_FUZZ_CHECK(e.why.find('\n') == std::string_view::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const codec_options options = {{"ping-interval", "1s"},
                                 {"ack-timeout", "3s"},
                                 {"echo-query", "query($t:String!){echo(text:$t)}"}};
  const std::vector<uint32_t> ids = {0, 1};
  null_stats stats;
  auto made = make_graphql_ws_codec({options, ids, stats, 1});
  HORDE_FUZZ_CHECK(bool(made));
  codec& c = **made;
  output out;
  slot_model slots[2];
  uint64_t now = 1'000'000'000'000;

  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (input.size() >= 2) {
    const size_t newline = input.find('\n');
    const std::string_view line = input.substr(0, newline);
    input.remove_prefix(newline == std::string_view::npos ? input.size() : newline + 1);
    if (line.size() < 2) continue;
    const uint8_t action = uint8_t(line[0]) % 8;
    const uint32_t slot = uint8_t(line[1]) & 1;
    now += uint64_t(uint8_t(line[1]) >> 1) * 1'000'000;
    const std::string message(line.substr(2));  // exactly its size: ASan sees over-reads
    const std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(message.data()),
                                        message.size());
    slot_model& s = slots[slot];
    codec_event e;
    const size_t sent_before = out.sent.size();
    switch (action) {
      case 0:
        e = c.open(slot, out, now);
        s = {};
        s.open = true;
        HORDE_FUZZ_CHECK(e.what == kind::consumed);
        break;
      case 1:
      case 2:
      case 7:
        if (!s.open) continue;
        e = c.receive(slot, action == 2 ? ws_opcode::binary : ws_opcode::text, body, now);
        if (e.reply) ++s.pings;
        HORDE_FUZZ_CHECK(s.pings <= 1024);
        if (e.what == kind::ready) {
          HORDE_FUZZ_CHECK(!s.ready);
          s.ready = true;
        }
        if (e.what == kind::message) {
          HORDE_FUZZ_CHECK(s.ready && action != 2);
          const std::string_view handed(reinterpret_cast<const char*>(e.body.data()),
                                        e.body.size());
          const bool echo = message.find("\"~") != std::string::npos;
          HORDE_FUZZ_CHECK(handed == message || (echo && handed.size() <= message.size()));
        }
        break;
      case 3:
        if (!s.open) continue;
        HORDE_FUZZ_CHECK(c.flush(slot, out, now));
        HORDE_FUZZ_CHECK(out.sent.size() - sent_before == s.pings);
        s.pings = 0;
        break;
      case 4:
        if (!s.ready) continue;
        if (c.send(slot, out,
                   !message.empty() && message[0] == '\x01' ? ws_opcode::binary : ws_opcode::text,
                   body, now) &&
            out.sent.back() != message) {
          const std::string& sent = out.sent.back();
          const size_t id = sent.find("\"id\":\"~");
          HORDE_FUZZ_CHECK(id != std::string::npos);
          HORDE_FUZZ_CHECK(s.assigned.insert(sent.substr(id, sent.find('"', id + 7) - id)).second);
        }
        break;
      case 5:
        if (!s.open || c.next_due_ns(slot) == 0 || c.next_due_ns(slot) > now) continue;
        e = c.on_due(slot, out, now);
        break;
      case 6:
        c.gone(slot);
        HORDE_FUZZ_CHECK(c.next_due_ns(slot) == 0);
        s = {};
        break;
    }
    check_event(e);
    if (e.what == kind::failed) {
      c.gone(slot);
      s = {};
    }
  }
  return 0;
}

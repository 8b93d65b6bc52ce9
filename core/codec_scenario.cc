#include "core/codec_scenario.hh"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "core/clock.hh"

namespace horde::core {

namespace {

// The codec writes through the connection's own port.
class port_output final : public proto::codec_output {
 public:
  explicit port_output(scenario_port& port) : _port(port) {}
  bool send(proto::ws_opcode opcode, std::span<const uint8_t> body) noexcept override {
    return _port.send(opcode, body);
  }

 private:
  scenario_port& _port;
};

}  // namespace

// What the inner scenario holds as its port: its sends go through the codec.
class codec_scenario::encoding_port final : public scenario_port {
 public:
  encoding_port(proto::codec& codec, scenario_port& raw, uint32_t slot)
      : _codec(codec), _raw(raw), _slot(slot) {}
  bool send(proto::ws_opcode opcode, std::span<const uint8_t> body) noexcept override {
    port_output out(_raw);
    return _codec.send(_slot, out, opcode, body, now_ns());
  }
  void close(uint16_t code) noexcept override { _raw.close(code); }
  void fail(failure_reason reason) noexcept override { _raw.fail(reason); }

 private:
  proto::codec& _codec;
  scenario_port& _raw;
  uint32_t _slot;
};

// The shard as the inner scenario sees it: a slot is open once its
// handshake is done, and its port encodes. Ports are handed out one at a
// time (each call replaces the last), as the shard's own are.
class codec_scenario::wrapped_access final : public shard_access {
 public:
  wrapped_access(codec_scenario& self, shard_access& shard) : _self(self), _shard(shard) {}
  scenario_port* port_of(uint32_t slot) noexcept override {
    if ((_self._flags[slot] & (ready | open_queued)) != ready) return nullptr;
    scenario_port* raw = _shard.port_of(slot);
    if (raw == nullptr) return nullptr;
    _port.emplace(*_self._codec, *raw, slot);
    return &*_port;
  }
  void rescheduled(uint32_t slot) noexcept override { _shard.rescheduled(slot); }

 private:
  codec_scenario& _self;
  shard_access& _shard;
  std::optional<encoding_port> _port;
};

codec_scenario::codec_scenario(const protocol_plan& plan, shard_metrics& metrics,
                               std::span<const uint32_t> conn_ids, uint64_t seed,
                               std::unique_ptr<scenario> inner)
    : _plan(plan), _metrics(metrics), _inner(std::move(inner)), _flags(conn_ids.size()) {
  const proto::codec_setup setup{plan.options, conn_ids, *this, seed};
  auto made = plan.codec->make(setup);
  if (!made) {
    // The app made one with the same options before the run: unreachable
    // unless a codec's checks depend on more than its options.
    std::fprintf(stderr, "horde: --protocol %.*s: %s\n", int(plan.codec->name.size()),
                 plan.codec->name.data(), made.error().message.c_str());
    std::abort();
  }
  _codec = std::move(*made);
}

codec_scenario::~codec_scenario() = default;

void codec_scenario::count(uint32_t counter, uint64_t n) noexcept {
  _metrics.counters.named[_plan.first_counter + counter].add(n);
}

void codec_scenario::time(uint32_t histogram, uint64_t ns) noexcept {
  _metrics.latency.named[_plan.first_histogram + histogram].record(ns);
}

void codec_scenario::on_open(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  _flags[slot] = 0;
  port_output out(port);
  handle(slot, port, _codec->open(slot, out, now), now);
}

void codec_scenario::on_message(uint32_t slot, scenario_port& port, proto::ws_opcode opcode,
                                std::span<const uint8_t> body, uint64_t received_ns) noexcept {
  proto::codec_event event = _codec->receive(slot, opcode, body, received_ns);
  while (on_received(slot, port, event, received_ns) && event.more)
    event = _codec->next(slot, received_ns);
}

// An event from receive() or next(); false when the connection failed.
bool codec_scenario::on_received(uint32_t slot, scenario_port& port,
                                 const proto::codec_event& event, uint64_t received_ns) noexcept {
  if (event.reply) queue(slot, reply_queued, received_ns);
  switch (event.what) {
    case proto::codec_event::kind::message:
      if ((_flags[slot] & ready) != 0) {
        encoding_port inner_port(*_codec, port, slot);
        _inner->on_message(slot, inner_port,
                           event.binary ? proto::ws_opcode::binary : proto::ws_opcode::text,
                           event.body, received_ns);
      } else {
        // Before the handshake completed: the protocol's order was broken.
        _metrics.counters.protocol_failures.fail_with(
            failure_reason::app_protocol_error,
            "a message before the protocol's handshake completed");
        port.fail(failure_reason::app_protocol_error);
        return false;
      }
      break;
    case proto::codec_event::kind::ready:
      // The inner scenario's on_open sends: not from inside a receive.
      _flags[slot] |= ready;
      queue(slot, open_queued, received_ns);
      break;
    case proto::codec_event::kind::failed:
      fail(slot, port, event.why);
      return false;
    case proto::codec_event::kind::consumed:
      break;
  }
  return true;
}

// An event from open or on_due: sending is allowed here.
void codec_scenario::handle(uint32_t slot, scenario_port& port, const proto::codec_event& event,
                            uint64_t now) noexcept {
  switch (event.what) {
    case proto::codec_event::kind::ready:
      start_inner(slot, port, now);
      break;
    case proto::codec_event::kind::failed:
      fail(slot, port, event.why);
      return;
    case proto::codec_event::kind::message:  // only receive() hands messages up
    case proto::codec_event::kind::consumed:
      break;
  }
  if (event.reply) {
    port_output out(port);
    _codec->flush(slot, out, now);
  }
}

// The codec's one line goes beside the reason (per failure: the report
// shows each distinct text with its count).
void codec_scenario::fail(uint32_t slot, scenario_port& port, std::string_view why) noexcept {
  const failure_reason reason = (_flags[slot] & ready) != 0
                                    ? failure_reason::app_protocol_error
                                    : failure_reason::app_protocol_handshake;
  _metrics.counters.protocol_failures.fail_with(reason, why);
  port.fail(reason);
}

void codec_scenario::start_inner(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  _flags[slot] = uint8_t((_flags[slot] | ready) & ~open_queued);
  _metrics.counters.protocol_ready.add();
  encoding_port inner_port(*_codec, port, slot);
  _inner->on_open(slot, inner_port, now);
}

void codec_scenario::queue(uint32_t slot, slot_flags flag, uint64_t now) noexcept {
  if ((_flags[slot] & (open_queued | reply_queued)) == 0) _queued.push_back(slot);
  _flags[slot] |= flag;
  if (_queued_since_ns == 0) _queued_since_ns = now;
}

uint64_t codec_scenario::next_due_ns(uint32_t slot) const noexcept {
  uint64_t when = _codec->next_due_ns(slot);
  if ((_flags[slot] & ready) != 0 && (_flags[slot] & open_queued) == 0) {
    const uint64_t inner = _inner->next_due_ns(slot);
    if (inner != 0 && (when == 0 || inner < when)) when = inner;
  }
  return when;
}

void codec_scenario::on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept {
  const uint64_t codec_due = _codec->next_due_ns(slot);
  if (codec_due != 0 && codec_due <= now) {
    port_output out(port);
    const proto::codec_event event = _codec->on_due(slot, out, now);
    handle(slot, port, event, now);
    if (event.what == proto::codec_event::kind::failed) return;
  }
  if ((_flags[slot] & ready) == 0 || (_flags[slot] & open_queued) != 0) return;
  const uint64_t inner_due = _inner->next_due_ns(slot);
  if (inner_due != 0 && inner_due <= now) {
    encoding_port inner_port(*_codec, port, slot);
    _inner->on_due(slot, inner_port, now);
  }
}

void codec_scenario::on_gone(uint32_t slot) noexcept {
  _codec->gone(slot);
  _flags[slot] = 0;  // a queued open or reply for it is dropped
  _inner->on_gone(slot);
}

uint64_t codec_scenario::shard_due_ns() const noexcept {
  const uint64_t inner = _inner->shard_due_ns();
  if (_queued.empty()) return inner;
  return inner != 0 && inner < _queued_since_ns ? inner : _queued_since_ns;
}

void codec_scenario::on_shard_due(shard_access& shard, uint64_t now) noexcept {
  // Handling a slot may queue another (an inner send answered at once is
  // not: sends never receive), so the list is swapped out first.
  std::vector<uint32_t> queued;
  queued.swap(_queued);
  _queued_since_ns = 0;
  for (const uint32_t slot : queued) {
    const uint8_t flags = _flags[slot];
    // Gone since (its flags were cleared), or listed twice.
    if ((flags & (open_queued | reply_queued)) == 0) continue;
    _flags[slot] = uint8_t(flags & ~(open_queued | reply_queued));
    scenario_port* port = shard.port_of(slot);
    if (port == nullptr) continue;  // gone meanwhile
    if ((flags & reply_queued) != 0) {
      port_output out(*port);
      if (!_codec->flush(slot, out, now)) continue;
    }
    if ((flags & open_queued) != 0) start_inner(slot, *port, now);
    shard.rescheduled(slot);
  }
  if (_queued.empty()) {  // keep the list's memory for the next turn
    queued.clear();
    _queued.swap(queued);
  }
  wrapped_access access(*this, shard);
  _inner->on_shard_due(access, now);
}

}  // namespace horde::core

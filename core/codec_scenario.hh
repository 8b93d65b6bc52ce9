// A scenario over an application protocol (--protocol, proto/codec.hh): the
// codec between the connection and the scenario that runs on it. The
// scenario starts on a connection once the protocol's handshake is done (a
// Socket.IO namespace joined, a CONNACK), sends application messages that the
// codec encodes, and receives what the codec decodes; the codec's own
// traffic (keep-alives, acknowledgements) never reaches it.
//
// What the codec must answer from inside a receive (a Socket.IO ping, an
// MQTT PUBACK) and a handshake completed by a receive are queued per shard
// and handled as shard-wide work in the same loop turn, since nothing may be
// sent while a session is mid-read (core/scenario.hh).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/metrics.hh"
#include "core/plan.hh"
#include "core/scenario.hh"
#include "proto/codec.hh"

namespace horde::core {

class codec_scenario final : public scenario, private proto::codec_stats {
 public:
  // The codec is made here, for `slots` connections (the plan's protocol was
  // checked when the plan was built).
  codec_scenario(const protocol_plan& plan, shard_metrics& metrics,
                 std::span<const uint32_t> conn_ids, uint64_t seed,
                 std::unique_ptr<scenario> inner);
  ~codec_scenario() override;

  void on_open(uint32_t slot, scenario_port& port, uint64_t now) noexcept override;
  void on_message(uint32_t slot, scenario_port& port, proto::ws_opcode opcode,
                  std::span<const uint8_t> body, uint64_t received_ns) noexcept override;
  uint64_t next_due_ns(uint32_t slot) const noexcept override;
  void on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept override;
  void on_gone(uint32_t slot) noexcept override;
  uint64_t shard_due_ns() const noexcept override;
  void on_shard_due(shard_access& shard, uint64_t now) noexcept override;
  void stop_sending() noexcept override { _inner->stop_sending(); }
  bool all_answered() const noexcept override { return _inner->all_answered(); }

  // The scenario this one wraps.
  scenario& inner() noexcept { return *_inner; }

 private:
  class encoding_port;
  class wrapped_access;
  enum slot_flags : uint8_t {
    ready = 1,         // the handshake is done: the inner scenario runs
    open_queued = 2,   // ... done inside a receive: on_open waits for shard work
    reply_queued = 4,  // the codec has an answer to flush
  };

  void count(uint32_t counter, uint64_t n) noexcept override;
  void time(uint32_t histogram, uint64_t ns) noexcept override;
  bool on_received(uint32_t slot, scenario_port& port, const proto::codec_event& event,
                   uint64_t received_ns) noexcept;
  void handle(uint32_t slot, scenario_port& port, const proto::codec_event& event,
              uint64_t now) noexcept;
  void fail(uint32_t slot, scenario_port& port, std::string_view why) noexcept;
  void queue(uint32_t slot, slot_flags flag, uint64_t now) noexcept;
  void start_inner(uint32_t slot, scenario_port& port, uint64_t now) noexcept;

  const protocol_plan& _plan;
  shard_metrics& _metrics;
  std::unique_ptr<proto::codec> _codec;
  std::unique_ptr<scenario> _inner;
  std::vector<uint8_t> _flags;    // per slot
  std::vector<uint32_t> _queued;  // slots with open_queued or reply_queued
  uint64_t _queued_since_ns = 0;
};

}  // namespace horde::core

// What real clients do on an open connection, beyond the stamped echo:
// requests on an open-loop schedule, each matched to its reply by a JSON
// field (JSON-RPC 2.0's id), streams answered by many frames until an end
// frame, application heartbeats, and listen-only connections that count and
// time what the server pushes (core/plan.hh: steps_plan).
//
// Latency runs from each request's *scheduled* send time to the kernel's
// receive stamp of its reply (coordinated omission corrected, as for the
// echo). A reply is read once, by one simdjson On Demand pass over the few
// fields every rule needs (proto/json_fields.hh), never a DOM.
//
// Per connection: the schedule of each request kind (16 bytes each), the
// heartbeat's (24 bytes), and the requests in flight, in a vector that holds
// memory only while something is in flight and is bounded per connection.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/connection_vars.hh"
#include "core/plan.hh"
#include "core/scenario.hh"
#include "proto/json_fields.hh"
#include "proto/mask_source.hh"

namespace horde::core {

class request_scenario final : public scenario {
 public:
  // In flight per connection: past it the oldest request is counted timed out.
  static constexpr size_t max_in_flight = 256;

  request_scenario(const client_plan& plan, shard_metrics& metrics, proto::mask_source& random,
                   std::span<const uint32_t> conn_ids, const connection_vars& vars,
                   uint64_t end_ns);

  void on_open(uint32_t slot, scenario_port& port, uint64_t now) noexcept override;
  void on_message(uint32_t slot, scenario_port& port, proto::ws_opcode opcode,
                  std::span<const uint8_t> body, uint64_t received_ns) noexcept override;
  uint64_t next_due_ns(uint32_t slot) const noexcept override;
  void on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept override;
  void on_gone(uint32_t slot) noexcept override;
  void stop_sending() noexcept override { _sending = false; }
  bool all_answered() const noexcept override { return _outstanding == 0; }

 private:
  struct kind_state {
    uint64_t next_send_ns = 0;  // 0: nothing scheduled
    uint64_t seq = 0;           // requests of this kind sent on this connection
  };
  struct heartbeat_state {
    uint64_t next_ns = 0;
    uint64_t sent_ns = 0;  // scheduled time of the one awaiting its reply; 0 = none
    uint64_t deadline_ns = 0;
  };
  struct in_flight {
    uint64_t key_hash;      // of the rendered correlation key
    uint64_t scheduled_ns;  // the request's scheduled send time
    uint64_t deadline_ns;
    uint64_t last_frame_ns;  // streams: the previous frame's arrival
    uint32_t frames;         // streams: frames so far
    uint8_t kind;
  };
  struct slot_state {
    std::vector<in_flight> waiting;
    heartbeat_state heartbeat;
    uint64_t last_push_ns = 0;  // listen-only: the previous push
  };

  kind_state& kind_of(uint32_t slot, size_t k) noexcept { return _kinds[slot * _kind_count + k]; }
  const kind_state& kind_of(uint32_t slot, size_t k) const noexcept {
    return _kinds[slot * _kind_count + k];
  }
  void count(uint32_t metric, uint64_t n = 1) noexcept;
  void time(uint32_t metric, uint64_t ns) noexcept;
  proto::var_values values_for(uint32_t slot, uint64_t seq) noexcept;
  bool send_request(uint32_t slot, scenario_port& port, size_t k, uint64_t scheduled) noexcept;
  void send_heartbeat(uint32_t slot, scenario_port& port, uint64_t now) noexcept;
  void expire(uint32_t slot, uint64_t now) noexcept;
  bool take_reply(uint32_t slot, std::span<const uint8_t> body, uint64_t received_ns) noexcept;
  void finish_request(slot_state& s, size_t index) noexcept;
  uint64_t gap_ns(const request_kind& k) const noexcept;

  const client_plan& _plan;
  const steps_plan& _steps;
  shard_metrics& _metrics;
  proto::mask_source& _random;
  std::span<const uint32_t> _ids;
  const connection_vars& _vars;
  const uint64_t _end_ns;
  const size_t _kind_count;
  std::vector<kind_state> _kinds;  // slot * kinds + kind
  std::vector<slot_state> _slots;

  // The fields one pass reads from each message, each pointer once: where
  // each rule finds its field in _fields.
  std::vector<proto::json_pointer> _pointers;
  std::vector<uint8_t> _match_field, _error_field, _end_field;
  uint8_t _expect_field = 0;
  std::vector<proto::json_scalar> _fields;
  proto::json_reader _reader;

  std::string _scratch;  // a rendered message or key
  uint64_t _random_state;
  uint64_t _outstanding = 0;  // requests in flight on all connections
  bool _needs_clock = false;  // a template prints {now}, {now_ms} or {now+N}
  bool _sending = true;
};

}  // namespace horde::core

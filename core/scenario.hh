// What one connection does once it is open: the scenario layer, below the
// shard loop and above the connection's lifecycle and transport. A scenario
// is I/O-free: it sees a connection as a slot number and a small port through
// which it sends, closes or fails that connection, and is given its context
// (slot, port, time) in every call, never through members set beforehand (as
// uWebSockets' consume(src, len, user) does). Echo and pub/sub are scenarios;
// request/response, streams and protocol profiles will be.
//
// The shard loop folds every scenario's deadlines (next_due_ns per connection
// on the connection's timer, shard_due_ns for work of the whole shard) as
// Seastar's reactor composes its pollers: a new kind of work registers a
// deadline, it does not add a term to the loop.
#pragma once

#include <cstdint>
#include <span>

#include "core/metrics.hh"
#include "proto/ws_session.hh"

namespace horde::core {

// What a scenario may do to the connection it was called for.
class scenario_port {
 public:
  // Queues one message; false when the connection is gone (its session
  // failed: the connection is torn down and counted by the port).
  virtual bool send(proto::ws_opcode opcode, std::span<const uint8_t> body) noexcept = 0;
  // Starts a close handshake with this code.
  virtual void close(uint16_t code) noexcept = 0;
  // Ends the connection as failed, for this reason.
  virtual void fail(failure_reason reason) noexcept = 0;

 protected:
  ~scenario_port() = default;
};

class scenario {
 public:
  virtual ~scenario() = default;

  // The connection in `slot` is open (a verified 101, or a raw TCP connect).
  virtual void on_open(uint32_t slot, scenario_port& port, uint64_t now) noexcept = 0;
  // A complete message from the server, received at received_ns (the
  // kernel's stamp). It may fail or close the connection through the port,
  // but not send: the session is mid-read (queue the answer and send it from
  // on_due or on_shard_due, as pub/sub does with its rejoins).
  virtual void on_message(uint32_t slot, scenario_port& port, proto::ws_opcode opcode,
                          std::span<const uint8_t> body, uint64_t received_ns) noexcept = 0;
  // The next time this connection has something to do; 0 = nothing.
  virtual uint64_t next_due_ns(uint32_t slot) const noexcept = 0;
  // That time has come (or passed).
  virtual void on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept = 0;
  // The connection ended, for whatever reason: it expects nothing more.
  virtual void on_gone(uint32_t slot) noexcept = 0;

  // Work of the whole shard (a publish start, churn): the next time, and the
  // call. A scenario with none keeps the defaults.
  virtual uint64_t shard_due_ns() const noexcept { return 0; }
  // What shard-wide work may reach: the port of an open connection's slot
  // (nullptr when it is not open), and a way to say that a slot's
  // next_due_ns changed so its timer is set again.
  class shard_access {
   public:
    virtual scenario_port* port_of(uint32_t slot) noexcept = 0;
    virtual void rescheduled(uint32_t slot) noexcept = 0;

   protected:
    ~shard_access() = default;
  };
  virtual void on_shard_due(shard_access&, uint64_t /*now*/) noexcept {}

  // Sending is over (the run's end or a stop): nothing new is scheduled.
  virtual void stop_sending() noexcept = 0;
  // Everything sent has been answered, so the drain may end early.
  virtual bool all_answered() const noexcept = 0;
};

}  // namespace horde::core

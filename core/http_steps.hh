// The HTTP steps a connection makes before its upgrade (a login: POST
// /sessions, then the JWT it answers with in the upgrade's header), as the
// lifecycle layer runs them on the connection's own socket: render a step's
// request from the connection's variables, and judge its answer — the
// status it expects, the captures it keeps. I/O-free: bytes in, bytes out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/connection_vars.hh"
#include "core/metrics.hh"
#include "core/plan.hh"
#include "proto/http_response.hh"
#include "proto/json_fields.hh"

namespace horde::core {

class http_steps {
 public:
  http_steps(const client_plan& plan, shard_metrics& metrics, connection_vars& vars)
      : _plan(plan), _metrics(metrics), _vars(vars) {}

  bool any() const noexcept { return !_plan.http_steps.empty(); }
  size_t count() const noexcept { return _plan.http_steps.size(); }
  uint64_t timeout_ns(size_t step) const noexcept { return _plan.http_steps[step].timeout_ns; }

  // Appends step `step`'s request for the connection in `slot`; false when a
  // variable's value cannot go in a request (a line break in a header).
  bool render(uint32_t slot, size_t step, std::string& out) noexcept;

  // A complete answer to step `step`, `elapsed_ns` after its request: its
  // captures stored, or the reason the connection fails.
  std::optional<failure_reason> judge(uint32_t slot, size_t step,
                                      const proto::http_response_parser& answer,
                                      uint64_t elapsed_ns) noexcept;
  // The step failed before a complete answer (timeout, malformed, closed).
  void count_failed(size_t step) noexcept;

 private:
  void count(uint32_t metric) noexcept {
    if (metric != no_metric) _metrics.counters.named[metric].add();
  }

  const client_plan& _plan;
  shard_metrics& _metrics;
  connection_vars& _vars;
  proto::json_reader _reader;
  std::string _line;
  uint64_t _random_state = 0x9e3779b97f4a7c15ull;
};

}  // namespace horde::core

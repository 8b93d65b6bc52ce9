// The same planner as `horde tune`, before a single connect: a plan the
// kernel cannot carry is refused with the fix (unless --force), and what
// horde adapts or warns about goes into the report's notes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/run_plan.hh"
#include "sysctl/planner.hh"

namespace horde::app {

// What the plan asks of the kernel, from its real rates: echo messages (each
// a round trip), or for pub/sub each connection's share of the publishes
// and of the deliveries they owe.
sysctl::plan_needs needs_of(const run_plan& plan);

struct preflight_outcome {
  bool refused = false;                    // a FAIL line and no --force
  std::string refusal;                     // the failing lines as a table, for stderr
  std::vector<std::string> notes;          // warnings, and FAIL lines run anyway with --force
  std::optional<uint64_t> netdev_backlog;  // net.core.netdev_max_backlog as found
  uint64_t planned_netdev_backlog = 0;     // what this run's packet rates want
};

// Reads the kernel's limits under root; when they cannot be read, the
// preflight is skipped and a note says why.
preflight_outcome preflight(const run_plan& plan, bool force, const std::string& root = "/");

}  // namespace horde::app

// One plan run by N processes (docs/distributed.md, "Workers"): which slice
// this process runs, when the slices start together, and what a worker's
// pub/sub needs to know of the others. Pure functions of their arguments.
//
// Slicing: connection c (run-wide id) belongs to worker c % N, so every
// worker holds an even share of the ids, of the publishers (connections
// 0..P-1), of each target (ids pick targets) and of every stage's count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/run_plan.hh"
#include "base/result.hh"
#include "core/group_assignment.hh"

namespace horde::app {

inline constexpr uint32_t max_workers = 100'000;

// --worker i/N, or --workers N with i from JOB_COMPLETION_INDEX (env_index:
// the variable's value, nullopt when unset). Neither: one process, the
// whole plan (enabled false).
result<worker_slice> parse_worker(const std::string& worker, unsigned workers,
                                  const std::optional<std::string>& env_index);

// How many of `whole` items (ids 0..whole-1) worker `index` of `count` holds.
inline uint64_t worker_share(uint64_t whole, uint32_t count, uint32_t index) noexcept {
  return whole / count + (index < whole % count ? 1 : 0);
}

// --start-at: "2026-12-04T20:00:00Z" (RFC 3339, UTC, optional fraction) or
// "@1796500000" (unix seconds, optional fraction), as unix nanoseconds.
// Refused: more than 24 h after now_unix_ns, or more than 60 s before it.
result<uint64_t> parse_start_at(const std::string& text, uint64_t now_unix_ns);

// Per group, the subscriptions held by connections of other workers (the
// deterministic assignment, core/group_assignment.hh, over the whole plan).
std::vector<uint32_t> remote_subscribers(const core::group_layout& layout,
                                         uint64_t whole_connections, worker_slice slice);

}  // namespace horde::app

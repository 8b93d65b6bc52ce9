// The values of a connection's variables (core/plan.hh: vars_plan) for
// rendering its templates: a feeder row's fields, shared by every shard and
// never copied, and what the connection stored for itself (an HTTP step's
// captures, its JWT) in one string per slot. Read per render as a span of
// views, in the plan's order, through a scratch array this class reuses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/plan.hh"

namespace horde::core {

class connection_vars {
 public:
  connection_vars(const vars_plan& plan, std::span<const uint32_t> conn_ids);

  bool empty() const noexcept { return _plan.names.empty(); }
  uint64_t conn_id(uint32_t slot) const noexcept { return _ids[slot]; }
  // Every variable's value for this slot, valid until the next call.
  std::span<const std::string_view> values(uint32_t slot) const noexcept;
  // Stores a value for stored variable `index` (0 = the first after the
  // feeder's columns). Values are set in order for a connection, and
  // forgotten by clear (a reconnect sets them again).
  void set(uint32_t slot, size_t index, std::string_view value);
  void clear(uint32_t slot) noexcept;
  // Bytes this slot holds (for the memory figures).
  size_t bytes(uint32_t slot) const noexcept { return _stored[slot].capacity(); }

 private:
  size_t feeder_row(uint32_t slot) const noexcept;

  const vars_plan& _plan;
  std::span<const uint32_t> _ids;
  std::vector<std::string> _stored;  // per slot: the stored values back to back
  std::vector<uint32_t> _ends;       // slot * stored + i: where value i ends; 0 before set
  mutable std::vector<std::string_view> _scratch;
};

}  // namespace horde::core

#include "core/connection_vars.hh"

namespace horde::core {

connection_vars::connection_vars(const vars_plan& plan, std::span<const uint32_t> conn_ids)
    : _plan(plan), _ids(conn_ids), _scratch(plan.names.size()) {
  if (plan.stored() != 0) {
    _stored.resize(conn_ids.size());
    _ends.assign(conn_ids.size() * plan.stored(), 0);
  }
}

size_t connection_vars::feeder_row(uint32_t slot) const noexcept {
  const uint64_t rows = _plan.feeder->rows();
  const uint64_t conn = _ids[slot];
  if (_plan.order == vars_plan::feeder_order::random) {
    // A fixed shuffle of connection ids (splitmix64's finaliser): the same
    // connection gets the same row in every run and on every reconnect.
    uint64_t z = conn + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return size_t((z ^ (z >> 31)) % rows);
  }
  return size_t(conn % rows);  // `once` was checked at plan time: conn < rows
}

std::span<const std::string_view> connection_vars::values(uint32_t slot) const noexcept {
  size_t i = 0;
  if (_plan.feeder && _plan.feeder->rows() != 0) {
    const size_t row = feeder_row(slot);
    for (; i < _plan.feeder_columns(); ++i)
      _scratch[i] = _plan.feeder->field(row, i);
  }
  i = _plan.feeder_columns();
  for (size_t k = 0; k < _plan.run_count; ++k, ++i)
    _scratch[i] =
        k < _plan.run_values.size() ? std::string_view(_plan.run_values[k]) : std::string_view();
  const size_t stored = _plan.stored();
  if (stored != 0) {
    const std::string& text = _stored[slot];
    uint32_t begin = 0;
    for (size_t k = 0; k < stored; ++k) {
      const uint32_t end = _ends[slot * stored + k];
      _scratch[i + k] =
          end >= begin ? std::string_view(text).substr(begin, end - begin) : std::string_view();
      if (end >= begin) begin = end;
    }
  }
  return _scratch;
}

void connection_vars::set(uint32_t slot, size_t index, std::string_view value) {
  const size_t stored = _plan.stored();
  std::string& text = _stored[slot];
  // Values are set in order: anything after this one is dropped first.
  const uint32_t begin = index == 0 ? 0 : _ends[slot * stored + index - 1];
  text.resize(begin);
  text.append(value);
  _ends[slot * stored + index] = uint32_t(text.size());
  for (size_t k = index + 1; k < stored; ++k)
    _ends[slot * stored + k] = uint32_t(text.size());
}

void connection_vars::clear(uint32_t slot) noexcept {
  if (_plan.stored() == 0) return;
  _stored[slot].clear();
  for (size_t k = 0; k < _plan.stored(); ++k)
    _ends[slot * _plan.stored() + k] = 0;
}

}  // namespace horde::core

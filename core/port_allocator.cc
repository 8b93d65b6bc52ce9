#include "core/port_allocator.hh"

#include <algorithm>
#include <vector>

namespace horde::core {

port_allocator::port_allocator(uint16_t source_count, uint16_t low, uint16_t high,
                               uint32_t shard_index, uint32_t shard_count,
                               std::span<const uint16_t> excluded) {
  if (shard_count == 0) shard_count = 1;
  if (low == 0) low = 1;
  // Thousands of ports may be excluded (reserved, listened on): a bitmap,
  // not a search per port.
  std::vector<bool> skip(65536, false);
  for (uint16_t port : excluded)
    skip[port] = true;
  for (uint32_t port = low; port <= high; ++port) {
    if ((port - low) % shard_count != shard_index) continue;
    if (skip[port]) continue;
    // Port-major order: consecutive connections use different source
    // addresses, spreading them over every address from the start.
    for (uint16_t source = 0; source < source_count; ++source) {
      _ring.push_back({source, uint16_t(port)});
    }
  }
  _free = _ring.size();
}

std::optional<source_port> port_allocator::acquire() noexcept {
  if (_free == 0) return std::nullopt;
  const source_port pair = _ring[_head];
  _head = _head + 1 == _ring.size() ? 0 : _head + 1;
  --_free;
  return pair;
}

void port_allocator::release(source_port pair) noexcept {
  if (_free == _ring.size() || pair.port == 0) return;  // a double release: ignore
  size_t tail = _head + _free;
  if (tail >= _ring.size()) tail -= _ring.size();
  _ring[tail] = pair;
  ++_free;
}

}  // namespace horde::core

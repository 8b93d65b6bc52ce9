// Hands out (source address, local port) pairs for explicit bind(), so the
// kernel's ephemeral-port search — which slows 30-40x once half a range is in
// use — never runs. Each shard owns a disjoint share of the ports (port index
// % shards == shard), on every source address. Released pairs go to the back
// of a FIFO: the longest-rested pair is reused first, which keeps clear of
// 4-tuples still in TIME_WAIT from a recent close.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace horde::core {

struct source_port {
  uint16_t source_index = 0;
  uint16_t port = 0;  // 0: none
};

class port_allocator {
 public:
  port_allocator(uint16_t source_count, uint16_t low, uint16_t high, uint32_t shard_index,
                 uint32_t shard_count, std::span<const uint16_t> excluded);

  std::optional<source_port> acquire() noexcept;
  void release(source_port pair) noexcept;

  size_t capacity() const noexcept { return _ring.size(); }
  size_t in_use() const noexcept { return _ring.size() - _free; }

 private:
  std::vector<source_port> _ring;  // a circular FIFO of free pairs
  size_t _head = 0;
  size_t _free = 0;
};

}  // namespace horde::core

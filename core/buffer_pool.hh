// A provided-buffer ring shared by all connections of a shard: multishot recv
// picks a buffer only when bytes arrive, so an idle connection holds none.
// The shard recycles each buffer as soon as it has fed the bytes onward.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <span>

#include "base/result.hh"

namespace horde::core {

class buffer_pool {
 public:
  buffer_pool() = default;
  ~buffer_pool();
  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;

  // count must be a power of two. Memory is mapped, not touched: pages become
  // resident only as the kernel fills them.
  result<void> init(io_uring* ring, uint16_t group_id, unsigned count, unsigned buffer_size);

  std::span<const uint8_t> bytes(uint16_t buffer_id, unsigned length) const noexcept {
    return {_base + size_t(buffer_id) * _buffer_size, length};
  }

  // Hands a buffer back to the kernel.
  void recycle(uint16_t buffer_id) noexcept {
    io_uring_buf_ring_add(_ring, _base + size_t(buffer_id) * _buffer_size, _buffer_size, buffer_id,
                          io_uring_buf_ring_mask(_count), 0);
    io_uring_buf_ring_advance(_ring, 1);
  }

  uint16_t group_id() const noexcept { return _group_id; }

 private:
  io_uring* _uring = nullptr;
  io_uring_buf_ring* _ring = nullptr;
  uint8_t* _base = nullptr;
  unsigned _count = 0;
  unsigned _buffer_size = 0;
  uint16_t _group_id = 0;
};

}  // namespace horde::core

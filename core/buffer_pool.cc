#include "core/buffer_pool.hh"

#include <sys/mman.h>

#include <cstring>
#include <string>

#include "core/uring_compat.hh"

namespace horde::core {

buffer_pool::~buffer_pool() {
  if (_ring != nullptr) uring_compat::free_buf_ring(_uring, _ring, _count, _group_id);
  if (_base != nullptr) munmap(_base, size_t(_count) * _buffer_size);
}

result<void> buffer_pool::init(io_uring* ring, uint16_t group_id, unsigned count,
                               unsigned buffer_size) {
  _uring = ring;
  _count = count;
  _buffer_size = buffer_size;
  _group_id = group_id;
  void* mem = mmap(nullptr, size_t(count) * buffer_size, PROT_READ | PROT_WRITE,
                   MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return make_error("mmap of receive buffers failed");
  _base = static_cast<uint8_t*>(mem);
  int err = 0;
  _ring = uring_compat::setup_buf_ring(ring, count, group_id, &err);
  if (_ring == nullptr) {
    return make_error(std::string("registering the provided-buffer ring failed: ") +
                      std::strerror(-err) + " (needs Linux 5.19+)");
  }
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i) {
    io_uring_buf_ring_add(_ring, _base + size_t(i) * buffer_size, buffer_size, uint16_t(i), mask,
                          int(i));
  }
  io_uring_buf_ring_advance(_ring, int(count));
  return {};
}

}  // namespace horde::core

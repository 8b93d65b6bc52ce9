// A connection's outgoing bytes. Frames are appended behind the one send in
// flight; when that send completes its bytes are dropped from the front.
// Memory is taken only while bytes wait (an idle connection holds none) and
// comes from the calling thread's heap (the shard's mimalloc heap), the
// smallest blocks through a small per-thread cache of released ones.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

namespace horde::core {

// Released blocks of the smallest size, kept by this thread and handed out
// again before the allocator is asked. A busy pub/sub shard releases a
// connection's buffer after nearly every send and needs one again for its
// next delivery: taking and returning it through mimalloc's generic path cost
// 6.5% of a server shard's time at 500k deliveries/s. Bounded (256 KiB per
// thread), so an idle connection still holds nothing.
class small_block_cache {
 public:
  static constexpr uint32_t block_bytes = 256;
  static constexpr uint32_t max_blocks = 1024;

  small_block_cache() = default;
  ~small_block_cache() {
    for (uint32_t i = 0; i < _count; ++i)
      std::free(_blocks[i]);
  }
  small_block_cache(const small_block_cache&) = delete;
  small_block_cache& operator=(const small_block_cache&) = delete;

  uint8_t* take() noexcept {
    return _count != 0 ? _blocks[--_count] : static_cast<uint8_t*>(std::malloc(block_bytes));
  }
  void give(uint8_t* block) noexcept {
    if (_count < max_blocks) {
      _blocks[_count++] = block;
    } else {
      std::free(block);
    }
  }

  static small_block_cache& of_this_thread() noexcept {
    thread_local small_block_cache cache;
    return cache;
  }

 private:
  uint8_t* _blocks[max_blocks];
  uint32_t _count = 0;
};

class out_buffer {
 public:
  out_buffer() = default;
  ~out_buffer() {
    std::free(_data);
    std::free(_retired);
  }
  out_buffer(const out_buffer&) = delete;
  out_buffer& operator=(const out_buffer&) = delete;

  // The most a buffer may hold: its size and capacity stay 32-bit, and the
  // doubling below can never pass this. A connection's own cap (the plan's
  // send backlog) is far lower; this one only keeps the arithmetic exact.
  static constexpr uint32_t max_bytes = 1u << 30;

  // Returns false if memory ran out or the buffer would pass max_bytes.
  bool append(std::span<const uint8_t> bytes) noexcept {
    if (bytes.size() > max_bytes - _size || !reserve(_size + uint32_t(bytes.size()))) return false;
    std::memcpy(_data + _size, bytes.data(), bytes.size());
    _size += uint32_t(bytes.size());
    return true;
  }

  // Space for n more bytes at the end, committed by commit(n).
  uint8_t* prepare(uint32_t n) noexcept {
    return n <= max_bytes - _size && reserve(_size + n) ? _data + _size : nullptr;
  }
  void commit(uint32_t n) noexcept { _size += n; }

  // The bytes a new send should carry (all waiting bytes); marks them in flight.
  std::span<const uint8_t> start_send() noexcept {
    _in_flight = _size;
    return {_data, _size};
  }
  // A send completed with n bytes written (n may be short).
  void finish_send(uint32_t n) noexcept {
    if (n > _size) n = _size;
    std::memmove(_data, _data + n, _size - n);
    _size -= n;
    _in_flight = 0;
    std::free(_retired);
    _retired = nullptr;
    if (_size == 0) release();
  }

  bool sending() const noexcept { return _in_flight != 0; }
  bool empty() const noexcept { return _size == 0; }
  uint32_t size() const noexcept { return _size; }

  // Only when no send is in flight, on the thread that filled it.
  void release() noexcept {
    if (_capacity == small_block_cache::block_bytes) {
      small_block_cache::of_this_thread().give(_data);
    } else {
      std::free(_data);
    }
    std::free(_retired);
    _retired = nullptr;
    _data = nullptr;
    _size = _capacity = _in_flight = 0;
  }

 private:
  // needed <= max_bytes (the callers check), so doubling stays within 32 bits.
  bool reserve(uint32_t needed) noexcept {
    if (needed <= _capacity) return true;
    if (_capacity == 0 && needed <= small_block_cache::block_bytes) {
      _data = small_block_cache::of_this_thread().take();
      if (_data == nullptr) return false;
      _capacity = small_block_cache::block_bytes;
      return true;
    }
    uint32_t capacity =
        _capacity < small_block_cache::block_bytes ? small_block_cache::block_bytes : _capacity;
    while (capacity < needed)
      capacity *= 2;
    // The kernel may still read the bytes of a send in flight (a full socket
    // makes io_uring retry later from the same address), so while one is in
    // flight the old block is kept until it completes instead of realloc'd.
    uint8_t* grown = nullptr;
    if (_in_flight != 0 && _retired == nullptr) {
      grown = static_cast<uint8_t*>(std::malloc(capacity));
      if (grown == nullptr) return false;
      std::memcpy(grown, _data, _size);
      _retired = _data;
    } else {
      // No send in flight, or the block was already moved once during this
      // send and _data is ours alone.
      grown = static_cast<uint8_t*>(std::realloc(_data, capacity));
    }
    if (grown == nullptr) return false;
    _data = grown;
    _capacity = capacity;
    return true;
  }

  uint8_t* _data = nullptr;
  uint32_t _size = 0;
  uint32_t _capacity = 0;
  uint32_t _in_flight = 0;
  uint8_t* _retired = nullptr;  // the block a send in flight still reads
};

static_assert(sizeof(out_buffer) == 32);

}  // namespace horde::core

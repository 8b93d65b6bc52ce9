// Packs what a completion is about into io_uring's 64-bit user_data:
// the connection slot, the slot's generation when the operation was
// submitted, and the operation. A completion whose generation no longer
// matches its slot belongs to a connection that is gone and is dropped
// (liburing's examples/proxy.h does the same).
#pragma once

#include <cstdint>

namespace horde::core {

enum class op : uint8_t {
  socket,
  setsockopt,
  bind,
  connect,
  send,
  recv,
  cancel,
  close,
  accept,
};

struct op_tag {
  uint32_t slot;
  uint16_t generation;
  op operation;
};

// Layout: bits 0-31 slot, 32-47 generation, 48-55 operation.
constexpr uint64_t pack(op_tag tag) noexcept {
  return uint64_t(tag.slot) | (uint64_t(tag.generation) << 32) | (uint64_t(tag.operation) << 48);
}

constexpr op_tag unpack(uint64_t user_data) noexcept {
  return op_tag{uint32_t(user_data), uint16_t(user_data >> 32), op(uint8_t(user_data >> 48))};
}

static_assert(unpack(pack({123456, 65535, op::close})).slot == 123456);
static_assert(unpack(pack({123456, 65535, op::close})).generation == 65535);
static_assert(unpack(pack({123456, 65535, op::close})).operation == op::close);

}  // namespace horde::core

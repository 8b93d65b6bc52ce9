// Stand-ins for what Debian's liburing 2.3 header lacks but kernel 6.x has.
// Each entry names the liburing release that added it and the kernel that
// implements it; delete an entry when the build's liburing provides it.
// Field offsets follow include/uapi/linux/io_uring.h (struct io_uring_sqe is
// ABI: these never move).
#pragma once

#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace horde::core::uring_compat {

// IORING_OP_BIND: kernel 6.11, liburing 2.7.
inline constexpr uint8_t op_bind = 56;

// IORING_FEAT_MIN_TIMEOUT: kernel 6.12, liburing 2.8. With it the `pad`
// word of 2.3's io_uring_getevents_arg is `min_wait_usec`: a wait for many
// completions lasts at most that long, then ends at the first one.
inline constexpr uint32_t feat_min_timeout = 1U << 15;

// SOCKET_URING_OP_SETSOCKOPT for IORING_OP_URING_CMD on sockets: kernel 6.7,
// liburing 2.5 (io_uring_prep_cmd_sock).
inline constexpr uint32_t socket_op_setsockopt = 3;

// io_uring_prep_bind (liburing 2.7): the address length travels in sqe->addr2,
// which is the `off` field in 2.3's layout.
inline void prep_bind(io_uring_sqe* sqe, int fd, const sockaddr* addr, socklen_t len) {
  io_uring_prep_rw(op_bind, sqe, fd, addr, 0, len);
}

// io_uring_prep_cmd_sock(SOCKET_URING_OP_SETSOCKOPT) (liburing 2.5). 2.3's sqe
// has no names for these fields: cmd_op shares `off` (offset 8), level and
// optname share `addr` (offset 16), optlen shares `file_index` (offset 44),
// optval shares `addr3` (offset 48).
inline void prep_setsockopt(io_uring_sqe* sqe, int fd, int level, int optname, const void* optval,
                            uint32_t optlen) {
  io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, nullptr, 0, 0);
  auto* raw = reinterpret_cast<unsigned char*>(sqe);
  const uint32_t cmd_op = socket_op_setsockopt;
  const uint32_t level32 = uint32_t(level);
  const uint32_t optname32 = uint32_t(optname);
  const uint64_t optval64 = reinterpret_cast<uintptr_t>(optval);
  std::memcpy(raw + 8, &cmd_op, 4);
  std::memcpy(raw + 16, &level32, 4);
  std::memcpy(raw + 20, &optname32, 4);
  std::memcpy(raw + 44, &optlen, 4);
  std::memcpy(raw + 48, &optval64, 8);
}

// io_uring_setup_buf_ring (liburing 2.4): mmap the ring, register it, init it.
// Returns the ring or nullptr with *err = -errno. Kernel 5.19.
inline io_uring_buf_ring* setup_buf_ring(io_uring* ring, unsigned entries, int bgid, int* err) {
  const size_t bytes = size_t(entries) * sizeof(io_uring_buf);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    *err = -errno;
    return nullptr;
  }
  auto* br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uintptr_t>(br);
  reg.ring_entries = entries;
  reg.bgid = uint16_t(bgid);
  // 2.3 names the flags field `pad`; no flags are needed here.
  int ret = io_uring_register_buf_ring(ring, &reg, 0);
  if (ret < 0) {
    munmap(mem, bytes);
    *err = ret;
    return nullptr;
  }
  io_uring_buf_ring_init(br);
  *err = 0;
  return br;
}

inline void free_buf_ring(io_uring* ring, io_uring_buf_ring* br, unsigned entries, int bgid) {
  io_uring_unregister_buf_ring(ring, bgid);
  munmap(br, size_t(entries) * sizeof(io_uring_buf));
}

}  // namespace horde::core::uring_compat

// One io_uring per shard: created inside the shard's own thread (required by
// SINGLE_ISSUER | DEFER_TASKRUN: a ring created elsewhere answers every submit
// with -EEXIST), with a large completion queue and a sparse registered file
// table whose slots the shard hands out itself. Owns the ring fd; not movable
// because liburing keeps pointers into the struct.
#pragma once

#include <liburing.h>

#include <cstdint>

#include "base/result.hh"

namespace horde::core {

struct ring_options {
  unsigned sq_entries = 4096;
  unsigned cq_entries = 65536;    // 100k connections complete in bursts
  unsigned file_table_slots = 0;  // registered (direct) descriptors; 0 = none
};

class ring {
 public:
  ring() = default;
  ~ring();
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;

  // Sets up the ring in the calling thread. Errors name the missing feature.
  result<void> init(const ring_options& options);

  // A submission entry; when the queue is full it submits what is queued
  // first, so a caller never sees nullptr.
  io_uring_sqe* sqe() noexcept;

  // Submits, then sleeps until `min_completions` have arrived or the timeout
  // passes. More than one lets a busy loop sleep through several
  // completions instead of being woken (a context switch, costly in a VM)
  // for each. With min_wait_ns, a completion waits at most that long for
  // the others (kernel 6.12+; before, each completion wakes the loop, since
  // an unbounded wait would hold a receive back, and TCP stamps merged
  // data with its newest arrival). Returns >= 0 or -errno (-ETIME on
  // timeout is not an error).
  int submit_and_wait(uint64_t timeout_ns, unsigned min_completions = 1,
                      uint64_t min_wait_ns = 0) noexcept;

  // Submits and runs deferred task work without waiting.
  int submit_and_poll() noexcept;

  // Submits what is queued without waiting, if at least min_queued entries
  // are: operations issued inline (a loopback send runs whole there) then
  // take their time now, so a timeout computed afterwards is not stretched
  // by them. A few are cheaper submitted with the wait, in one syscall.
  void submit_if_queued(unsigned min_queued) noexcept {
    if (io_uring_sq_ready(&_ring) >= min_queued) io_uring_submit(&_ring);
  }

  // Calls fn(const io_uring_cqe&) for every completion ready, then marks them
  // seen. Returns how many.
  template <class Fn>
  unsigned drain(Fn&& fn) noexcept {
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&_ring, head, cqe) {
      fn(*cqe);
      ++seen;
    }
    io_uring_cq_advance(&_ring, seen);
    return seen;
  }

  io_uring* raw() noexcept { return &_ring; }
  unsigned file_table_slots() const noexcept { return _file_slots; }

  // Whether batched waits are bounded (IORING_FEAT_MIN_TIMEOUT, Linux 6.12+);
  // without it every completion wakes the waiter.
  bool bounds_batched_waits() const noexcept { return _min_timeout; }

 private:
  io_uring _ring{};
  bool _ready = false;
  unsigned _file_slots = 0;
  bool _min_timeout = false;    // IORING_FEAT_MIN_TIMEOUT
  bool _registered_fd = false;  // io_uring_register_ring_fd took
};

// Checks once, at start, that the kernel has every io_uring operation horde
// uses; the error lists each missing one and the kernel version that has it.
result<void> probe_kernel_features();

// The most direct descriptors one ring can register: the kernel caps a file
// table at RLIMIT_NOFILE (soft), which some hosts cannot raise.
unsigned max_file_table_slots() noexcept;

}  // namespace horde::core

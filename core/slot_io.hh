// What every connection slot does the same way on both sides (the client's
// connections, the reference server's peers): tag a submission with the
// slot, its generation and the operation, counting it in flight; end a slot
// by cancelling what is in flight and closing its direct descriptor; and keep
// a few handshake parsers for reuse.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/ring.hh"
#include "core/user_data.hh"

namespace horde::core {

// A submission for `slot` (generation and pending counter of the slot's
// state), tagged so a completion for a reused slot is recognised and dropped.
inline io_uring_sqe* slot_sqe(ring& uring, uint32_t slot, uint16_t generation, uint8_t& pending,
                              op operation) noexcept {
  io_uring_sqe* e = uring.sqe();
  io_uring_sqe_set_data64(e, pack({slot, generation, operation}));
  ++pending;
  return e;
}

// Ends a slot's socket: cancels its multishot receive (a pending one holds
// the socket open after its table slot is closed) and, when asked, a send in
// flight (one blocked on a full socket never completes), then closes the
// direct descriptor. Each cancel is by exact user_data, a hash lookup (by
// descriptor it walks every request of the ring: closing 15k connections a
// shard was quadratic), hard-linked so the close runs even when there was
// nothing to cancel.
inline void submit_slot_close(ring& uring, uint32_t slot, uint16_t generation, uint8_t& pending,
                              bool cancel_send) noexcept {
  io_uring_sqe* e = nullptr;
  if (cancel_send) {
    e = slot_sqe(uring, slot, generation, pending, op::cancel);
    io_uring_prep_cancel64(e, pack({slot, generation, op::send}), 0);
    e->flags |= IOSQE_IO_HARDLINK;
  }
  e = slot_sqe(uring, slot, generation, pending, op::cancel);
  io_uring_prep_cancel64(e, pack({slot, generation, op::recv}), 0);
  e->flags |= IOSQE_IO_HARDLINK;
  e = slot_sqe(uring, slot, generation, pending, op::close);
  io_uring_prep_close_direct(e, slot);
}

// Handshake parsers (8 KiB each) are needed only while handshakes run: a few
// are kept for the next ones and the rest freed, so a finished ramp holds none.
template <class Parser, size_t Keep = 64>
class parser_pool {
 public:
  parser_pool() = default;
  ~parser_pool() {
    for (Parser* p : _free)
      delete p;
  }
  parser_pool(const parser_pool&) = delete;
  parser_pool& operator=(const parser_pool&) = delete;

  Parser* take() {
    if (_free.empty()) return new Parser();
    Parser* p = _free.back();
    _free.pop_back();
    return p;
  }
  // Gives `p` back (nullptr is fine) and clears it.
  void give(Parser*& p) noexcept {
    if (p == nullptr) return;
    if (_free.size() < Keep) {
      _free.push_back(p);
    } else {
      delete p;
    }
    p = nullptr;
  }

 private:
  std::vector<Parser*> _free;
};

}  // namespace horde::core

// The descriptor limits that decide how many sockets one process may hold.
// RLIMIT_NOFILE also caps each io_uring's registered file table.
#pragma once

#include <cstdint>

namespace horde::sysctl {

struct fd_limits {
  uint64_t soft = 0;
  uint64_t hard = 0;
};

fd_limits read_fd_limits() noexcept;

// Raises the soft limit to the hard one (always allowed); returns the result.
fd_limits raise_fd_soft_limit() noexcept;

}  // namespace horde::sysctl

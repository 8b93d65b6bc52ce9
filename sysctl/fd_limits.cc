#include "sysctl/fd_limits.hh"

#include <sys/resource.h>

namespace horde::sysctl {

fd_limits read_fd_limits() noexcept {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  return {uint64_t(limit.rlim_cur), uint64_t(limit.rlim_max)};
}

fd_limits raise_fd_soft_limit() noexcept {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  return read_fd_limits();
}

}  // namespace horde::sysctl

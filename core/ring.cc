#include "core/ring.hh"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "core/uring_compat.hh"

namespace horde::core {

ring::~ring() {
  if (_ready) io_uring_queue_exit(&_ring);
}

result<void> ring::init(const ring_options& options) {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE |
                 IORING_SETUP_SUBMIT_ALL;
  params.cq_entries = options.cq_entries;
  int ret = io_uring_queue_init_params(options.sq_entries, &_ring, &params);
  if (ret < 0) {
    return make_error("io_uring_setup with SINGLE_ISSUER|DEFER_TASKRUN failed: " +
                      std::string(std::strerror(-ret)) +
                      " (needs Linux 6.1+; check that io_uring is not disabled by "
                      "kernel.io_uring_disabled or a seccomp profile)");
  }
  _ready = true;
  _min_timeout = (params.features & uring_compat::feat_min_timeout) != 0;
  // Registering the ring fd saves an fdget per io_uring_enter.
  _registered_fd = io_uring_register_ring_fd(&_ring) == 1;
  if (options.file_table_slots > 0) {
    ret = io_uring_register_files_sparse(&_ring, options.file_table_slots);
    if (ret < 0) {
      return make_error("registering " + std::to_string(options.file_table_slots) +
                        " direct descriptors failed: " + std::strerror(-ret) +
                        " (the table is capped at RLIMIT_NOFILE)");
    }
    _file_slots = options.file_table_slots;
  }
  return {};
}

io_uring_sqe* ring::sqe() noexcept {
  io_uring_sqe* entry = io_uring_get_sqe(&_ring);
  while (entry == nullptr) {
    io_uring_submit(&_ring);
    entry = io_uring_get_sqe(&_ring);
  }
  return entry;
}

int ring::submit_and_wait(uint64_t timeout_ns, unsigned min_completions,
                          uint64_t min_wait_ns) noexcept {
  __kernel_timespec ts{};
  ts.tv_sec = int64_t(timeout_ns / 1'000'000'000);
  ts.tv_nsec = int64_t(timeout_ns % 1'000'000'000);
  if (min_completions > 1 && (min_wait_ns == 0 || !_min_timeout)) min_completions = 1;
  if (min_completions > 1) {
    // liburing 2.3 cannot pass min_wait_usec: submit, then wait in our own
    // io_uring_enter with the extended argument (uring_compat.hh).
    if (io_uring_sq_ready(&_ring) > 0) io_uring_submit(&_ring);
    io_uring_getevents_arg arg{};
    arg.sigmask_sz = _NSIG / 8;
    arg.pad = uint32_t(std::max<uint64_t>(1, std::min(min_wait_ns, timeout_ns) / 1000));
    arg.ts = reinterpret_cast<uintptr_t>(&ts);
    unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
    int fd = _ring.ring_fd;
    if (_registered_fd) {
      flags |= IORING_ENTER_REGISTERED_RING;
      fd = _ring.enter_ring_fd;
    }
    errno = 0;
    int ret = io_uring_enter2(unsigned(fd), 0, min_completions, flags,
                              reinterpret_cast<sigset_t*>(&arg), sizeof arg);
    // Whichever convention the library's wrapper follows: -errno, or -1 and errno.
    if (ret == -1 && errno != 0) ret = -errno;
    if (ret == -ETIME || ret == -EINTR) return 0;
    return ret < 0 ? ret : 0;
  }
  io_uring_cqe* cqe = nullptr;
  // liburing 2.3 returns the submit count with cqe == nullptr on timeout
  // (PLATFORM.md): the cqe pointer, not the return value, says what happened.
  int ret = io_uring_submit_and_wait_timeout(&_ring, &cqe, min_completions, &ts, nullptr);
  if (ret == -ETIME || ret == -EINTR) return 0;
  return ret < 0 ? ret : 0;
}

int ring::submit_and_poll() noexcept {
  return io_uring_submit_and_get_events(&_ring);
}

result<void> probe_kernel_features() {
  io_uring_probe* probe = io_uring_get_probe();
  if (probe == nullptr) return make_error("io_uring is unavailable (io_uring_get_probe failed)");
  struct needed {
    int op;
    const char* name;
    const char* kernel;
  };
  static const needed ops[] = {
      {IORING_OP_SOCKET, "IORING_OP_SOCKET", "5.19"},
      {IORING_OP_CONNECT, "IORING_OP_CONNECT", "5.5"},
      {IORING_OP_ACCEPT, "IORING_OP_ACCEPT (multishot, direct)", "5.19"},
      {IORING_OP_SEND, "IORING_OP_SEND", "5.6"},
      {IORING_OP_RECV, "IORING_OP_RECV (multishot)", "6.0"},
      {IORING_OP_CLOSE, "IORING_OP_CLOSE (direct)", "5.15"},
      {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL", "5.5"},
      {IORING_OP_URING_CMD, "IORING_OP_URING_CMD (socket setsockopt)", "6.7"},
      {uring_compat::op_bind, "IORING_OP_BIND", "6.11"},
  };
  std::string missing;
  for (const auto& op : ops) {
    if (!io_uring_opcode_supported(probe, op.op)) {
      missing += std::string(missing.empty() ? "" : ", ") + op.name + " (Linux " + op.kernel + ")";
    }
  }
  io_uring_free_probe(probe);
  if (!missing.empty()) {
    return make_error("this kernel's io_uring lacks: " + missing + "; horde needs Linux 6.11+");
  }
  return {};
}

unsigned max_file_table_slots() noexcept {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  rlim_t cap = limit.rlim_cur;
  if (cap > 1'048'576) cap = 1'048'576;
  return unsigned(cap);
}

}  // namespace horde::core

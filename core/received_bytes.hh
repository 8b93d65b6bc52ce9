// What one completion of a multishot recvmsg put in its provided buffer: the
// io_uring_recvmsg_out header, the control messages (the kernel's receive
// timestamp), then the payload. A round trip ends when the echo reached this
// host, not when horde got round to reading it: with the kernel's timestamp a
// loop turn that handles many completions, or a thread the scheduler held
// back, no longer adds its own delay to the measured latency.
#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <time.h>

#include <cstdint>
#include <cstring>
#include <span>

namespace horde::core {

// The receive header every multishot recvmsg of a shard uses: no address,
// room for one SCM_TIMESTAMPNS. The kernel copies it when the request is
// issued; it must outlive the requests all the same.
inline msghdr timestamped_receive_header() noexcept {
  msghdr header{};
  header.msg_controllen = CMSG_SPACE(sizeof(timespec));
  return header;
}

// CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns: SCM_TIMESTAMPNS is wall-clock
// time and horde measures on the monotonic clock. Sampled every loop turn, so
// a clock step moves at most one turn's stamps (and those are clamped).
inline int64_t realtime_minus_monotonic_ns() noexcept {
  timespec wall{}, mono{};
  clock_gettime(CLOCK_REALTIME, &wall);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return (int64_t(wall.tv_sec) - int64_t(mono.tv_sec)) * 1'000'000'000 +
         (int64_t(wall.tv_nsec) - int64_t(mono.tv_nsec));
}

struct received_bytes {
  std::span<const uint8_t> payload;
  uint64_t received_ns = 0;    // monotonic; 0 when the kernel gave no stamp
  bool valid = false;          // the buffer held a whole header
  bool end_of_stream = false;  // the peer closed (a final completion, no payload)
};

// `used` is the completion's result: the bytes of the buffer the kernel
// filled. `offset` is realtime_minus_monotonic_ns(). A stamp later than
// `now` (a clock step) counts as `now`.
inline received_bytes parse_received(std::span<uint8_t> buffer, int used, msghdr& header,
                                     int64_t offset, uint64_t now) noexcept {
  received_bytes out;
  if (used <= 0 || size_t(used) > buffer.size()) return out;
  auto* message = io_uring_recvmsg_validate(buffer.data(), used, &header);
  if (message == nullptr) return out;
  out.valid = true;
  const auto* payload = static_cast<const uint8_t*>(io_uring_recvmsg_payload(message, &header));
  const unsigned length = io_uring_recvmsg_payload_length(message, used, &header);
  out.payload = {payload, length};
  out.end_of_stream = length == 0;
  for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(message, &header); c != nullptr;
       c = io_uring_recvmsg_cmsg_nexthdr(message, &header, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS ||
        c->cmsg_len < CMSG_LEN(sizeof(timespec))) {
      continue;
    }
    timespec wall{};
    std::memcpy(&wall, CMSG_DATA(c), sizeof wall);  // cmsg data need not be aligned
    const int64_t mono = int64_t(wall.tv_sec) * 1'000'000'000 + int64_t(wall.tv_nsec) - offset;
    if (mono > 0) out.received_ns = uint64_t(mono) < now ? uint64_t(mono) : now;
  }
  return out;
}

}  // namespace horde::core

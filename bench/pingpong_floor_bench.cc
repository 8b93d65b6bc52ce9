// The least a client can pay per round trip on this machine: a plain epoll
// ping-pong client (no WebSocket, no timing, no schedule), one read and one
// write per message, against a raw TCP echo server (`horde serve --raw`).
// bench/floor.sh runs it beside `horde run --raw` and `horde run`, so the
// report can say how much of horde's CPU per message is the kernel's.
//
//   pingpong_floor_bench PORT [connections=1000] [seconds=8] [cpu=-1] [size=64]
//
// Closed loop: each connection keeps one message in flight, so the figure is
// the client's ceiling, with every CPU-second it used (user + system).
#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

double seconds_of(const timeval& tv) {
  return double(tv.tv_sec) + double(tv.tv_usec) / 1e6;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
}

int connect_loopback(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  // Wait for the connect here: setup is not what this benchmark measures.
  pollfd writable{fd, POLLOUT, 0};
  int error = 0;
  socklen_t error_size = sizeof error;
  if (poll(&writable, 1, 5000) != 1 ||
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_size) != 0 || error != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} PORT [connections=1000] [seconds=8] [cpu=-1] [size=64]\n",
               argv[0]);
    return 2;
  }
  const auto port = uint16_t(std::atoi(argv[1]));
  const int connections = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 8;
  const int cpu = argc > 4 ? std::atoi(argv[4]) : -1;
  const size_t size = argc > 5 ? size_t(std::atoi(argv[5])) : 64;
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }

  const int epoll = epoll_create1(0);
  std::vector<int> fds;
  for (int i = 0; i < connections; ++i) {
    const int fd = connect_loopback(port);
    if (fd < 0) {
      fmt::print(stderr, "connect {} of {} to 127.0.0.1:{} failed\n", i + 1, connections, port);
      return 1;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = uint32_t(i);
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    fds.push_back(fd);
  }

  // Messages go back as whole multiples of `size`; a partial one waits.
  const std::string message(size * 64, 'x');
  std::vector<size_t> partial(fds.size(), 0);
  std::vector<char> buffer(64 * 1024);
  std::vector<epoll_event> events(512);
  uint64_t round_trips = 0;

  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  for (const int fd : fds)
    (void)!write(fd, message.data(), size);
  while (std::chrono::steady_clock::now() < end) {
    const int ready = epoll_wait(epoll, events.data(), int(events.size()), 100);
    for (int k = 0; k < ready; ++k) {
      const uint32_t i = events[size_t(k)].data.u32;
      const ssize_t got = read(fds[i], buffer.data(), buffer.size());
      if (got <= 0) continue;
      partial[i] += size_t(got);
      const size_t whole = std::min<size_t>(partial[i] / size, 64);
      partial[i] -= whole * size;
      round_trips += whole;
      if (whole > 0) (void)!write(fds[i], message.data(), whole * size);
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_used = cpu_seconds() - cpu_start;
  fmt::print(
      "epoll ping-pong floor: {} connections, {} B: {:.0f} round trips/s, CPU {:.2f} of {:.2f} "
      "s, {:.2f} CPU-s per million\n",
      connections, size, double(round_trips) / elapsed, cpu_used, elapsed,
      cpu_used / double(std::max<uint64_t>(round_trips, 1)) * 1e6);
  for (const int fd : fds)
    close(fd);
  close(epoll);
  return 0;
}

// A private network namespace for one test: the calling thread leaves the
// host's network for a fresh one whose only interface is its own loopback,
// so a test may put a qdisc or a firewall rule on `lo` and bind fixed ports
// without touching the host or another test. Children forked afterwards (and
// threads started afterwards) inherit it; its /proc/net counters start at
// zero and count only what happens inside. The destructor moves the thread
// back, so tests that run one after another in one process stay apart; the
// namespace itself goes when its last process does.
//
// Needs CAP_SYS_ADMIN (root, in practice): without it error() says why, and
// the test skips.
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process_run.hh"

namespace horde::test {

class private_network {
 public:
  private_network() {
    _original = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (_original < 0) {
      _error = std::string("cannot open /proc/self/ns/net: ") + std::strerror(errno);
      return;
    }
    if (unshare(CLONE_NEWNET) != 0) {
      _error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno) +
               " (a private network namespace needs CAP_SYS_ADMIN: run as root)";
      close(_original);
      _original = -1;
      return;
    }
    _entered = true;
    if (const int err = bring_loopback_up(); err != 0)
      _error = std::string("cannot bring lo up in the new namespace: ") + std::strerror(err);
  }

  ~private_network() {
    if (_entered) setns(_original, CLONE_NEWNET);
    if (_original >= 0) close(_original);
  }

  private_network(const private_network&) = delete;
  private_network& operator=(const private_network&) = delete;

  // Empty once the thread is in a fresh namespace with lo up.
  const std::string& error() const { return _error; }

 private:
  // A new namespace's lo is down; SIOCSIFFLAGS brings it up without `ip`.
  // Returns 0 or an errno.
  static int bring_loopback_up() {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    int err = 0;
    if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
      err = errno;
    } else {
      request.ifr_flags |= IFF_UP;
      if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) err = errno;
    }
    close(fd);
    return err;
  }

  int _original = -1;
  bool _entered = false;
  std::string _error;
};

// The path of a system tool (tc, nft, iptables) where Debian puts it, or
// nullopt: spawn() execs a path, with no PATH search.
inline std::optional<std::string> system_tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    const std::string path = dir + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return std::nullopt;
}

// Runs a configuration command (tc, nft) with a 10 s bound.
inline process_outcome run_tool(const std::vector<std::string>& argv) {
  return run_process(argv, 10000);
}

}  // namespace horde::test

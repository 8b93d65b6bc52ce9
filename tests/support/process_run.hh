// Runs a program to completion with a hard time limit and collects its exit
// status, stdout and stderr — for integration tests that drive the horde
// binary as a user would. SIGKILL at the deadline, so a hung run fails the
// test instead of hanging CI.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/spawn.hh"

namespace horde::test {

struct process_outcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// interrupt_after_ms > 0 sends SIGINT once that much time has passed.
inline process_outcome run_process(const std::vector<std::string>& argv, int timeout_ms,
                                   int interrupt_after_ms = 0) {
  process_outcome outcome;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return outcome;
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = spawn(argv, devnull, out_pipe[1], err_pipe[1]);
  if (devnull >= 0) close(devnull);
  close(out_pipe[1]);
  close(err_pipe[1]);
  const auto start = std::chrono::steady_clock::now();
  bool interrupted = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_pipes = 2;
  while (open_pipes > 0) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    if (interrupt_after_ms > 0 && !interrupted && elapsed >= interrupt_after_ms) {
      kill(pid, SIGINT);
      interrupted = true;
    }
    if (elapsed >= timeout_ms) {
      outcome.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, 50) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      } else {
        (i == 0 ? outcome.out : outcome.err).append(buffer, size_t(n));
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  return outcome;
}

}  // namespace horde::test

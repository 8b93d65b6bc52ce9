// A helper server a test starts and talks to: its stdin stays open (peers
// exit when it closes, so a crashed test leaves no orphan), its first stdout
// lines are read with a deadline (peers print their port), and the
// destructor ends it: stdin closed, SIGTERM, then SIGKILL after a second.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/spawn.hh"

namespace horde::test {

class child_process {
 public:
  explicit child_process(const std::vector<std::string>& argv) {
    int in_pipe[2], out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0) return;
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
      close(in_pipe[0]);
      close(in_pipe[1]);
      return;
    }
    _pid = spawn(argv, in_pipe[0], out_pipe[1], -1);
    close(in_pipe[0]);
    close(out_pipe[1]);
    _stdin = in_pipe[1];
    _stdout = out_pipe[0];
  }

  ~child_process() {
    if (_stdin >= 0) close(_stdin);
    if (_pid > 0 && !_reaped) {
      signal(SIGTERM);
      if (!wait(1000)) {
        signal(SIGKILL);
        wait(5000);
      }
    }
    if (_stdout >= 0) close(_stdout);
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return _pid; }

  // The next line of the child's stdout, without its newline; nullopt on
  // EOF or when timeout_ms passes first.
  std::optional<std::string> read_line(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      const size_t newline = _buffer.find('\n');
      if (newline != std::string::npos) {
        std::string line = _buffer.substr(0, newline);
        _buffer.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0 || _stdout < 0) return std::nullopt;
      pollfd p{_stdout, POLLIN, 0};
      if (poll(&p, 1, int(left)) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(_stdout, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      _buffer.append(chunk, size_t(n));
    }
  }

  void signal(int number) {
    if (_pid > 0 && !_reaped) kill(_pid, number);
  }

  // True once the child has exited (exit_code() then holds its status).
  bool wait(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!_reaped) {
      int status = 0;
      const pid_t r = waitpid(_pid, &status, WNOHANG);
      if (r == _pid) {
        _reaped = true;
        _exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        break;
      }
      if (r < 0 || std::chrono::steady_clock::now() >= deadline) return _reaped;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  int exit_code() const { return _exit_code; }

 private:
  pid_t _pid = -1;
  int _stdin = -1;
  int _stdout = -1;
  bool _reaped = false;
  int _exit_code = -1;
  std::string _buffer;
};

}  // namespace horde::test

// Starts a program for a test with chosen standard streams: the one fork and
// exec both test helpers (run_process, child_process) build on.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace horde::test {

// Forks and execs argv[0] (a path, no PATH search) with stdin, stdout and
// stderr replaced by the given descriptors; -1 keeps the test's own. The
// descriptors should be O_CLOEXEC so the child holds only its copies.
// Returns the child's pid, or -1 when fork failed; exit code 127 means the
// exec did.
inline pid_t spawn(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  if (in_fd >= 0) dup2(in_fd, STDIN_FILENO);
  if (out_fd >= 0) dup2(out_fd, STDOUT_FILENO);
  if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

}  // namespace horde::test

#include "app/result_file.hh"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace horde::app {
namespace {

std::string temporary_for(const std::string& path) {
  return path + ".tmp." + std::to_string(getpid());
}

std::string failed(const std::string& what, const std::string& path, int error) {
  return what + " " + path + ": " + std::strerror(error);
}

}  // namespace

result<void> check_writable(const std::string& path) {
  const std::string temporary = temporary_for(path);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(failed("cannot create", temporary, errno));
  ::close(fd);
  ::unlink(temporary.c_str());
  return {};
}

result<void> write_whole(const std::string& path, const std::string& text) {
  const std::string temporary = temporary_for(path);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(failed("cannot create", temporary, errno));
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(temporary.c_str());
      return make_error(failed("cannot write", temporary, error));
    }
    written += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return make_error(failed("cannot write", temporary, error));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return make_error(failed("cannot rename onto", path, error));
  }
  return {};
}

}  // namespace horde::app

#include "app/self_usage.hh"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

namespace horde::app {

self_usage read_self_usage() noexcept {
  self_usage usage;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    usage.user_seconds = double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6;
    usage.system_seconds = double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6;
    usage.peak_rss_bytes = uint64_t(ru.ru_maxrss) * 1024;  // Linux gives KiB
  }
  // statm's second field is resident pages: cheaper than parsing status.
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (std::fscanf(f, "%lu %lu", &size, &resident) == 2) {
      usage.rss_bytes = uint64_t(resident) * uint64_t(sysconf(_SC_PAGESIZE));
    }
    std::fclose(f);
  }
  return usage;
}

}  // namespace horde::app

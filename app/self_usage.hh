// What horde itself costs: CPU seconds and resident memory of this process.
#pragma once

#include <cstdint>

namespace horde::app {

struct self_usage {
  double user_seconds = 0;
  double system_seconds = 0;
  uint64_t rss_bytes = 0;
  uint64_t peak_rss_bytes = 0;  // the most this process has held resident (VmHWM)
};

self_usage read_self_usage() noexcept;

}  // namespace horde::app

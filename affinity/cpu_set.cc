#include "affinity/cpu_set.hh"

#include <pthread.h>
#include <sched.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace horde::affinity {

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return {0};
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

result<std::vector<int>> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    const size_t dash = item.find('-');
    try {
      size_t used = 0;
      int first = std::stoi(item.substr(0, dash), &used);
      if (used != (dash == std::string::npos ? item.size() : dash))
        throw std::invalid_argument(item);
      int last = first;
      if (dash != std::string::npos) {
        last = std::stoi(item.substr(dash + 1), &used);
        if (used != item.size() - dash - 1) throw std::invalid_argument(item);
      }
      if (first < 0 || last < first || last >= CPU_SETSIZE) throw std::out_of_range(item);
      for (int cpu = first; cpu <= last; ++cpu)
        cpus.push_back(cpu);
    } catch (const std::exception&) {
      return make_error("bad CPU list '" + text + "': expected e.g. 0-3,6");
    }
    pos = end + 1;
  }
  if (cpus.empty()) return make_error("empty CPU list");
  return cpus;
}

result<void> pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int ret = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (ret != 0) {
    return make_error("pinning to CPU " + std::to_string(cpu) + " failed: " + std::strerror(ret));
  }
  return {};
}

}  // namespace horde::affinity

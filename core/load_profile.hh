// A load that changes over the run: piecewise linear from `start`, each
// stage reaching its value at its end (k6's stages): ramp up, hold, spike,
// ramp down. Read by the shards once per loop turn (connections) or per
// scheduled send (message rate). Pure.
#pragma once

#include <cstdint>
#include <vector>

namespace horde::core {

struct load_stage {
  uint64_t duration_ns = 0;
  double value = 0;  // reached at the stage's end
};

class load_profile {
 public:
  load_profile() = default;
  load_profile(double start, std::vector<load_stage> stages)
      : _start(start), _stages(std::move(stages)) {}

  bool empty() const noexcept { return _stages.empty(); }
  const std::vector<load_stage>& stages() const noexcept { return _stages; }
  uint64_t total_ns() const noexcept {
    uint64_t t = 0;
    for (const auto& s : _stages)
      t += s.duration_ns;
    return t;
  }
  double peak() const noexcept {
    double m = _start;
    for (const auto& s : _stages)
      m = s.value > m ? s.value : m;
    return m;
  }
  // The value `since_ns` after the start; past the end, the last value.
  double at(uint64_t since_ns) const noexcept {
    double from = _start;
    for (const auto& s : _stages) {
      if (since_ns < s.duration_ns) {
        const double f = double(since_ns) / double(s.duration_ns);
        return from + (s.value - from) * f;
      }
      since_ns -= s.duration_ns;
      from = s.value;
    }
    return from;
  }

 private:
  double _start = 0;
  std::vector<load_stage> _stages;
};

}  // namespace horde::core

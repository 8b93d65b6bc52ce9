#include "app/disconnect_events.hh"

#include <algorithm>

namespace horde::app {

std::vector<disconnect_event> find_disconnect_events(const std::vector<series_point>& series) {
  std::vector<disconnect_event> events;
  for (size_t i = 1; i < series.size(); ++i) {
    const series_point& before = series[i - 1];
    const series_point& now = series[i];
    const uint64_t ended = now.failures - std::min(now.failures, before.failures);
    if (before.open == 0 || ended < 10 || ended * 20 < before.open) continue;
    disconnect_event e;
    e.at_seconds = now.t;
    e.open_before = before.open;
    e.ended = ended;
    e.lowest_open = now.open;
    const uint64_t target = before.open - before.open / 100;
    size_t j = i;
    for (; j < series.size(); ++j) {
      e.lowest_open = std::min(e.lowest_open, series[j].open);
      if (series[j].open >= target) {
        e.recovered_after_seconds = series[j].t - before.t;
        break;
      }
    }
    // Everything that ended over the storm, not only in its first interval.
    const size_t last = std::min(j, series.size() - 1);
    e.ended = series[last].failures - std::min(series[last].failures, before.failures);
    events.push_back(e);
    // A storm that lasts several intervals is one event: skip to its end.
    i = std::max(i, j);
  }
  return events;
}

}  // namespace horde::app

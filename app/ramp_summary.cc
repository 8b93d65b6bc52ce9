#include "app/ramp_summary.hh"

#include <algorithm>

namespace horde::app {

bool ramp_summary::behind() const noexcept {
  if (asked_per_s <= 0) return false;
  const double slowest = std::min(overall_per_s, last_tenth_per_s.value_or(overall_per_s));
  return slowest < 0.9 * asked_per_s;
}

std::optional<ramp_summary> summarize_ramp(const std::vector<series_point>& series,
                                           uint64_t planned, double asked_per_s,
                                           double duration_seconds) {
  if (series.empty() || planned == 0) return std::nullopt;
  ramp_summary ramp;
  ramp.planned = planned;
  ramp.asked_per_s = asked_per_s;
  // The ramp ends at the point every connection is open, or at the last
  // point of the run's duration (what the close phase does is not the ramp).
  const series_point* end = nullptr;
  for (const series_point& p : series) {
    if (p.t > duration_seconds + 0.5 && end != nullptr) break;
    end = &p;
    if (p.upgraded >= planned) {
      ramp.seconds_to_open_all = p.t;
      break;
    }
  }
  // A ramp over within the first point (about a second) has no pace to read.
  if (end == nullptr || end == &series.front() || end->upgraded == 0 || end->t <= 0)
    return std::nullopt;
  ramp.opened = std::min(end->upgraded, planned);
  ramp.overall_per_s = double(ramp.opened) / end->t;
  const auto tenth = std::find_if(series.begin(), series.end(), [&](const series_point& p) {
    return double(p.upgraded) >= 0.9 * double(ramp.opened);
  });
  if (tenth != series.end() && end->t > tenth->t)
    ramp.last_tenth_per_s = double(ramp.opened - tenth->upgraded) / (end->t - tenth->t);
  return ramp;
}

}  // namespace horde::app

// Fewer series points for a chart: a long run (an hour at one point a second)
// would make the HTML report heavy and its charts no clearer. Consecutive
// points are merged in equal groups; the merged point keeps what a chart of
// the whole must still show.
#pragma once

#include <cstddef>
#include <vector>

#include "app/run_result.hh"

namespace horde::app {

// The HTML report's limit: past it the series is merged down.
inline constexpr size_t chart_points_max = 2000;

// The last index of each group when n points are merged into at most
// max_points groups of equal size (the last group may be shorter); every
// index when n <= max_points.
std::vector<size_t> downsample_ends(size_t n, size_t max_points);

// One point per group: the cumulative counts of its last point (so rates
// over a merged interval are exact), open connections and RSS at their
// highest in the group, the intervals' seconds and sample counts summed,
// and each interval percentile the group's worst (an upper bound: a merged
// interval's true p99 is at most its worst second's).
std::vector<series_point> downsample(const std::vector<series_point>& series, size_t max_points);

}  // namespace horde::app

// The HTML report's charts, each built from a JSON result: the series over
// time (downsampled past chart_points_max), each non-empty histogram's
// percentile spectrum, and the sections other parts of horde may add
// (`target` samples, a `ladder`), drawn only when present.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/html_page.hh"
#include "app/series_downsample.hh"

namespace horde::app {

// Charts over time from the (already downsampled) series.
std::vector<chart> series_charts(const std::vector<series_point>& series);

// The target's RSS and CPU over time, from series points carrying a `target`
// object (rss_bytes; cpu_user_seconds + cpu_system_seconds cumulative, or a
// cpu_percent): none when no point has one. `ends` picks the points kept
// (downsample_ends).
std::vector<chart> target_charts(const nlohmann::json& series, const std::vector<size_t>& ends);

// Failures per second by reason, from the series' failures_by_reason
// (cumulative counts of the reasons seen so far): none when no point has one.
std::vector<chart> failure_charts(const nlohmann::json& series, const std::vector<size_t>& ends);

// Every histogram in the result with samples, by its report name
// ("round_trip", "connect", "scenario: login"), with its JSON pointer.
struct named_histogram {
  std::string name;
  std::string pointer;
};
std::vector<named_histogram> histograms_in(const nlohmann::json& result);

// The percentile spectrum of one histogram (ms on a log axis).
chart spectrum_chart(const std::string& name, const nlohmann::json& histogram);

// A ladder's levels: every *_ns figure per level in ms, over the level's
// index (or its numeric `level`); none without `ladder.levels`.
std::vector<chart> ladder_charts(const nlohmann::json& ladder);

}  // namespace horde::app

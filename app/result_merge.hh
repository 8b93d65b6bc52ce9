// horde merge: several horde.run/1 results made one. Workers' slices of one
// plan (each file's "worker" object, written by `horde run --worker i/N`)
// are checked to be slices of the same plan first; independent runs (no
// "worker") merge without that check. Counters add, histograms add bucket
// by bucket (percentiles recomputed from the buckets), series align by the
// wall-clock second. Pure: JSON in, JSON out, no I/O.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hh"

namespace horde::app {

// Limits, so a damaged or hostile file cannot make the merge hang or eat
// the host: workers in one plan, seconds of merged series (a week), how
// deep sections nest.
inline constexpr uint64_t max_merge_workers = 100'000;
inline constexpr int64_t max_series_seconds = 7 * 86'400;
inline constexpr int max_section_depth = 16;

struct merge_input {
  std::string path;  // named in every error
  nlohmann::json result;
};

struct merge_outcome {
  nlohmann::json merged;  // a valid horde.run/1 (thresholds and verdict not yet judged)
  bool workers = false;   // slices of one plan (else independent runs)
  uint64_t count = 0;     // N, the plan's slices (workers) or the files (independent)
  std::vector<uint64_t> merged_indexes;
  std::vector<uint64_t> missing;  // slices no file had: the figures lack them
  std::vector<std::string> notes;
};

// Checks, then merges. An error names the file and the field ("b.json:
// worker.whole_plan.connections is 1000, a.json's is 2000"), or both files
// when two claim one slice.
result<merge_outcome> merge_results(const std::vector<merge_input>& inputs);

// "worker 3 (w3.json)", or the path of an independent run: who said a note.
std::string input_label(const merge_input& in, const merge_outcome& out);

// --- the parts (result_merge_*.cc) ---

// merge_results without its guard against a field of an unforeseen kind.
result<merge_outcome> merge_checked(const std::vector<merge_input>& inputs);

// That the inputs can merge: one schema, all or none with "worker", one
// count and one whole plan, no slice twice. Fills workers, count, indexes
// and missing.
result<void> check_merge_inputs(const std::vector<merge_input>& inputs, merge_outcome& out);

// Adds `from` into `into`, section by section: numbers add (a few gauges
// and settings take the highest or the first, by `key`), objects key by
// key, histograms (objects with "buckets") bucket by bucket with their
// `percentiles` recomputed, booleans per their meaning. Arrays: the first's.
void add_section(nlohmann::json& into, const nlohmann::json& from, const std::string& key,
                 const std::vector<double>& percentiles, int depth = 0);

// The series of each input, aligned on the wall-clock second: the start of
// each (worker.start_at_unix_ns + clock_offset_ns, else started_unix_ns)
// against the earliest. Cumulative counts add (a worker that ended keeps its
// last), "open" adds, interval percentiles take the highest (an upper bound:
// the whole run's percentiles are exact, from the buckets).
nlohmann::json merge_series(const std::vector<merge_input>& inputs,
                            std::vector<std::string>& notes);

}  // namespace horde::app

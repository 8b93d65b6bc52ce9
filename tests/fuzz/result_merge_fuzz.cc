// Fuzzes horde merge's pure part (app/result_merge.hh) and the threshold
// reading of a file (app/result_figures.hh).
//
// Input: up to four JSON documents separated by lines of "---". Documents
// that do not parse are dropped. Checked: nothing crashes or hangs; a merge
// that succeeds gives a horde.run schema's copy, and its worker object's
// merged and missing slices split 0..count-1 with nothing twice; the merged
// file can be judged.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "app/merge_command.hh"
#include "app/result_figures.hh"
#include "app/result_merge.hh"
#include "tests/fuzz/fuzz_support.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using json = nlohmann::json;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<horde::app::merge_input> inputs;
  while (inputs.size() < 4) {
    const size_t cut = input.find("\n---\n");
    const std::string_view doc = input.substr(0, cut);
    json parsed = json::parse(doc, nullptr, false);
    if (!parsed.is_discarded())
      inputs.push_back({"f" + std::to_string(inputs.size()), std::move(parsed)});
    if (cut == std::string_view::npos) break;
    input.remove_prefix(cut + 5);
  }
  auto merged = horde::app::merge_results(inputs);
  if (!merged) return 0;
  const json m = merged->merged;
  HORDE_FUZZ_CHECK(m.value("schema", json()) == inputs.front().result.value("schema", json()));
  std::set<uint64_t> seen;
  for (uint64_t i : merged->merged_indexes)
    HORDE_FUZZ_CHECK(i < merged->count && seen.insert(i).second);
  for (uint64_t i : merged->missing)
    HORDE_FUZZ_CHECK(i < merged->count && seen.insert(i).second);
  HORDE_FUZZ_CHECK(seen.size() == merged->count);
  if (!horde::app::judge_merged(inputs, *merged, {})) return 0;
  HORDE_FUZZ_CHECK(merged->merged["thresholds"].is_array());
  HORDE_FUZZ_CHECK(merged->merged["verdict"].contains("exit_code"));
  return 0;
}

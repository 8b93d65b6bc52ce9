// Fuzzes the --targets-file parser (app/target_list.hh): any bytes are a
// file. Checked:
//  - parse never crashes; a failure has a message naming the file;
//  - a parsed list keeps its limits: at most 256 targets, weights 1..1000,
//    URLs non-empty without whitespace or '#';
//  - the weighted cycle takes each target exactly its weight's times.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "app/target_list.hh"
#include "tests/fuzz/fuzz_support.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto listed = horde::app::parse_targets_text(text, "f");
  if (!listed) {
    HORDE_FUZZ_CHECK(listed.error().message.rfind("f", 0) == 0);
    return 0;
  }
  HORDE_FUZZ_CHECK(listed->size() <= horde::app::max_targets);
  uint64_t total = 0;
  for (const auto& t : *listed) {
    HORDE_FUZZ_CHECK(!t.url.empty());
    HORDE_FUZZ_CHECK(t.url.find_first_of(" \t\r\n#") == std::string::npos);
    HORDE_FUZZ_CHECK(t.weight >= 1 && t.weight <= horde::app::max_target_weight);
    total += t.weight;
  }
  if (total > 20000) return 0;  // the cycle's cost is its length: keep runs fast
  const auto cycle = horde::app::target_cycle(*listed, true);
  HORDE_FUZZ_CHECK(cycle.size() == total);
  std::vector<uint64_t> seen(listed->size(), 0);
  for (uint8_t t : cycle) {
    HORDE_FUZZ_CHECK(t < listed->size());
    ++seen[t];
  }
  for (size_t t = 0; t < listed->size(); ++t)
    HORDE_FUZZ_CHECK(seen[t] == (*listed)[t].weight);
  return 0;
}

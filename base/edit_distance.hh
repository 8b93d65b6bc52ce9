// How far a mistyped name is from a valid one, for "did you mean" messages
// (scenario keys, threshold names, template variables): the optimal string
// alignment distance — Levenshtein plus a swap of two adjacent letters, the
// typos people make. Cold path only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <vector>

namespace horde {

// The distance, or limit + 1 once it is certainly above `limit`.
inline size_t edit_distance(std::string_view a, std::string_view b,
                            size_t limit = static_cast<size_t>(-1) - 1) {
  const size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (gap > limit) return limit + 1;
  // Three rows: the one two back serves the swap.
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return std::min(previous[b.size()], limit + 1);
}

}  // namespace horde

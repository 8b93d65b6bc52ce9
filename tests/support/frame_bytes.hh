// Bytes for frame-level tests: literal byte lists and their concatenation.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace horde::test {

using bytes = std::vector<uint8_t>;

inline bytes b(std::initializer_list<int> values) {
  bytes out;
  for (int v : values)
    out.push_back(uint8_t(v));
  return out;
}

inline bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace horde::test

// The units users type: durations (30s, 500ms, 2m, 1h), rates (1/s, 100/m,
// 5 meaning per second), byte sizes (64, 4KiB, 1MiB, 1k), counts with
// k/M suffixes (100k), and IPv4 ranges (127.0.0.1-127.0.0.8).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hh"

namespace horde::app {

result<uint64_t> parse_duration_ns(const std::string& text);
result<double> parse_rate_per_second(const std::string& text);
result<uint64_t> parse_bytes(const std::string& text);
result<uint64_t> parse_count(const std::string& text);
// "a.b.c.d" or "a.b.c.d-a.b.c.e" (or a comma list of those), in order.
result<std::vector<std::string>> parse_ipv4_ranges(const std::string& text);

}  // namespace horde::app

// Several targets (a server cluster's endpoints): `horde run URL1 URL2 ...`
// and --targets-file, one URL a line with an optional weight, and the order
// in which connections take them. Pure functions, no I/O but the file read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hh"

namespace horde::app {

struct weighted_url {
  std::string url;
  uint32_t weight = 1;
};

// Limits: a file of at most 1 MiB, 256 targets (a connection's target index
// is one byte), weights 1..1000, lines of at most 4096 bytes.
inline constexpr size_t max_targets = 256;
inline constexpr uint32_t max_target_weight = 1000;

// --targets-file's text: "ws://10.0.0.1:8080/ 3" (weight after whitespace,
// default 1), blank lines and '#' comments skipped. Errors name the line.
result<std::vector<weighted_url>> parse_targets_text(const std::string& text,
                                                     const std::string& file_name);

// The command line's URLs, then the file's (if any), checked against the
// limits; --target-order round-robin|weighted (weights other than 1 with
// round-robin are refused: say weighted).
result<std::vector<weighted_url>> collect_targets(const std::vector<std::string>& urls,
                                                  const std::string& targets_file);

// Which target each connection id takes, repeating: round-robin is 0..T-1;
// weighted is a smooth weighted round-robin (nginx's: each step every
// target gains its weight, the richest is chosen and pays the total), so
// weights 3,1 give 0,0,1,0 and targets interleave instead of coming in runs.
// The cycle's length is the sum of the weights.
std::vector<uint8_t> target_cycle(const std::vector<weighted_url>& targets, bool weighted);

}  // namespace horde::app

// What the report says about permessage-deflate (docs/compression.md): how
// many connections agreed to it and on what, the bytes before and after
// compression each way (the ratio), and the messages that failed to inflate.
// From the counters alone, so a merged result reads the same.
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/run_result.hh"

namespace horde::app {

// The run offered compression (or a merged result counted some).
bool compression_run(const run_result& r);
nlohmann::json compression_json(const run_result& r);
void print_compression(std::FILE* out, const run_result& r);

}  // namespace horde::app

// --stages and --rate-stages as typed, into core::load_profile: a list of
// DURATION:VALUE, each stage reaching VALUE at its end (k6's stages).
//   --stages '30s:100k,2m:100k,30s:0'         ramp up, hold, ramp down
//   --rate-stages '10s:10/s,0s:100/s,5s:100/s,0s:10/s,10s:10/s'   a spike
#pragma once

#include <string>

#include "base/result.hh"
#include "core/load_profile.hh"

namespace horde::app {

// Connections: from 0, each value a count (k/M suffixes).
result<core::load_profile> parse_connection_stages(const std::string& text);
// Messages per second per connection: from `start` (the --rate), each value
// a rate above 0 (10/s, 600/m).
result<core::load_profile> parse_rate_stages(const std::string& text, double start);

}  // namespace horde::app

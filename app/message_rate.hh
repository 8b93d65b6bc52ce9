// The message rate as --rate and --total-rate give it, parsed once: per
// sender, or over all senders. A sender is a connection for echo and a
// publishing connection for pub/sub; whoever knows the senders divides.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.hh"

namespace horde::app {

struct message_rate {
  double per_sender = 0;        // --rate
  std::optional<double> total;  // --total-rate; wins over --rate when given

  // Messages per second for each of `senders`.
  double per(uint64_t senders) const noexcept {
    if (!total) return per_sender;
    return senders ? *total / double(senders) : 0;
  }
  // Messages per second over all of `senders`.
  double over(uint64_t senders) const noexcept {
    return total ? *total : per_sender * double(senders);
  }
};

// rate: --rate as typed; total: --total-rate as typed ("" when absent).
result<message_rate> parse_message_rate(const std::string& rate, const std::string& total);

}  // namespace horde::app

#include "app/message_rate.hh"

#include "app/units.hh"

namespace horde::app {

result<message_rate> parse_message_rate(const std::string& rate, const std::string& total) {
  message_rate out;
  auto per = parse_rate_per_second(rate);
  if (!per) return make_error("--rate: " + per.error().message);
  out.per_sender = *per;
  if (!total.empty()) {
    auto all = parse_rate_per_second(total);
    if (!all) return make_error("--total-rate: " + all.error().message);
    out.total = *all;
  }
  return out;
}

}  // namespace horde::app

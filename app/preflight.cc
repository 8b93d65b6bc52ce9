#include "app/preflight.hh"

#include <fmt/format.h>

#include <algorithm>

#include "sysctl/check_report.hh"
#include "sysctl/kernel_limits.hh"

namespace horde::app {

sysctl::plan_needs needs_of(const run_plan& plan) {
  const core::client_plan& p = plan.client;
  sysctl::plan_needs needs;
  needs.connections = p.connections;
  needs.targets = 1;
  needs.source_addresses = uint32_t(std::max<size_t>(1, p.sources.size()));
  needs.target_on_this_host = plan.embedded || is_ipv4_loopback(plan.address);
  needs.message_bytes = p.pubsub.enabled() ? p.pubsub.payload_size : p.message_size;
  needs.messages_per_second_per_connection = p.message_rate;
  if (p.pubsub.enabled()) {
    // Deliveries are one-way, budgeted as round trips: an overestimate
    // by at most 2x of the packets a delivery moves.
    const double connections = double(std::max<uint64_t>(p.connections, 1));
    needs.messages_per_second_per_connection =
        (plan.sends_per_second + plan.deliveries_per_second) / connections;
  }
  needs.cpus = uint32_t(std::max<size_t>(1, p.cpus.size()));
  needs.port_low = p.port_low;
  needs.port_high = p.port_high;
  needs.tls = p.tls;
  needs.excluded_ports = p.excluded_ports;
  needs.avoided_ports = plan.avoided_ports;
  needs.connect_rate = p.connect_rate;
  needs.pings_per_second_per_connection = p.ping_interval_ns ? 1e9 / double(p.ping_interval_ns) : 0;
  return needs;
}

preflight_outcome preflight(const run_plan& plan, bool force, const std::string& root) {
  preflight_outcome out;
  auto limits = sysctl::read_kernel_limits(root);
  if (!limits) {
    out.notes.push_back("preflight skipped: " + limits.error().message);
    return out;
  }
  const sysctl::plan_needs needs = needs_of(plan);
  out.netdev_backlog = limits->netdev_max_backlog;
  out.planned_netdev_backlog = sysctl::netdev_backlog_need(needs).needed;
  std::vector<sysctl::check_line> failing;
  for (const auto& line : sysctl::plan_checks(needs, *limits)) {
    if (line.verdict == sysctl::verdict::fail) failing.push_back(line);
    if (line.verdict == sysctl::verdict::warn) {
      out.notes.push_back(fmt::format("preflight: {} is {}, the plan wants {}{}", line.knob,
                                      line.current, line.needed,
                                      line.fix.empty() ? "" : "; fix: " + line.fix));
    }
  }
  if (failing.empty()) return out;
  if (!force) {
    out.refused = true;
    out.refusal = sysctl::render_table(failing);
    return out;
  }
  for (const auto& line : failing) {
    out.notes.push_back(fmt::format(
        "preflight FAILED (--force): {} is {}, the plan needs {}; expect failures; fix: {}",
        line.knob, line.current, line.needed, line.fix));
  }
  return out;
}

}  // namespace horde::app

#include "app/tune_command.hh"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

#include "affinity/cpu_set.hh"
#include "affinity/nic_advice.hh"
#include "app/target_url.hh"
#include "app/units.hh"
#include "sysctl/apply_fixes.hh"
#include "sysctl/check_report.hh"
#include "sysctl/kernel_limits.hh"
#include "sysctl/planner.hh"
#include "sysctl/proc_ports.hh"

namespace horde::app {
namespace {

struct tune_plan {
  sysctl::plan_needs needs;
  std::string target_host;  // empty without a URL
};

// -c, --targets, --sources / --source-ips, the URL: who connects to what.
result<tune_plan> connections_of(const tune_options& options) {
  tune_plan plan;
  sysctl::plan_needs& needs = plan.needs;
  auto connections = parse_count(options.connections);
  if (!connections) return make_error("-c: " + connections.error().message);
  needs.connections = *connections;
  needs.targets = std::max(1u, options.targets);
  needs.source_addresses = options.sources;
  if (needs.source_addresses == 0 && !options.source_ips.empty()) {
    auto parsed = parse_ipv4_ranges(options.source_ips);
    if (!parsed) return make_error("--source-ips: " + parsed.error().message);
    needs.source_addresses = uint32_t(parsed->size());
  }
  if (needs.source_addresses == 0) needs.source_addresses = 1;
  needs.target_on_this_host = !options.remote_target;
  if (!options.url.empty()) {
    auto url = parse_target_url(options.url);
    if (!url) return make_error(url.error().message);
    // A loopback target runs here: both ends of every connection count.
    const bool loopback =
        url->host == "localhost" || url->host == "::1" || url->host.rfind("127.", 0) == 0;
    needs.target_on_this_host = loopback && !options.remote_target;
    needs.excluded_ports.push_back(url->port);
    plan.target_host = url->host;
    needs.tls = url->secure;  // as horde run plans a wss:// URL
  }
  needs.tls = needs.tls || options.tls;
  return plan;
}

// --size, --rate, --connect-rate, --ping-interval, --ports.
result<void> traffic_of(const tune_options& options, sysctl::plan_needs& needs) {
  auto size = parse_bytes(options.size);
  if (!size) return make_error("--size: " + size.error().message);
  needs.message_bytes = *size;
  auto rate = parse_rate_per_second(options.rate);
  if (!rate) return make_error("--rate: " + rate.error().message);
  needs.messages_per_second_per_connection = *rate;
  auto connect_rate = parse_rate_per_second(options.connect_rate);
  if (!connect_rate) return make_error("--connect-rate: " + connect_rate.error().message);
  needs.connect_rate = *connect_rate;
  if (!options.ping_interval.empty()) {
    auto ping = parse_duration_ns(options.ping_interval);
    if (!ping) return make_error("--ping-interval: " + ping.error().message);
    needs.pings_per_second_per_connection = *ping ? 1e9 / double(*ping) : 0;
  }
  needs.cpus = std::max(1u, std::thread::hardware_concurrency());
  if (!options.ports.empty()) {
    unsigned low = 0, high = 0;
    if (std::sscanf(options.ports.c_str(), "%u-%u", &low, &high) != 2 || low == 0 || high > 65535 ||
        low > high) {
      return make_error("bad --ports '" + options.ports + "': expected e.g. 1025-65535");
    }
    needs.port_low = low;
    needs.port_high = high;
  }
  return {};
}

// The ports `horde run` would skip (reserved, or listened on here), and on
// loopback as many 127.0.0.x source addresses as the ports need, as `horde
// run` picks them unless told the addresses. Returns the note for the latter.
std::string sources_of(const tune_options& options, const sysctl::kernel_limits& limits,
                       sysctl::plan_needs& needs) {
  std::vector<std::string> sources = {needs.target_on_this_host ? "127.0.0.1" : "0.0.0.0"};
  if (!options.source_ips.empty()) {
    if (auto parsed = parse_ipv4_ranges(options.source_ips)) sources = *parsed;
  }
  uint32_t low = needs.port_low, high = needs.port_high;
  if (low == 0 && limits.local_port_range) {
    low = limits.local_port_range->low;
    high = limits.local_port_range->high;
  }
  if (auto avoided = sysctl::ports_to_avoid(options.root, sources, low, high))
    needs.avoided_ports = avoided->ports;
  if (needs.target_on_this_host && options.sources == 0 && options.source_ips.empty()) {
    const auto sizing = sysctl::size_plan(needs, limits);
    if (sizing.source_addresses_needed > needs.source_addresses) {
      needs.source_addresses = sizing.source_addresses_needed;
      return " (loopback: horde run picks 127.0.0.x addresses itself)";
    }
  }
  return {};
}

// Interrupt and queue placement for the interface that reaches the target,
// relative to the CPUs horde's shards would run on.
affinity::nic_advice print_nic(const tune_options& options, const std::string& target_host) {
  affinity::nic_advice nic;
  if (target_host.empty()) return nic;
  const std::string interface = affinity::interface_for(options.root, target_host);
  nic = affinity::advise_nic(options.root, interface, affinity::allowed_cpus());
  fmt::print("\nNIC placement ({}):{}\n", interface.empty() ? "no route" : interface,
             nic.note.empty() ? "" : " " + nic.note);
  for (const auto& line : nic.lines) {
    fmt::print("  {:<7} {:<44} current {:<12} advised {}\n", line.ok ? "ok" : "advise", line.what,
               line.current, line.advised);
    if (!line.ok) fmt::print("    fix: {}\n", line.fix);
  }
  return nic;
}

// --apply: raises what root may raise, then checks the plan again.
int apply(const tune_options& options, const std::vector<sysctl::check_line>& lines,
          const sysctl::kernel_limits& limits, const sysctl::plan_needs& needs,
          const affinity::nic_advice& nic, bool fits) {
  const auto outcome = sysctl::apply_fixes(lines, limits, options.root);
  for (const auto& line : outcome.applied)
    fmt::print("applied  {}\n", line);
  for (const auto& line : outcome.skipped)
    fmt::print("skipped  {}\n", line);
  for (const auto& line : outcome.failed)
    fmt::print("FAILED   {}\n", line);
  if (nic.found) {
    for (const auto& line : affinity::apply_nic_advice(options.root, nic)) {
      fmt::print("nic      {}\n", line);
    }
  }
  if (!outcome.failed.empty()) return 1;
  // What was applied changes the verdict: check again.
  auto after = sysctl::read_kernel_limits(options.root);
  if (after) return sysctl::plan_fits(sysctl::plan_checks(needs, *after)) ? 0 : 1;
  return fits ? 0 : 1;
}

}  // namespace

int tune(const tune_options& options) {
  auto plan = connections_of(options);
  if (plan) {
    if (auto traffic = traffic_of(options, plan->needs); !traffic) plan = traffic.error();
  }
  if (!plan) {
    fmt::print(stderr, "horde tune: {}\n", plan.error().message);
    return 2;
  }
  sysctl::plan_needs& needs = plan->needs;
  auto limits = sysctl::read_kernel_limits(options.root);
  if (!limits) {
    fmt::print(stderr, "horde tune: {}\n", limits.error().message);
    return 2;
  }
  const std::string sources_note = sources_of(options, *limits, needs);
  const auto lines = sysctl::plan_checks(needs, *limits);
  fmt::print("horde tune: {} connections, {} target(s){}, {} source address(es){}, {} CPUs\n\n",
             needs.connections, needs.targets, needs.target_on_this_host ? " on this host" : "",
             needs.source_addresses, sources_note, needs.cpus);
  fmt::print("{}", sysctl::render_table(lines));
  const bool fits = sysctl::plan_fits(lines);
  fmt::print("\n{}\n",
             fits ? "verdict: the plan fits (lines marked adapted say what horde does)"
                  : "verdict: the plan does NOT fit; apply the fixes above, or --apply as root");
  const affinity::nic_advice nic = print_nic(options, plan->target_host);
  if (!options.sysctl_conf_path.empty()) {
    std::ofstream out(options.sysctl_conf_path);
    out << sysctl::sysctl_conf_text(lines);
    if (!out) {
      fmt::print(stderr, "horde tune: cannot write {}\n", options.sysctl_conf_path);
      return 2;
    }
    fmt::print("wrote {} (install into /etc/sysctl.d/ and run `sysctl --system`)\n",
               options.sysctl_conf_path);
  }
  if (options.apply) return apply(options, lines, *limits, needs, nic, fits);
  return fits ? 0 : 1;
}

}  // namespace horde::app

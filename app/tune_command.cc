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

int tune(const tune_options& options) {
  auto connections = parse_count(options.connections);
  if (!connections) {
    fmt::print(stderr, "horde tune: -c: {}\n", connections.error().message);
    return 2;
  }
  sysctl::plan_needs needs;
  needs.connections = *connections;
  needs.targets = std::max(1u, options.targets);
  needs.source_addresses = options.sources;
  if (needs.source_addresses == 0 && !options.source_ips.empty()) {
    auto parsed = parse_ipv4_ranges(options.source_ips);
    if (!parsed) {
      fmt::print(stderr, "horde tune: --source-ips: {}\n", parsed.error().message);
      return 2;
    }
    needs.source_addresses = uint32_t(parsed->size());
  }
  if (needs.source_addresses == 0) needs.source_addresses = 1;
  needs.target_on_this_host = !options.remote_target;
  std::string target_host;
  if (!options.url.empty()) {
    auto url = parse_target_url(options.url);
    if (!url) {
      fmt::print(stderr, "horde tune: {}\n", url.error().message);
      return 2;
    }
    // A loopback target runs here: both ends of every connection count.
    const bool loopback =
        url->host == "localhost" || url->host == "::1" || url->host.rfind("127.", 0) == 0;
    needs.target_on_this_host = loopback && !options.remote_target;
    needs.excluded_ports.push_back(url->port);
    target_host = url->host;
    needs.tls = url->secure;  // as horde run plans a wss:// URL
  }
  needs.tls = needs.tls || options.tls;
  auto size = parse_bytes(options.size);
  if (!size) {
    fmt::print(stderr, "horde tune: --size: {}\n", size.error().message);
    return 2;
  }
  needs.message_bytes = *size;
  auto rate = parse_rate_per_second(options.rate);
  if (!rate) {
    fmt::print(stderr, "horde tune: --rate: {}\n", rate.error().message);
    return 2;
  }
  needs.messages_per_second_per_connection = *rate;
  auto connect_rate = parse_rate_per_second(options.connect_rate);
  if (!connect_rate) {
    fmt::print(stderr, "horde tune: --connect-rate: {}\n", connect_rate.error().message);
    return 2;
  }
  needs.connect_rate = *connect_rate;
  if (!options.ping_interval.empty()) {
    auto ping = parse_duration_ns(options.ping_interval);
    if (!ping) {
      fmt::print(stderr, "horde tune: --ping-interval: {}\n", ping.error().message);
      return 2;
    }
    needs.pings_per_second_per_connection = *ping ? 1e9 / double(*ping) : 0;
  }
  needs.cpus = std::max(1u, std::thread::hardware_concurrency());
  if (!options.ports.empty()) {
    unsigned low = 0, high = 0;
    if (std::sscanf(options.ports.c_str(), "%u-%u", &low, &high) != 2 || low == 0 || high > 65535 ||
        low > high) {
      fmt::print(stderr, "horde tune: bad --ports '{}': expected e.g. 1025-65535\n", options.ports);
      return 2;
    }
    needs.port_low = low;
    needs.port_high = high;
  }

  auto limits = sysctl::read_kernel_limits(options.root);
  if (!limits) {
    fmt::print(stderr, "horde tune: {}\n", limits.error().message);
    return 2;
  }
  // The ports `horde run` would skip: reserved, or listened on here.
  {
    std::vector<std::string> sources = {needs.target_on_this_host ? "127.0.0.1" : "0.0.0.0"};
    if (!options.source_ips.empty()) {
      if (auto parsed = parse_ipv4_ranges(options.source_ips)) sources = *parsed;
    }
    uint32_t low = needs.port_low, high = needs.port_high;
    if (low == 0 && limits->local_port_range) {
      low = limits->local_port_range->low;
      high = limits->local_port_range->high;
    }
    if (auto avoided = sysctl::ports_to_avoid(options.root, sources, low, high))
      needs.avoided_ports = avoided->ports;
  }
  // On loopback `horde run` picks as many 127.0.0.x source addresses as the
  // ports need; tune assumes the same unless told the addresses.
  std::string sources_note;
  if (needs.target_on_this_host && options.sources == 0 && options.source_ips.empty()) {
    const auto sizing = sysctl::size_plan(needs, *limits);
    if (sizing.source_addresses_needed > needs.source_addresses) {
      needs.source_addresses = sizing.source_addresses_needed;
      sources_note = " (loopback: horde run picks 127.0.0.x addresses itself)";
    }
  }
  const auto lines = sysctl::plan_checks(needs, *limits);
  fmt::print("horde tune: {} connections, {} target(s){}, {} source address(es){}, {} CPUs\n\n",
             needs.connections, needs.targets, needs.target_on_this_host ? " on this host" : "",
             needs.source_addresses, sources_note, needs.cpus);
  fmt::print("{}", sysctl::render_table(lines));
  const bool fits = sysctl::plan_fits(lines);
  fmt::print("\n{}\n",
             fits ? "verdict: the plan fits (lines marked adapted say what horde does)"
                  : "verdict: the plan does NOT fit; apply the fixes above, or --apply as root");

  // Interrupt and queue placement for the interface that reaches the target,
  // relative to the CPUs horde's shards would run on.
  affinity::nic_advice nic;
  if (!target_host.empty()) {
    const std::string interface = affinity::interface_for(options.root, target_host);
    nic = affinity::advise_nic(options.root, interface, affinity::allowed_cpus());
    fmt::print("\nNIC placement ({}):{}\n", interface.empty() ? "no route" : interface,
               nic.note.empty() ? "" : " " + nic.note);
    for (const auto& line : nic.lines) {
      fmt::print("  {:<7} {:<44} current {:<12} advised {}\n", line.ok ? "ok" : "advise", line.what,
                 line.current, line.advised);
      if (!line.ok) fmt::print("    fix: {}\n", line.fix);
    }
  }

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
  if (options.apply) {
    const auto outcome = sysctl::apply_fixes(lines, *limits, options.root);
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
  }
  return fits ? 0 : 1;
}

}  // namespace horde::app

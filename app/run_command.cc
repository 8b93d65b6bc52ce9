#include "app/run_command.hh"

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>

#include "affinity/cpu_set.hh"
#include "affinity/placement.hh"
#include "affinity/topology.hh"
#include "app/redact.hh"
#include "app/report.hh"
#include "app/result_file.hh"
#include "app/target_cpus.hh"
#include "app/target_url.hh"
#include "app/units.hh"
#include "core/clock.hh"
#include "core/engine.hh"
#include "core/ring.hh"
#include "proto/stamp.hh"
#include "proto/ws_session.hh"
#include "sysctl/check_report.hh"
#include "sysctl/fd_limits.hh"
#include "sysctl/kernel_limits.hh"
#include "sysctl/net_counters.hh"
#include "sysctl/planner.hh"
#include "sysctl/proc_ports.hh"

namespace horde::app {
namespace {

std::atomic<int> stop_signals{0};

// horde's own receive limit (proto::ws_limits), which horde serve shares.
constexpr uint64_t max_message_bytes = proto::ws_limits{}.max_message_bytes;

void on_stop_signal(int) {
  stop_signals.fetch_add(1, std::memory_order_relaxed);
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

result<core::endpoint> ipv4_endpoint(const std::string& address, uint16_t port) {
  core::endpoint out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) != 1) {
    return make_error("'" + address + "' is not an IPv4 address");
  }
  out.length = sizeof(sockaddr_in);
  return out;
}

bool is_ipv4_loopback(const core::endpoint& e) {
  if (e.family() != AF_INET) return false;
  return (ntohl(reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_addr.s_addr) >> 24) == 127;
}

std::string kernel_release() {
  utsname u{};
  return uname(&u) == 0 ? std::string(u.release) : "unknown";
}

// Two port lists as one, sorted, each port once.
std::vector<uint16_t> merged_ports(std::vector<uint16_t> a, const std::vector<uint16_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

uint32_t round_up_to_multiple(uint32_t n, uint32_t m) {
  return m == 0 ? n : (n + m - 1) / m * m;
}

// Shards needed so that no shard's share exceeds what one ring's file table
// may hold (RLIMIT_NOFILE caps it), rounded to a multiple of the CPUs.
uint32_t shards_for(uint64_t connections, uint64_t table_cap, size_t cpus, unsigned requested) {
  if (requested) return requested;
  const uint64_t by_table = (connections + table_cap - 1) / table_cap;
  return round_up_to_multiple(uint32_t(std::max<uint64_t>(by_table, cpus)), uint32_t(cpus));
}

struct parsed_flags {
  uint64_t connections, max_pending, duration, ping, connect_timeout, upgrade_timeout, pong_timeout,
      drain, close_timeout, wake_interval, size, send_backlog;
  double connect_rate, rate;
  uint16_t port_low, port_high;
};

// Stores a parsed value, or the first error seen; parse_flags reports that one.
template <class T, class U>
void take(T& dest, result<U> parsed, std::string& first_error) {
  if (parsed) {
    dest = T(*parsed);
  } else if (first_error.empty()) {
    first_error = parsed.error().message;
  }
}

result<parsed_flags> parse_flags(const run_options& o) {
  parsed_flags f{};
  std::string error;
  take(f.connections, parse_count(o.connections), error);
  take(f.max_pending, parse_count(o.max_pending), error);
  take(f.duration, parse_duration_ns(o.duration), error);
  take(f.ping, parse_duration_ns(o.ping_interval), error);
  take(f.connect_timeout, parse_duration_ns(o.connect_timeout), error);
  take(f.upgrade_timeout, parse_duration_ns(o.upgrade_timeout), error);
  take(f.pong_timeout, parse_duration_ns(o.pong_timeout), error);
  take(f.drain, parse_duration_ns(o.drain), error);
  take(f.close_timeout, parse_duration_ns(o.close_timeout), error);
  if (!o.send_backlog.empty()) take(f.send_backlog, parse_bytes(o.send_backlog), error);
  take(f.wake_interval, parse_duration_ns(o.wake_interval), error);
  if (error.empty() && f.wake_interval > 10'000'000) {
    error = "--wake-interval " + o.wake_interval +
            " is longer than 10ms: a shard's loop wakes at least every 10 ms anyway "
            "(stop, drain and phase changes are noticed then)";
  }
  take(f.size, parse_bytes(o.size), error);
  take(f.connect_rate, parse_rate_per_second(o.connect_rate), error);
  take(f.rate, parse_rate_per_second(o.rate), error);
  if (!o.total_rate.empty()) {
    double total = 0;
    take(total, parse_rate_per_second(o.total_rate), error);
    if (!error.empty()) return make_error(error);
    f.rate = f.connections ? total / double(f.connections) : 0;
  }
  if (!error.empty()) return make_error(error);
  if (f.connections == 0) return make_error("-c/--connections must be at least 1");
  if (f.duration == 0) return make_error("--duration must be more than 0");
  // Every message carries its stamp; a smaller one would measure nothing.
  // The largest is what horde (and horde serve) accept in one message.
  const size_t stamp_bytes = o.text ? proto::stamp_text_size : proto::stamp_size;
  if (f.size < stamp_bytes && !o.pubsub.enabled()) {
    return make_error(
        fmt::format("--size {} is smaller than the {}-byte stamp every message carries ({}): "
                    "horde could not time or match its echoes",
                    o.size, stamp_bytes, o.text ? "printable, with --text" : "binary"));
  }
  if (f.size > max_message_bytes) {
    return make_error(fmt::format(
        "--size is at most 16MiB: the largest message horde (and horde serve) will receive"));
  }
  if (f.close_timeout == 0) return make_error("--close-timeout must be more than 0");
  if (o.send_backlog.empty()) {
    // Room for 8 messages and their frame headers, and never under 1 MiB.
    f.send_backlog = std::max<uint64_t>(1u << 20, 8 * (f.size + 14));
  } else if (f.send_backlog < 64 * 1024 || f.send_backlog > (1u << 30)) {
    return make_error("--send-backlog is between 64KiB and 1GiB");
  }
  unsigned lo = 0, hi = 0;
  if (std::sscanf(o.ports.c_str(), "%u-%u", &lo, &hi) != 2 || lo == 0 || hi > 65535 || lo > hi) {
    return make_error("bad --ports '" + o.ports + "': expected e.g. 1025-65535");
  }
  f.port_low = uint16_t(lo);
  f.port_high = uint16_t(hi);
  return f;
}

}  // namespace

struct cpu_choice {
  std::vector<int> cpus;           // one per shard slot, in placement order
  std::vector<std::string> notes;  // what placement decided, for the report
};

// CPUs in placement order: one shard per physical core before any SMT
// sibling, one NUMA node before the next, CPUs left for a local target.
result<cpu_choice> place_on_cpus(const std::string& cpu_list, unsigned leave_for_target) {
  affinity::placement_request where;
  if (!cpu_list.empty()) {
    auto parsed = affinity::parse_cpu_list(cpu_list);
    if (!parsed) return make_error("--cpus: " + parsed.error().message);
    where.cpus = *parsed;
  }
  where.leave_for_target = leave_for_target;
  cpu_choice choice;
  choice.cpus = where.cpus ? *where.cpus : affinity::allowed_cpus();
  auto topology = affinity::read_topology(
      "/", affinity::restrict_to_cpuset(affinity::allowed_cpus(), affinity::cgroup_cpuset("/")));
  if (topology) {
    auto placed = affinity::place_shards(*topology, where);
    if (!placed) return make_error(placed.error().message);
    choice.cpus = placed->shard_cpus;
    choice.notes = placed->notes;
    choice.notes.push_back(affinity::describe(*placed));
  } else if (leave_for_target > 0) {
    return make_error("--leave-for-target needs the CPU topology: " + topology.error().message);
  }
  return choice;
}

// Whether this process's network namespace is not init's (a test's private
// one, a container's): compared by the namespaces' inodes.
bool in_private_network_namespace() {
  struct stat self {}, init {};
  if (stat("/proc/self/ns/net", &self) != 0 || stat("/proc/1/ns/net", &init) != 0) return false;
  return self.st_ino != init.st_ino || self.st_dev != init.st_dev;
}

// The process serving a ws:// or wss:// URL on this host's loopback, if it
// can be seen (found by its listening port).
std::optional<local_target> local_target_of(const std::string& url_text) {
  if (url_text.empty()) return std::nullopt;  // the embedded server is horde itself
  auto url = parse_target_url(url_text);
  if (!url) return std::nullopt;
  auto address = resolve(url->host, url->port);
  if (!address || !is_ipv4_loopback(*address)) return std::nullopt;
  auto owner = sysctl::find_listener_process("/", url->port);
  if (!owner || owner->pid == getpid()) return std::nullopt;
  auto allowed = affinity::parse_cpu_list(owner->cpus_allowed_list);
  if (!allowed) return std::nullopt;
  return local_target{owner->pid, owner->name, *allowed};
}

// The same planner as `horde tune`, before a single connect: a plan the
// kernel cannot carry is refused with the fix (unless --force), and what
// horde adapts or warns about goes into the report's notes.
int preflight(const core::client_plan& plan, const core::endpoint& target,
              const std::vector<uint16_t>& avoided_ports, const run_options& options,
              run_result& result) {
  auto limits = sysctl::read_kernel_limits("/");
  if (!limits) {
    result.notes.push_back("preflight skipped: " + limits.error().message);
    return 0;
  }
  sysctl::plan_needs needs;
  needs.connections = plan.connections;
  needs.targets = 1;
  needs.source_addresses = uint32_t(plan.sources.size());
  needs.target_on_this_host = result.embedded_server || is_ipv4_loopback(target);
  needs.message_bytes = plan.message_size;
  needs.messages_per_second_per_connection = plan.message_rate;
  needs.cpus = uint32_t(std::max<size_t>(1, plan.cpus.size()));
  needs.port_low = plan.port_low;
  needs.port_high = plan.port_high;
  needs.tls = plan.tls;
  needs.excluded_ports = plan.excluded_ports;
  needs.avoided_ports = avoided_ports;
  needs.connect_rate = plan.connect_rate;
  needs.pings_per_second_per_connection =
      plan.ping_interval_ns ? 1e9 / double(plan.ping_interval_ns) : 0;
  if (plan.pubsub.enabled()) {
    // Each publish reaches (connections x k / groups) subscribers on
    // average: per connection, its deliveries plus its share of publishes.
    const auto& layout = plan.pubsub.layout;
    const double publishes = plan.pubsub.publish_rate * double(layout.publishers);
    const double connections = double(std::max<uint64_t>(plan.connections, 1));
    needs.messages_per_second_per_connection =
        publishes * double(layout.per_connection) / double(std::max<uint64_t>(layout.groups, 1)) +
        publishes / connections;
  }
  result.netdev_backlog = limits->netdev_max_backlog;
  result.planned_netdev_backlog = sysctl::netdev_backlog_need(needs).needed;
  const auto lines = sysctl::plan_checks(needs, *limits);
  std::vector<sysctl::check_line> failing;
  for (const auto& line : lines) {
    if (line.verdict == sysctl::verdict::fail) failing.push_back(line);
    if (line.verdict == sysctl::verdict::warn) {
      result.notes.push_back(fmt::format("preflight: {} is {}, the plan wants {}{}", line.knob,
                                         line.current, line.needed,
                                         line.fix.empty() ? "" : "; fix: " + line.fix));
    }
  }
  if (failing.empty()) return 0;
  if (options.force) {
    for (const auto& line : failing) {
      result.notes.push_back(
          fmt::format("preflight FAILED (--force): {} is {}, the plan needs {}; "
                      "expect failures; fix: {}",
                      line.knob, line.current, line.needed, line.fix));
    }
    return 0;
  }
  fmt::print(
      stderr,
      "horde run: this plan cannot run on this host as it is configured:\n\n{}\n"
      "Fix the lines above (horde tune explains every knob), or add --force to run anyway.\n",
      sysctl::render_table(failing));
  return 2;
}

// The controller's loop while shards run: a progress line and a series point
// once a second, signals (the first stops the run cleanly, the second ends it
// at once), and a watchdog: a shard whose loop stops turning is named in the
// report, and a run past every deadline is ended, so the report is always
// written.
void watch_run(core::client_engine& engine, const core::client_plan& plan,
               const run_options& options, core::server_engine* server, uint64_t start,
               run_result& result) {
  constexpr uint64_t second = 1'000'000'000;
  const bool tty = isatty(STDERR_FILENO) && !options.quiet;
  // Whatever the server does, shards return by then (advance_phase's deadlines).
  const uint64_t deadline =
      start + plan.duration_ns + plan.drain_ns + 3 * plan.close_timeout_ns + 5 * second;
  series_point previous;
  uint64_t next_tick = start + second;
  int signals_seen = 0;
  uint64_t abort_at = 0;
  std::vector<uint64_t> turns = engine.loop_turns();
  std::vector<uint64_t> turned_at(turns.size(), start);
  std::vector<bool> named(turns.size(), false);
  while (engine.running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const uint64_t now = core::now_ns();
    const int signals = stop_signals.load(std::memory_order_relaxed);
    if (signals > signals_seen) {
      if (signals_seen == 0) {
        result.interrupted = true;
        engine.request_stop();
        if (!options.quiet)
          fmt::print(stderr,
                     "\nhorde: stopping (signal): closing connections and writing the report; "
                     "a second signal ends the run at once\n");
      }
      if (signals >= 2 && abort_at == 0) {
        abort_at = now;
        engine.request_abort();
        result.notes.push_back("ended at once by a second signal: no close handshakes");
        if (!options.quiet) fmt::print(stderr, "\nhorde: ending now\n");
      }
      signals_seen = signals;
    }
    if (abort_at == 0 && now > deadline) {
      abort_at = now;
      engine.request_abort();
      result.notes.push_back(
          "watchdog: shards were still running past duration + drain + 3 x close timeout; "
          "ended at once");
    }
    if (abort_at != 0 && now > abort_at + 3 * second) {
      result.shards_stuck = true;
      result.notes.push_back(
          "watchdog: shards did not return within 3 s of the end; "
          "the report is from their last counters");
      break;
    }
    const auto current = engine.loop_turns();
    for (size_t i = 0; i < current.size(); ++i) {
      if (current[i] != turns[i]) {
        turns[i] = current[i];
        turned_at[i] = now;
      } else if (!named[i] && now - turned_at[i] > 3 * second) {
        named[i] = true;
        result.notes.push_back(
            fmt::format("watchdog: shard {} stopped advancing at {:.1f} s (no loop turn for 3 s)",
                        i, double(turned_at[i] - start) / 1e9));
      }
    }
    if (now < next_tick) continue;
    next_tick += second;
    core::metrics_snapshot snapshot;
    engine.snapshot(snapshot);
    series_point point;
    point.t = double(now - start) / 1e9;
    point.open = snapshot.counters.open_now;
    point.attempts = snapshot.counters.attempts;
    point.upgraded = snapshot.counters.upgraded;
    point.failures = snapshot.counters.failures_total();
    point.sent = snapshot.counters.messages_sent;
    point.received = snapshot.counters.messages_received;
    point.round_trip_p50_ns = snapshot.latency.round_trip.value_at_quantile(0.5);
    point.round_trip_p99_ns = snapshot.latency.round_trip.value_at_quantile(0.99);
    point.rss_bytes = read_self_usage().rss_bytes;
    if (server) {
      const auto totals = server->totals();
      result.server_peak_groups = std::max(result.server_peak_groups, totals.groups);
      result.server_peak_subscriptions =
          std::max(result.server_peak_subscriptions, totals.subscriptions);
    }
    point.publishes = snapshot.counters.pubsub.publishes;
    point.expected = snapshot.counters.pubsub.owed();
    point.delivered = snapshot.counters.pubsub.unique();
    // Memory per connection is what holding connections costs: sampled while
    // the run is still in its send phase, not during the closing handshakes
    // (each takes a framing context until it completes).
    const bool holding = now < start + plan.duration_ns;
    if (holding && point.open >= result.open_at_rss_sample && point.open > 0) {
      result.open_at_rss_sample = point.open;
      result.rss_at_peak_open = point.rss_bytes;
    }
    result.series.push_back(point);
    if (!options.quiet) {
      const std::string line = progress_line(result, point, previous);
      if (tty) {
        fmt::print(stderr, "\r{}\033[K", line);
      } else {
        fmt::print(stderr, "{}\n", line);
      }
    }
    previous = point;
  }
  if (tty) fmt::print(stderr, "\n");
}

// The summary always; the JSON whole or not at all. Returns the exit code a
// failed write deserves (2), else 0.
int write_outputs(const run_options& options, const run_result& result) {
  print_summary(stdout, result);
  std::fflush(stdout);
  if (options.json_path.empty()) return 0;
  if (auto written = write_whole(options.json_path, to_json(result).dump(1) + "\n"); !written) {
    fmt::print(stderr,
               "horde run: the JSON result was not written: {} (the summary above has it)\n",
               written.error().message);
    return 2;
  }
  return 0;
}

int run_load(const run_options& options) {
  auto flags = parse_flags(options);
  if (!flags) {
    fmt::print(stderr, "horde run: {}\n", flags.error().message);
    return 2;
  }
  // A result that cannot be written is found out now, not after the run.
  if (!options.json_path.empty()) {
    if (auto writable = check_writable(options.json_path); !writable) {
      fmt::print(stderr, "horde run: --json: {}\n", writable.error().message);
      return 2;
    }
  }
  if (auto probed = core::probe_kernel_features(); !probed) {
    fmt::print(stderr, "horde run: {}\n", probed.error().message);
    return 2;
  }
  const auto limits = sysctl::raise_fd_soft_limit();
  const uint64_t table_cap = std::max<uint64_t>(core::max_file_table_slots(), 64);

  // A target on this host gets its CPUs (app/target_cpus.hh) unless the
  // user placed horde.
  const bool user_placed = !options.cpus.empty() || options.leave_for_target >= 0;
  const target_cpu_choice for_target =
      choose_target_cpus(affinity::allowed_cpus(),
                         user_placed ? std::nullopt : local_target_of(options.url), user_placed);
  std::string cpu_list = options.cpus;
  if (for_target.cpus) cpu_list = fmt::format("{}", fmt::join(*for_target.cpus, ","));
  const unsigned leave = options.leave_for_target >= 0 ? unsigned(options.leave_for_target)
                                                       : for_target.leave_for_target;
  auto placed = place_on_cpus(cpu_list, leave);
  if (!placed) {
    fmt::print(stderr, "horde run: {}\n", placed.error().message);
    return 2;
  }
  if (!for_target.note.empty()) placed->notes.insert(placed->notes.begin(), for_target.note);
  const std::vector<int>& cpus = placed->cpus;
  const std::vector<std::string>& placement_notes = placed->notes;

  run_result result;
  if (options.raw) {
    result.notes.push_back(
        "raw TCP: no WebSocket upgrade or framing; the echo is cut into --size byte messages, "
        "each starting with its stamp (pings are off)");
  }
  for (auto& note : placement_notes)
    result.notes.push_back("placement: " + note);
  result.kernel = kernel_release();
  result.cpu_count = unsigned(affinity::allowed_cpus().size());
  result.fd_soft = limits.soft;
  result.fd_hard = limits.hard;
  result.usage_start = read_self_usage();

  core::client_plan plan;
  plan.connections = flags->connections;
  plan.connect_rate = flags->connect_rate;
  plan.max_pending_connects = uint32_t(std::max<uint64_t>(flags->max_pending, 1));
  plan.duration_ns = flags->duration;
  plan.message_rate = flags->rate;
  plan.arrivals = options.poisson ? core::arrival::poisson : core::arrival::constant;
  plan.message_size = uint32_t(flags->size);
  plan.binary = !options.text;
  plan.ping_interval_ns = options.raw ? 0 : flags->ping;
  plan.raw = options.raw;
  plan.connect_timeout_ns = flags->connect_timeout;
  plan.upgrade_timeout_ns = flags->upgrade_timeout;
  plan.pong_timeout_ns = flags->pong_timeout;
  plan.drain_ns = flags->drain;
  plan.close_timeout_ns = flags->close_timeout;
  plan.send_backlog_bytes = uint32_t(flags->send_backlog);
  plan.wake_interval_ns = flags->wake_interval;
  plan.port_low = flags->port_low;
  plan.port_high = flags->port_high;
  plan.cpus = cpus;
  plan.shards = shards_for(plan.connections, table_cap, cpus.size(), options.shards);
  plan.file_slots_per_shard = uint32_t(core::client_shard_share(plan.connections, plan.shards));
  std::unique_ptr<core::pubsub_shared> pubsub_shared;
  if (options.pubsub.enabled()) {
    if (options.raw) {
      fmt::print(stderr, "horde run: --groups needs WebSocket; drop --raw\n");
      return 2;
    }
    auto setup = make_pubsub_plan(options.pubsub, plan.connections, flags->rate, options.total_rate,
                                  flags->size);
    if (!setup) {
      fmt::print(stderr, "horde run: {}\n", setup.error().message);
      return 2;
    }
    plan.pubsub = std::move(setup->plan);
    pubsub_shared = std::move(setup->shared);
    plan.message_rate = 0;  // no echo traffic: publishers send at plan.pubsub.publish_rate
    plan.binary = false;
  }
  if (plan.file_slots_per_shard > table_cap) {
    fmt::print(
        stderr,
        "horde run: {} shards would hold {} connections each, but one ring's descriptor table is "
        "capped at {} (RLIMIT_NOFILE); use more --shards or leave --shards unset\n",
        plan.shards, plan.file_slots_per_shard, table_cap);
    return 2;
  }
  if (plan.shards > cpus.size()) {
    result.notes.push_back(fmt::format(
        "{} shards on {} CPUs: RLIMIT_NOFILE ({}) caps each ring's direct-descriptor table, so {} "
        "connections need {} rings; shards share CPUs",
        plan.shards, cpus.size(), limits.soft, plan.connections, plan.shards));
  }

  // The target: a URL, or the embedded reference server on loopback. The
  // embedded server starts only once the preflight has accepted the plan, so
  // a refused plan never spins up its shards; until then it is planned as
  // 127.0.0.1 on a port not yet known.
  const bool embedded = options.url.empty();
  target_url url;
  if (embedded) {
    url.host = "127.0.0.1";
    url.port = 0;
    result.embedded_server = true;
  } else {
    auto parsed = parse_target_url(options.url);
    if (!parsed) {
      fmt::print(stderr, "horde run: {}\n", parsed.error().message);
      return 2;
    }
    url = *parsed;
    if (url.secure && options.raw) {
      fmt::print(stderr, "horde run: --raw is plain TCP; it does not go with wss://\n");
      return 2;
    }
    result.target = options.show_secrets ? options.url : redact_text(options.url);
  }

  auto address = resolve(url.host, url.port);
  if (!address) {
    fmt::print(stderr, "horde run: {}\n", address.error().message);
    return 2;
  }
  // The target's own port is never a source port (the embedded server's is
  // reserved here and named once it listens).
  const size_t reserved_target_ports = address->family() == AF_INET ? 1 : 0;
  if (!embedded && reserved_target_ports) plan.excluded_ports.push_back(url.port);
  plan.tls = url.secure;  // the preflight budgets TLS memory; the flags are applied below

  // Ports no source may bind: reserved ones, and those something on this host
  // listens on (a client socket there would take a port a server needs, or
  // fail to bind). First for one address to size the sources, then for all.
  const bool loopback = is_ipv4_loopback(*address);
  std::vector<uint16_t> avoided_ports;
  if (auto avoided = sysctl::ports_to_avoid("/", {loopback ? "127.0.0.1" : "0.0.0.0"},
                                            plan.port_low, plan.port_high)) {
    avoided_ports = avoided->ports;
  }
  const uint64_t ports_per_source = uint64_t(plan.port_high - plan.port_low + 1) -
                                    merged_ports(plan.excluded_ports, avoided_ports).size() -
                                    (embedded ? 1 : 0);
  std::vector<std::string> sources;
  if (!options.source_ips.empty()) {
    auto parsed = parse_ipv4_ranges(options.source_ips);
    if (!parsed) {
      fmt::print(stderr, "horde run: --source-ips: {}\n", parsed.error().message);
      return 2;
    }
    sources = *parsed;
  } else if (loopback) {
    // 90% of each address's ports, so a rested port is always at hand.
    const uint64_t needed = std::max<uint64_t>(
        1, (plan.connections * 10 / 9 + ports_per_source - 1) / ports_per_source);
    for (uint64_t i = 0; i < needed && i < 250; ++i)
      sources.push_back(fmt::format("127.0.0.{}", i + 1));
    if (needed > 1) {
      result.notes.push_back(
          fmt::format("{} loopback source addresses chosen for {} connections ({} ports each)",
                      sources.size(), plan.connections, ports_per_source));
    }
  } else {
    sources.push_back(address->family() == AF_INET ? "0.0.0.0" : "::");
  }
  for (const auto& s : sources) {
    core::endpoint e;
    if (s == "::") {
      e.storage.sin6_family = AF_INET6;
      e.storage.sin6_addr = in6addr_any;
      e.length = sizeof(sockaddr_in6);
    } else {
      auto parsed = ipv4_endpoint(s, 0);
      if (!parsed) {
        fmt::print(stderr, "horde run: {}\n", parsed.error().message);
        return 2;
      }
      e = *parsed;
    }
    if (e.family() != address->family()) {
      fmt::print(stderr, "horde run: source {} and target {} are of different address families\n",
                 s, url.host);
      return 2;
    }
    plan.sources.push_back(e);
  }
  result.sources = sources;
  if (auto avoided = sysctl::ports_to_avoid("/", sources, plan.port_low, plan.port_high)) {
    avoided_ports = avoided->ports;
    if (!avoided_ports.empty()) {
      result.notes.push_back(fmt::format(
          "{} reserved (net.ipv4.ip_local_reserved_ports) and {} listening ports skipped as "
          "source ports",
          avoided->reserved, avoided->listening));
    }
  } else {
    result.notes.push_back("source port check skipped: " + avoided.error().message);
  }
  plan.excluded_ports = merged_ports(plan.excluded_ports, avoided_ports);
  const uint64_t capacity = ports_per_source * plan.sources.size();
  if (capacity < plan.connections) {
    fmt::print(
        stderr,
        "horde run: {} connections need more (source address, port) pairs than {} sources x {} "
        "ports = {}; "
        "add addresses with --source-ips (e.g. 127.0.0.1-127.0.0.8 on loopback) or widen --ports\n",
        plan.connections, plan.sources.size(), ports_per_source, capacity);
    return 2;
  }
  result.plan = &plan;
  if (int refused = preflight(plan, *address, avoided_ports, options, result); refused != 0)
    return refused;

  std::unique_ptr<core::server_engine> server;
  if (embedded) {
    core::server_plan server_plan;
    server_plan.listen = *ipv4_endpoint("127.0.0.1", 0);
    server_plan.cpus = cpus;
    server_plan.mode = options.raw ? core::server_mode::raw_echo : core::server_mode::echo;
    // Listeners share connections by hash; 25% headroom keeps every shard's
    // table from filling when the split is uneven.
    server_plan.shards =
        shards_for(plan.connections + plan.connections / 4, table_cap, cpus.size(), 0);
    server_plan.file_slots_per_shard = uint32_t(std::min<uint64_t>(
        table_cap, (plan.connections + plan.connections / 4) / server_plan.shards + 1024));
    server = std::make_unique<core::server_engine>();
    auto port = server->start(server_plan);
    if (!port) {
      fmt::print(stderr, "horde run: embedded server: {}\n", port.error().message);
      return 2;
    }
    url.port = *port;
    address->storage.sin6_port = htons(*port);  // same offset in sockaddr_in
    result.target = fmt::format("ws://127.0.0.1:{}/", *port);
    plan.excluded_ports.push_back(*port);
  }
  proto::upgrade_target upgrade_target{url.host, url.port, url.secure, url.path_and_query};
  proto::upgrade_options upgrade_options;
  upgrade_options.subprotocols = options.subprotocols;
  upgrade_options.origin = options.origin;
  for (const auto& header : options.headers) {
    const size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      fmt::print(stderr, "horde run: bad -H '{}': expected 'Name: value'\n", header);
      return 2;
    }
    std::string value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    upgrade_options.headers.emplace_back(header.substr(0, colon), value);
    const std::string name = header.substr(0, colon);
    result.headers.emplace_back(name,
                                options.show_secrets ? value : redact_header_value(name, value));
  }
  auto request = proto::upgrade_request_template::make(upgrade_target, upgrade_options);
  if (!request) {
    fmt::print(stderr, "horde run: {}\n", request.error().message);
    return 2;
  }
  plan.targets.push_back(
      core::client_target{*address, std::move(*request), options.subprotocols, {}});
  if (url.secure) {
    if (auto applied = apply_client_tls(options.tls, url.host, plan); !applied) {
      fmt::print(stderr, "horde run: {}\n", applied.error().message);
      return 2;
    }
    result.notes.push_back(describe_client_tls(plan));
  }
  if (options.group_setup.enabled()) {
    if (!plan.pubsub.enabled()) {
      fmt::print(stderr, "horde run: --setup-url creates groups: it needs --groups\n");
      return 2;
    }
    if (!options.quiet)
      fmt::print(stderr, "horde run: creating groups at {}\n", options.group_setup.url);
    auto setup = run_group_setup(options.group_setup, plan.pubsub, pubsub_shared->not_created);
    if (!setup) {
      fmt::print(stderr, "horde run: {}\n", setup.error().message);
      return 2;
    }
    result.group_setup = std::make_unique<group_setup_result>(std::move(*setup));
  }

  install_stop_handlers();
  const auto network_before = sysctl::read_net_counters("/");
  result.private_network = in_private_network_namespace();
  core::client_engine engine(plan);
  engine.start();
  // Memory per connection counts from here: shards have made their rings,
  // buffer rings and heaps, and no connection slot exists yet.
  if (!engine.wait_ready(10'000'000'000))
    result.notes.push_back("some shards took over 10 s to set up; memory per connection is rough");
  result.rss_before_connections = read_self_usage().rss_bytes;
  const uint64_t start = core::now_ns();
  engine.go(start);
  watch_run(engine, plan, options, server.get(), start, result);
  if (!result.shards_stuck) result.errors = engine.join();
  result.elapsed_seconds = double(core::now_ns() - start) / 1e9;
  if (pubsub_shared) {
    const uint64_t began = pubsub_shared->publish_start_ns.load(std::memory_order_relaxed);
    if (began != 0) result.publish_start_seconds = double(began - start) / 1e9;
  }
  engine.snapshot(result.metrics);
  result.usage_end = read_self_usage();
  if (const auto network_after = sysctl::read_net_counters("/"); network_before && network_after) {
    result.kernel_network = sysctl::counters_between(*network_before, *network_after);
  }
  if (server) {
    result.server = server->totals();
    server->stop();
    for (auto& e : server->errors())
      result.errors.push_back(e);
  }
  const int written = write_outputs(options, result);
  if (result.shards_stuck) {
    // A shard that never returned cannot be joined: leave without waiting
    // for it, now that the report is out.
    std::fflush(nullptr);
    std::_Exit(written != 0 ? written : 1);
  }
  if (written != 0) return written;
  return result.errors.empty() ? 0 : 1;
}

int serve(const serve_options& options) {
  if (auto probed = core::probe_kernel_features(); !probed) {
    fmt::print(stderr, "horde serve: {}\n", probed.error().message);
    return 2;
  }
  const auto limits = sysctl::raise_fd_soft_limit();
  const uint64_t table_cap = std::max<uint64_t>(core::max_file_table_slots(), 64);
  auto max_connections = parse_count(options.max_connections);
  if (!max_connections) {
    fmt::print(stderr, "horde serve: {}\n", max_connections.error().message);
    return 2;
  }
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    fmt::print(stderr, "horde serve: --listen wants address:port, e.g. 127.0.0.1:9000\n");
    return 2;
  }
  auto listen = ipv4_endpoint(options.listen.substr(0, colon),
                              uint16_t(std::atoi(options.listen.c_str() + colon + 1)));
  if (!listen) {
    fmt::print(stderr, "horde serve: {}\n", listen.error().message);
    return 2;
  }
  // The same placement as `horde run`: physical cores before SMT siblings.
  auto placed = place_on_cpus(options.cpus, 0);
  if (!placed) {
    fmt::print(stderr, "horde serve: {}\n", placed.error().message);
    return 2;
  }
  const std::vector<int>& cpus = placed->cpus;
  core::server_plan plan;
  plan.listen = *listen;
  plan.mode = options.raw ? core::server_mode::raw_echo : core::server_mode::echo;
  plan.drop_every = options.drop_every;
  plan.duplicate_every = options.duplicate_every;
  plan.cpus = cpus;
  if (auto applied = apply_server_tls(options.tls_cert, options.tls_key, plan); !applied) {
    fmt::print(stderr, "horde serve: {}\n", applied.error().message);
    return 2;
  }
  const uint64_t with_headroom = *max_connections + *max_connections / 4;
  plan.shards = shards_for(with_headroom, table_cap, cpus.size(), options.shards);
  plan.file_slots_per_shard =
      uint32_t(std::min<uint64_t>(table_cap, with_headroom / plan.shards + 1024));
  install_stop_handlers();
  core::server_engine server;
  auto port = server.start(plan);
  if (!port) {
    fmt::print(stderr, "horde serve: {}\n", port.error().message);
    return 2;
  }
  // The first stdout line is the address: tests and scripts read the port.
  fmt::print("listening {}://{}:{}/ ({} shards, {} connections each, RLIMIT_NOFILE {})\n",
             plan.tls() ? "wss" : "ws", options.listen.substr(0, colon), *port, plan.shards,
             plan.file_slots_per_shard, limits.soft);
  for (const auto& note : placed->notes)
    fmt::print("placement: {}\n", note);
  std::fflush(stdout);
  uint64_t stop_at = 0;
  if (!options.duration.empty()) {
    auto d = parse_duration_ns(options.duration);
    if (!d) {
      fmt::print(stderr, "horde serve: {}\n", d.error().message);
      return 2;
    }
    stop_at = core::now_ns() + *d;
  }
  while (stop_signals.load(std::memory_order_relaxed) == 0 &&
         (stop_at == 0 || core::now_ns() < stop_at)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto totals = server.totals();
  server.stop();
  fmt::print("served: accepted {} upgraded {} messages in {} out {} accept errors {}\n",
             totals.accepted, totals.upgraded, totals.messages_in, totals.messages_out,
             totals.accept_errors);
  if (plan.tls()) {
    fmt::print("tls: handshakes full {} resumed {} failed {}\n", totals.tls_full,
               totals.tls_resumed, totals.tls_failed);
    // Why, in OpenSSL's words: a client that sent plain HTTP shows as
    // "tls_protocol_error 3: http request", one that refused our certificate
    // as "tls_peer_alert 1: tlsv1 alert unknown ca".
    for (const auto& f : totals.tls_failures.failure_texts) {
      fmt::print("  {} {}: {}\n", core::to_string(f.reason), f.count, f.text);
    }
    if (totals.tls_failures.unlisted_failures > 0) {
      fmt::print("  {} more failures with other reasons\n", totals.tls_failures.unlisted_failures);
    }
  }
  if (totals.subscribes + totals.publishes > 0) {
    fmt::print(
        "broker: subscribes {} unsubscribes {} publishes {} deliveries {} dropped {} "
        "duplicated {} slow consumers {} command errors {} group entries {} subscriptions {}\n",
        totals.subscribes, totals.unsubscribes, totals.publishes, totals.deliveries,
        totals.deliveries_dropped, totals.deliveries_duplicated, totals.slow_consumers,
        totals.command_errors, totals.groups, totals.subscriptions);
  }
  return server.errors().empty() ? 0 : 1;
}

}  // namespace horde::app

#include "app/run_command.hh"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "affinity/cpu_set.hh"
#include "app/cpu_placement.hh"
#include "app/html_report.hh"
#include "app/preflight.hh"
#include "app/report.hh"
#include "app/result_file.hh"
#include "app/run_observers.hh"
#include "app/run_verdict.hh"
#include "app/run_watch.hh"
#include "app/series_csv.hh"
#include "app/stop_signals.hh"
#include "app/worker_barrier.hh"
#include "app/worker_slice.hh"
#include "core/clock.hh"
#include "core/engine.hh"
#include "core/ring.hh"
#include "sysctl/fd_limits.hh"
#include "sysctl/net_counters.hh"

namespace horde::app {
namespace {

std::string kernel_release() {
  utsname u{};
  return uname(&u) == 0 ? std::string(u.release) : "unknown";
}

// Whether this process's network namespace is not init's (a test's private
// one, a container's): compared by the namespaces' inodes.
bool in_private_network_namespace() {
  struct stat self {
  }, init{};
  if (stat("/proc/self/ns/net", &self) != 0) return false;
  if (stat("/proc/1/ns/net", &init) == 0) return self.st_ino != init.st_ino;
  // /proc/1 may be closed to us (a sandbox): the initial namespace has a
  // fixed inode, PROC_NET_INIT_INO in include/linux/proc_ns.h.
  constexpr ino_t initial_network_namespace = 0xEFFFFFF9U;
  return self.st_ino != initial_network_namespace;
}

// The host as the plan needs it: io_uring's features, RLIMIT_NOFILE raised,
// the shards' CPUs. The environment goes into the result.
result<host_facts> read_host(const run_options& options, run_result& result) {
  if (auto probed = core::probe_kernel_features(); !probed) return probed.error();
  const auto limits = sysctl::raise_fd_soft_limit();
  auto placed = place_run_shards(options.url, options.cpus, options.leave_for_target);
  if (!placed) return make_error(placed.error().message);
  for (auto& note : placed->notes)
    result.notes.push_back("placement: " + note);
  result.kernel = kernel_release();
  result.cpu_count = unsigned(affinity::allowed_cpus().size());
  result.fd_soft = limits.soft;
  result.fd_hard = limits.hard;
  host_facts host;
  host.cpus = placed->cpus;
  host.table_cap = std::max<uint64_t>(core::max_file_table_slots(), 64);
  host.fd_soft = limits.soft;
  return host;
}

// A protocol.* threshold names the metric of one --protocol: known only
// once the plan has its codec.
result<void> thresholds_fit_plan(const std::vector<std::string>& texts, const run_plan& plan) {
  const auto* codec = plan.client.protocol.codec;
  for (const auto& text : texts) {
    const auto parsed = parse_threshold(text);
    if (!parsed) continue;  // refused with its reason before the plan was made
    if (auto fits = threshold_fits_protocol(*parsed, codec ? codec->name : "ws"); !fits)
      return make_error("--threshold '" + text + "': " + fits.error().message);
  }
  return {};
}

// What the plan decided, and what the preflight adds; refused plans print
// the fix. Returns an exit code, 0 to go on: 2 for flags that make no plan,
// 3 for a plan the preflight refuses (a run of it would not be valid).
int plan_and_check(const run_options& options, const host_facts& host, run_plan& plan,
                   run_result& result, const std::string& command) {
  auto built = build_run_plan(options, host);
  if (!built) {
    fmt::print(stderr, "{}: {}\n", command, built.error().message);
    return 2;
  }
  plan = std::move(*built);
  if (auto fits = thresholds_fit_plan(options.thresholds, plan); !fits) {
    fmt::print(stderr, "{}: {}\n", command, fits.error().message);
    return 2;
  }
  result.notes.insert(result.notes.end(), plan.notes.begin(), plan.notes.end());
  result.embedded_server = plan.embedded;
  result.target = plan.target_text;
  result.sources = plan.sources;
  result.headers = plan.headers_shown;
  result.percentiles = plan.percentiles;
  result.plan = &plan.client;
  const preflight_outcome checked = preflight(plan, options.force);
  result.notes.insert(result.notes.end(), checked.notes.begin(), checked.notes.end());
  result.netdev_backlog = checked.netdev_backlog;
  result.planned_netdev_backlog = checked.planned_netdev_backlog;
  if (!checked.refused) return 0;
  fmt::print(
      stderr,
      "{}: this plan cannot run on this host as it is configured:\n\n{}\n"
      "Fix the lines above (horde tune explains every knob), or add --force to run anyway.\n",
      command, checked.refusal);
  return exit_invalid;
}

// The embedded reference server on loopback, started only once the
// preflight has accepted the plan, so a refused plan never spins up shards.
result<std::unique_ptr<core::server_engine>> start_embedded_server(const run_options& options,
                                                                   const host_facts& host,
                                                                   run_plan& plan) {
  const uint64_t connections = plan.client.connections;
  core::server_plan server_plan;
  server_plan.listen = *ipv4_endpoint("127.0.0.1", 0);
  server_plan.cpus = host.cpus;
  server_plan.mode = options.raw ? core::server_mode::raw_echo : core::server_mode::echo;
  // A run that offers permessage-deflate gets a server that accepts it.
  server_plan.compression = plan.client.compression != core::compression_mode::off;
  // Listeners share connections by hash; 25% headroom keeps every shard's
  // table from filling when the split is uneven.
  server_plan.shards =
      shards_for(connections + connections / 4, host.table_cap, host.cpus.size(), 0);
  server_plan.file_slots_per_shard = uint32_t(std::min<uint64_t>(
      host.table_cap, (connections + connections / 4) / server_plan.shards + 1024));
  auto server = std::make_unique<core::server_engine>();
  auto port = server->start(server_plan);
  if (!port) return make_error("embedded server: " + port.error().message);
  if (auto targeted = target_embedded_server(plan, options, *port); !targeted) {
    server->stop();
    return targeted.error();
  }
  return server;
}

// The run-level setup steps (a scenario's `setup:`, --setup-url's groups):
// once, before any connection. A failed step makes the run invalid.
result<void> run_setup(const run_options& options, run_plan& plan, run_result& result,
                       const std::string& command) {
  if (plan.setup.empty()) return {};
  if (!options.quiet)
    fmt::print(stderr, "{}: {} setup step(s) before any connection\n", command, plan.setup.size());
  auto steps = run_setup_steps(plan, result.group_setup);
  if (!steps) return steps.error();
  result.setup_steps = std::move(*steps);
  return {};
}

// --start-at: sleeps until then (a stop signal ends the wait), and records
// how late the run really starts by this host's clock.
void wait_for_start_at(run_result& r) {
  if (!r.start_at_unix_ns) return;
  const uint64_t at = *r.start_at_unix_ns;
  for (;;) {
    const uint64_t now = core::realtime_ns();
    if (now >= at || stop_signals_seen() > 0) break;
    // Long waits in 100 ms steps (a signal is seen), the last one to the ns.
    const uint64_t step = std::min<uint64_t>(at - now, 100'000'000);
    const uint64_t wake = now + step;
    timespec ts{time_t(wake / 1'000'000'000), long(wake % 1'000'000'000)};
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, nullptr);
  }
  r.clock_offset_ns = int64_t(core::realtime_ns() - at);
}

// --start-at parsed now (against this host's clock), and with --worker the
// record the JSON carries.
result<void> worker_into(const run_options& options, const run_plan& plan, run_result& result) {
  if (!options.start_at.empty()) {
    auto at = parse_start_at(options.start_at, core::realtime_ns());
    if (!at) return at.error();
    result.start_at_unix_ns = *at;
  }
  if (!plan.worker.enabled) return {};
  worker_record w;
  w.index = plan.worker.index;
  w.count = plan.worker.count;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) w.host = host;
  w.whole_connections = plan.whole_connections;
  w.whole_connect_rate = plan.whole_connect_rate;
  for (const planned_target& t : plan.targets)
    w.target_urls.push_back(t.text);
  if (plan.embedded) w.target_urls.push_back("embedded");
  result.worker = std::move(w);
  return {};
}

// The JSON: to a file, or with --json - to stdout between marker lines.
result<void> write_json(const std::string& path, const std::string& text) {
  if (path != "-") return write_whole(path, text);
  std::fputs("-----BEGIN HORDE RESULT-----\n", stdout);
  std::fputs(text.c_str(), stdout);
  std::fputs("-----END HORDE RESULT-----\n", stdout);
  std::fflush(stdout);
  return {};
}

// The run itself: shards start, the controller watches, the counters are read.
void run_engine(const run_options& options, const run_plan& plan, core::server_engine* server,
                const std::vector<threshold>& abort_on, run_observers& observers,
                run_result& result) {
  install_stop_handlers();
  const auto network_before = sysctl::read_net_counters("/");
  result.private_network = in_private_network_namespace();
  core::client_engine engine(plan.client);
  worker_barrier barrier;
  if (plan.worker.count > 1 && plan.client.pubsub.enabled()) {
    if (auto started = barrier.start(options.barrier, plan.worker.index, plan.worker.count,
                                     plan.client.shards, *plan.pubsub_shared);
        !started) {
      result.errors.push_back(started.error().message);
      return;
    }
  }
  engine.start();
  // Memory per connection counts from here: shards have made their rings,
  // buffer rings and heaps, and no connection slot exists yet.
  if (!engine.wait_ready(10'000'000'000))
    result.notes.push_back("some shards took over 10 s to set up; memory per connection is rough");
  // ... and the controller's own reading buffers are made (docs/decisions.md).
  watch_snapshots snapshots;
  snapshots.touch(engine);
  result.rss_before_connections = read_self_usage().rss_bytes;
  observers.before_connections(result);
  wait_for_start_at(result);
  const uint64_t start = core::now_ns();
  result.started_unix_ns = core::realtime_ns();
  engine.go(start);
  watch_run(engine, plan.client, options.quiet, server, start, snapshots, result, abort_on,
            observers.each_second(result));
  if (!result.shards_stuck) result.errors = engine.join();
  barrier.stop();
  observers.at_end(result);
  result.elapsed_seconds = double(core::now_ns() - start) / 1e9;
  if (plan.pubsub_shared) {
    const uint64_t began = plan.pubsub_shared->publish_start_ns.load(std::memory_order_relaxed);
    if (began != 0) result.publish_start_seconds = double(began - start) / 1e9;
  }
  engine.snapshot(result.metrics);
  if (plan.targets.size() > 1) {
    result.targets.resize(plan.targets.size());
    for (size_t t = 0; t < plan.targets.size(); ++t) {
      result.targets[t].url = plan.targets[t].text;
      result.targets[t].weight = plan.targets[t].weight;
      engine.snapshot_target(t, result.targets[t].metrics);
    }
  }
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
}

// The summary always; the JSON and CSV each whole or not at all. Returns
// the exit code a failed write deserves (2), else 0.
int write_outputs(const run_options& options, const run_result& result) {
  print_summary(stdout, result);
  std::fflush(stdout);
  int code = 0;
  if (!options.json_path.empty()) {
    if (auto written = write_json(options.json_path, to_json(result).dump(1) + "\n"); !written) {
      fmt::print(stderr,
                 "horde run: the JSON result was not written: {} (the summary above has it)\n",
                 written.error().message);
      code = exit_usage;
    }
  }
  if (!options.csv_path.empty()) {
    if (auto written = write_whole(options.csv_path, series_csv(result.series)); !written) {
      fmt::print(stderr, "horde run: the CSV series was not written: {}\n",
                 written.error().message);
      code = exit_usage;
    }
  }
  if (!options.html_path.empty()) {
    if (auto written = write_whole(options.html_path, html_report(to_json(result))); !written) {
      fmt::print(stderr, "horde run: the HTML report was not written: {}\n",
                 written.error().message);
      code = exit_usage;
    }
  }
  return code;
}

// Every --threshold parsed before anything starts: a typo is a usage error.
result<std::vector<threshold>> parse_thresholds(const std::vector<std::string>& texts) {
  std::vector<threshold> out;
  for (const auto& text : texts) {
    auto parsed = parse_threshold(text);
    if (!parsed) return make_error("--threshold '" + text + "': " + parsed.error().message);
    out.push_back(std::move(*parsed));
  }
  return out;
}

// An output that cannot be written is found out now, not after the run.
result<void> check_outputs(const run_options& options) {
  if (!options.json_path.empty() && options.json_path != "-") {
    if (auto writable = check_writable(options.json_path); !writable)
      return make_error("--json: " + writable.error().message);
  }
  if (!options.csv_path.empty()) {
    if (auto writable = check_writable(options.csv_path); !writable)
      return make_error("--csv: " + writable.error().message);
  }
  if (!options.html_path.empty()) {
    if (auto writable = check_writable(options.html_path); !writable)
      return make_error("--html: " + writable.error().message);
  }
  return {};
}

}  // namespace

run_attempt carry_out_run(const run_options& options, const std::string& command) {
  run_attempt attempt;
  auto fail = [&](int code, const std::string& message) {
    if (!message.empty()) fmt::print(stderr, "{}: {}\n", command, message);
    attempt.exit_code = code;
    attempt.run.reset();
    return std::move(attempt);
  };
  auto thresholds = parse_thresholds(options.thresholds);
  if (!thresholds) return fail(exit_usage, thresholds.error().message);
  // On the heap before anything points into it: result.plan is &plan.client.
  attempt.run = std::make_unique<finished_run>();
  run_plan& plan = attempt.run->plan;
  run_result& result = attempt.run->result;
  result.usage_start = read_self_usage();
  auto host = read_host(options, result);
  if (!host) return fail(exit_usage, host.error().message);
  if (int refused = plan_and_check(options, *host, plan, result, command); refused != 0)
    return fail(refused, "");
  if (auto done = worker_into(options, plan, result); !done)
    return fail(exit_usage, done.error().message);
  std::unique_ptr<core::server_engine> server;
  if (plan.embedded) {
    auto started = start_embedded_server(options, *host, plan);
    if (!started) return fail(exit_usage, started.error().message);
    server = std::move(*started);
    result.target = plan.target_text;
  }
  if (auto set_up = run_setup(options, plan, result, command); !set_up) {
    if (server) server->stop();
    return fail(exit_invalid, set_up.error().message);
  }
  auto observers = run_observers::start(options, plan, result);
  if (!observers) return fail(exit_usage, observers.error().message);
  run_engine(options, plan, server.get(), *thresholds, *observers, result);
  judge_thresholds(*thresholds, result);
  return attempt;
}

int run_load(const run_options& options) {
  if (auto writable = check_outputs(options); !writable) {
    fmt::print(stderr, "horde run: {}\n", writable.error().message);
    return exit_usage;
  }
  run_attempt attempt = carry_out_run(options, "horde run");
  if (!attempt.run) return attempt.exit_code;
  const run_result& result = attempt.run->result;
  const int written = write_outputs(options, result);
  const int code = written != 0 ? written : judge_run(result).exit_code;
  if (result.shards_stuck) {
    // A shard that never returned cannot be joined: leave without waiting
    // for it, now that the report is out.
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

}  // namespace horde::app

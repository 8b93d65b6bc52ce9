#include "app/serve_command.hh"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "app/cpu_placement.hh"
#include "app/stop_signals.hh"
#include "app/target_url.hh"
#include "app/tls_flags.hh"
#include "app/units.hh"
#include "core/clock.hh"
#include "core/engine.hh"
#include "core/ring.hh"
#include "sysctl/fd_limits.hh"

namespace horde::app {
namespace {

struct serve_setup {
  core::server_plan plan;
  std::string address;             // as --listen gave it, without the port
  std::vector<std::string> notes;  // placement
  uint64_t duration_ns = 0;        // 0: until a signal
};

// --compression and its companions: the terms on which an offer is agreed.
result<void> compression_into(const serve_options& options, core::server_plan& plan) {
  const bool tuned =
      options.compression_window_bits != 0 || !options.compression_no_context_takeover.empty();
  if (options.compression == "off") {
    if (!tuned) return {};
    return make_error(
        "--compression-window-bits and --compression-no-context-takeover set the terms of "
        "permessage-deflate: add --compression accept");
  }
  if (options.raw) {
    return make_error("--compression is permessage-deflate, a WebSocket extension: not with --raw");
  }
  plan.compression = true;
  if (options.compression_window_bits != 0) {
    plan.deflate.server_max_window_bits = uint8_t(options.compression_window_bits);
    plan.deflate.client_max_window_bits = uint8_t(options.compression_window_bits);
  }
  const std::string& which = options.compression_no_context_takeover;
  plan.deflate.server_no_context_takeover = which == "server" || which == "both";
  plan.deflate.client_no_context_takeover = which == "client" || which == "both";
  return {};
}

// --listen, --cpus, --tls-*, --max-connections, --duration as a server plan.
result<serve_setup> plan_server(const serve_options& options, uint64_t table_cap) {
  auto max_connections = parse_count(options.max_connections);
  if (!max_connections) return make_error(max_connections.error().message);
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    return make_error("--listen wants address:port, e.g. 127.0.0.1:9000");
  }
  serve_setup setup;
  setup.address = options.listen.substr(0, colon);
  auto listen =
      ipv4_endpoint(setup.address, uint16_t(std::atoi(options.listen.c_str() + colon + 1)));
  if (!listen) return make_error(listen.error().message);
  // The same placement as `horde run`: physical cores before SMT siblings.
  auto placed = place_on_cpus(options.cpus, 0);
  if (!placed) return make_error(placed.error().message);
  setup.notes = placed->notes;
  core::server_plan& plan = setup.plan;
  plan.listen = *listen;
  plan.mode = options.raw ? core::server_mode::raw_echo : core::server_mode::echo;
  plan.drop_every = options.drop_every;
  plan.duplicate_every = options.duplicate_every;
  plan.cpus = placed->cpus;
  if (auto applied = apply_server_tls(options.tls_cert, options.tls_key, plan); !applied) {
    return make_error(applied.error().message);
  }
  const uint64_t with_headroom = *max_connections + *max_connections / 4;
  plan.shards = shards_for(with_headroom, table_cap, plan.cpus.size(), options.shards);
  plan.file_slots_per_shard =
      uint32_t(std::min<uint64_t>(table_cap, with_headroom / plan.shards + 1024));
  plan.sessions_secret = options.sessions;
  if (!options.drop_at.empty()) {
    auto at = parse_duration_ns(options.drop_at);
    if (!at) return make_error("--drop-at: " + at.error().message);
    if (*at == 0) return make_error("--drop-at must be above 0 (e.g. 10s)");
    plan.drop_after_ns = *at;
  }
  if (!(options.drop_fraction > 0 && options.drop_fraction <= 1)) {
    return make_error("--drop-fraction must be in (0, 1], e.g. 0.5");
  }
  plan.drop_fraction = options.drop_fraction;
  if (options.drop_mode != "close" && options.drop_mode != "reset") {
    return make_error("--drop-mode is close (a close frame 1001) or reset (TCP RST)");
  }
  plan.drop_reset = options.drop_mode == "reset";
  if (auto agreed = compression_into(options, plan); !agreed) return agreed.error();
  if (!options.duration.empty()) {
    auto d = parse_duration_ns(options.duration);
    if (!d) return make_error(d.error().message);
    setup.duration_ns = *d;
  }
  return setup;
}

void print_totals(const core::server_totals& totals, const core::server_plan& plan) {
  const bool tls = plan.tls();
  fmt::print("served: accepted {} upgraded {} messages in {} out {} accept errors {}\n",
             totals.accepted, totals.upgraded, totals.messages_in, totals.messages_out,
             totals.accept_errors);
  if (tls) {
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
  if (totals.http_publishes + totals.http_publishes_refused > 0) {
    fmt::print("http publishes: {} refused {}\n", totals.http_publishes,
               totals.http_publishes_refused);
  }
  if (!plan.sessions_secret.empty()) {
    fmt::print("sessions: issued {} refused {} upgrades unauthorized (401) {} not found (404) {}\n",
               totals.sessions_issued, totals.sessions_refused, totals.upgrades_unauthorized,
               totals.requests_not_found);
  }
  if (plan.compression) {
    // The ratio each way: what the codec took in over what it gave out.
    const auto ratio = [](uint64_t plain, uint64_t coded) {
      return coded == 0 ? 0.0 : double(plain) / double(coded);
    };
    fmt::print(
        "compression: permessage-deflate on {} connections; sent {} bytes as {} ({:.2f}x), "
        "received {} bytes as {} ({:.2f}x)\n",
        totals.compressed_upgrades, totals.bytes_before_compression, totals.bytes_compressed,
        ratio(totals.bytes_before_compression, totals.bytes_compressed), totals.bytes_inflated,
        totals.bytes_before_inflation, ratio(totals.bytes_inflated, totals.bytes_before_inflation));
  }
  if (plan.drop_after_ns != 0) {
    fmt::print("mass drop: {} connections {}\n", totals.mass_dropped,
               plan.drop_reset ? "reset" : "closed (1001)");
  }
}

}  // namespace

int serve(const serve_options& options) {
  if (auto probed = core::probe_kernel_features(); !probed) {
    fmt::print(stderr, "horde serve: {}\n", probed.error().message);
    return 2;
  }
  const auto limits = sysctl::raise_fd_soft_limit();
  const uint64_t table_cap = std::max<uint64_t>(core::max_file_table_slots(), 64);
  auto setup = plan_server(options, table_cap);
  if (!setup) {
    fmt::print(stderr, "horde serve: {}\n", setup.error().message);
    return 2;
  }
  const core::server_plan& plan = setup->plan;
  install_stop_handlers();
  core::server_engine server;
  auto port = server.start(plan);
  if (!port) {
    fmt::print(stderr, "horde serve: {}\n", port.error().message);
    return 2;
  }
  // The first stdout line is the address: tests and scripts read the port.
  fmt::print("listening {}://{}:{}/ ({} shards, {} connections each, RLIMIT_NOFILE {})\n",
             plan.tls() ? "wss" : "ws", setup->address, *port, plan.shards,
             plan.file_slots_per_shard, limits.soft);
  for (const auto& note : setup->notes)
    fmt::print("placement: {}\n", note);
  std::fflush(stdout);
  const uint64_t stop_at = setup->duration_ns ? core::now_ns() + setup->duration_ns : 0;
  while (stop_signals_seen() == 0 && (stop_at == 0 || core::now_ns() < stop_at)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto totals = server.totals();
  server.stop();
  print_totals(totals, plan);
  return server.errors().empty() ? 0 : 1;
}

}  // namespace horde::app

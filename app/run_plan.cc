#include "app/run_plan.hh"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "app/cpu_placement.hh"
#include "app/protocol_options.hh"
#include "app/publish_http.hh"
#include "app/redact.hh"
#include "app/scenario_plan.hh"
#include "app/stages.hh"
#include "app/target_list.hh"
#include "app/units.hh"
#include "app/worker_slice.hh"
#include "proto/payload_bytes.hh"
#include "proto/stamp.hh"
#include "proto/ws_session.hh"
#include "sysctl/proc_ports.hh"

namespace horde::app {
namespace {

// horde's own receive limit (proto::ws_limits), which horde serve shares.
constexpr uint64_t max_message_bytes = proto::ws_limits{}.max_message_bytes;

struct parsed_flags {
  uint64_t connections, max_pending, duration, ping, connect_timeout, upgrade_timeout, pong_timeout,
      drain, close_timeout, wake_interval, size, send_backlog;
  double connect_rate;
  double close_rate = 0;  // 0: paced by the window of closes in flight
  message_rate rate;
  uint16_t port_low, port_high;
  core::load_profile connection_stages, rate_stages;
  std::string payload;  // --payload, decoded
};

// --payload: hex:, base64:, text: or file:PATH, into the message's bytes;
// the stamp's place checked.
result<std::string> payload_bytes(const run_options& o) {
  std::string bytes;
  if (o.payload.rfind("file:", 0) == 0) {
    std::ifstream in(o.payload.substr(5), std::ios::binary);
    if (!in) return make_error("--payload: cannot read " + o.payload.substr(5));
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    auto decoded = proto::decode_payload(o.payload);
    if (!decoded) return make_error("--payload: " + decoded.error().message);
    bytes = std::move(*decoded);
  }
  if (o.text)
    return make_error("--payload is sent in binary frames with a binary stamp: drop --text");
  if (auto fits = proto::check_stamp_offset(bytes.size(), o.stamp_offset, proto::stamp_size); !fits)
    return make_error("--stamp-offset: " + fits.error().message);
  return bytes;
}

// Stores a parsed value, or the first error seen; parse_flags reports that one.
template <class T, class U>
void take(T& dest, result<U> parsed, std::string& first_error) {
  if (parsed) {
    dest = T(*parsed);
  } else if (first_error.empty()) {
    first_error = parsed.error().message;
  }
}

// Every number as typed, or the first one that does not parse.
result<parsed_flags> parse_numbers(const run_options& o) {
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
  take(f.size, parse_bytes(o.size), error);
  take(f.connect_rate, parse_rate_per_second(o.connect_rate), error);
  if (!o.close_rate.empty()) take(f.close_rate, parse_rate_per_second(o.close_rate), error);
  take(f.rate, parse_message_rate(o.rate, o.total_rate), error);
  if (!error.empty()) return make_error(error);
  if (!o.stages.empty()) {
    auto stages = parse_connection_stages(o.stages);
    if (!stages) return stages.error();
    if (stages->peak() < 1) return make_error("--stages: the connections never rise above 0");
    // The slots are the stages' peak; the run lasts as long as they do.
    f.connections = uint64_t(stages->peak() + 0.5);
    f.duration = stages->total_ns();
    f.connection_stages = std::move(*stages);
  }
  if (!o.payload.empty()) {
    auto bytes = payload_bytes(o);
    if (!bytes) return bytes.error();
    f.payload = std::move(*bytes);
    f.size = f.payload.size();
  }
  if (!o.rate_stages.empty()) {
    auto stages = parse_rate_stages(o.rate_stages, f.rate.per(f.connections));
    if (!stages) return stages.error();
    f.rate_stages = std::move(*stages);
  }
  unsigned lo = 0, hi = 0;
  if (std::sscanf(o.ports.c_str(), "%u-%u", &lo, &hi) != 2 || lo == 0 || hi > 65535 || lo > hi) {
    return make_error("bad --ports '" + o.ports + "': expected e.g. 1025-65535");
  }
  f.port_low = uint16_t(lo);
  f.port_high = uint16_t(hi);
  return f;
}

// The numbers' bounds, each refusal naming its flag.
result<void> check_numbers(const run_options& o, parsed_flags& f) {
  if (f.wake_interval > 10'000'000) {
    return make_error("--wake-interval " + o.wake_interval +
                      " is longer than 10ms: a shard's loop wakes at least every 10 ms anyway "
                      "(stop, drain and phase changes are noticed then)");
  }
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
    return make_error(
        "--size is at most 16MiB: the largest message horde (and horde serve) will receive");
  }
  if (f.close_timeout == 0) return make_error("--close-timeout must be more than 0");
  if (o.send_backlog.empty()) {
    f.send_backlog = default_send_backlog(f.size);
  } else if (f.send_backlog < 64 * 1024 || f.send_backlog > (1u << 30)) {
    return make_error("--send-backlog is between 64KiB and 1024MiB");
  }
  return {};
}

// Everything the flags say about connections, timing and messages.
core::client_plan engine_plan(const run_options& o, const parsed_flags& f) {
  core::client_plan plan;
  plan.connections = f.connections;
  plan.connection_stages = f.connection_stages;
  plan.rate_stages = f.rate_stages;
  plan.connect_rate = f.connect_rate;
  plan.max_pending_connects = uint32_t(std::max<uint64_t>(f.max_pending, 1));
  // Without --close-rate the window of closes in flight paces them to what
  // the target answers.
  plan.close_rate = std::max(f.close_rate, 0.0);
  // A close handshake in flight holds ~20 KB here (a framing context and
  // its buffers): measured at 100k connections, a window of 1,024 raised
  // the close phase's RSS 27% over the hold's, 256 by 7%, and closed no
  // slower on loopback.
  plan.max_pending_closes = std::min<uint32_t>(plan.max_pending_connects, 256);
  plan.duration_ns = f.duration;
  plan.message_rate = f.rate.per(f.connections);
  // With --rate-stages, the schedule follows them; budgets take the peak.
  if (!f.rate_stages.empty()) plan.message_rate = f.rate_stages.peak();
  plan.arrivals = o.poisson ? core::arrival::poisson : core::arrival::constant;
  plan.message_size = uint32_t(f.size);
  plan.payload = f.payload;
  plan.stamp_offset = o.stamp_offset;
  plan.binary = !o.text;
  plan.ping_interval_ns = o.raw ? 0 : f.ping;
  plan.raw = o.raw;
  plan.connect_timeout_ns = f.connect_timeout;
  plan.upgrade_timeout_ns = f.upgrade_timeout;
  plan.pong_timeout_ns = f.pong_timeout;
  plan.drain_ns = f.drain;
  plan.close_timeout_ns = f.close_timeout;
  plan.send_backlog_bytes = uint32_t(f.send_backlog);
  plan.wake_interval_ns = f.wake_interval;
  plan.port_low = f.port_low;
  plan.port_high = f.port_high;
  return plan;
}

// --worker i/N: this process keeps connections c % N == i of the whole plan;
// the connect rate (over all connections) is divided, a per-connection rate
// is not. The pub/sub groups and publishers were planned over the whole.
result<void> slice_into(const run_options& o, run_plan& out) {
  const char* index = std::getenv("JOB_COMPLETION_INDEX");
  auto slice =
      parse_worker(o.worker, o.workers, index ? std::optional<std::string>(index) : std::nullopt);
  if (!slice) return slice.error();
  core::client_plan& plan = out.client;
  out.worker = *slice;
  out.whole_connections = plan.connections;
  out.whole_connect_rate = plan.connect_rate;
  plan.whole_connections = plan.connections;
  if (!slice->enabled) return {};
  plan.worker_index = slice->index;
  plan.worker_count = slice->count;
  plan.connections = worker_share(out.whole_connections, slice->count, slice->index);
  if (plan.connections == 0) {
    return make_error(fmt::format("worker {} of {} has no connections: the plan has {}",
                                  slice->index, slice->count, out.whole_connections));
  }
  plan.connect_rate /= slice->count;
  plan.close_rate /= slice->count;
  const double share = double(plan.connections) / double(out.whole_connections);
  out.sends_per_second *= share;
  out.deliveries_per_second *= share;
  if (!plan.pubsub.enabled() || slice->count == 1) return {};
  if (plan.pubsub.churn_rate > 0)
    return make_error("--churn with workers is not counted exactly (docs/distributed.md): drop it");
  const auto& setup = o.scenario.setup_steps;
  if (o.group_setup.enabled() ||
      std::any_of(setup.begin(), setup.end(), [](const auto& s) { return s.for_each_group; }))
    return make_error(
        "--setup-url (or a for-each-group setup step) with workers: create the groups once, "
        "before the workers start");
  if (!o.pubsub.publish_http.empty())
    return make_error(
        "--publish-http with workers is not built yet: run the HTTP publishers "
        "from one worker-less process");
  if (o.barrier.empty()) {
    return make_error(
        "pub/sub with workers needs --barrier HOST:PORT (worker 0 listens there; every worker "
        "publishes once all have subscribed): without it a publish could expect a subscription "
        "another worker has not made yet");
  }
  out.pubsub_shared->remote_subscribers =
      remote_subscribers(plan.pubsub.layout, out.whole_connections, *slice);
  return {};
}

// Shards and their descriptor tables, refused when one ring cannot hold a share.
result<void> shard_plan(const run_options& o, const host_facts& host, run_plan& out) {
  core::client_plan& plan = out.client;
  plan.cpus = host.cpus;
  plan.shards = shards_for(plan.connections, host.table_cap, host.cpus.size(), o.shards);
  plan.file_slots_per_shard = uint32_t(core::client_shard_share(plan.connections, plan.shards));
  if (plan.file_slots_per_shard > host.table_cap) {
    return make_error(fmt::format(
        "{} shards would hold {} connections each, but one ring's descriptor table is capped at "
        "{} (RLIMIT_NOFILE); use more --shards or leave --shards unset",
        plan.shards, plan.file_slots_per_shard, host.table_cap));
  }
  if (plan.shards > host.cpus.size()) {
    out.notes.push_back(fmt::format(
        "{} shards on {} CPUs: RLIMIT_NOFILE ({}) caps each ring's direct-descriptor table, so {} "
        "connections need {} rings; shards share CPUs",
        plan.shards, host.cpus.size(), host.fd_soft, plan.connections, plan.shards));
  }
  return {};
}

// Pub/sub: publishers send at the publish rate; nothing is echoed. The
// rates are the preflight's: publishes, and the deliveries they owe (each
// publish reaches its group's subscribers, connections x k / groups on
// average).
result<void> pubsub_into(const run_options& o, const parsed_flags& f, run_plan& out) {
  core::client_plan& plan = out.client;
  if (!o.pubsub.enabled()) {
    out.sends_per_second = plan.message_rate * double(plan.connections);
    return {};
  }
  if (o.raw) return make_error("--groups needs WebSocket; drop --raw");
  auto setup = make_pubsub_plan(o.pubsub, plan.connections, f.rate, f.size);
  if (!setup) return make_error(setup.error().message);
  plan.pubsub = std::move(setup->plan);
  out.pubsub_shared = std::move(setup->shared);
  plan.message_rate = 0;
  plan.binary = false;
  const auto& layout = plan.pubsub.layout;
  const uint64_t subscribers = plan.connections;
  // --publish-http: -c counts the subscribers; the P HTTP publishers are
  // extra connections, ids 0..P-1 (docs/decisions.md).
  if (!o.pubsub.publish_http.empty()) {
    if (o.raw) return make_error("--publish-http needs WebSocket subscribers; drop --raw");
    if (!plan.connection_stages.empty())
      return make_error("--publish-http does not go with --stages: publishers are not staged");
    plan.connections += layout.publishers;
  }
  out.sends_per_second = plan.pubsub.publish_rate * double(layout.publishers);
  out.deliveries_per_second = out.sends_per_second * double(subscribers) *
                              double(layout.per_connection) /
                              double(std::max<uint64_t>(layout.groups, 1));
  return {};
}

// One URL, parsed and resolved; its port is never a source port.
result<planned_target> plan_target(const run_options& o, const weighted_url& given, run_plan& out) {
  planned_target t;
  t.weight = given.weight;
  auto parsed = parse_target_url(given.url);
  if (!parsed) return make_error(parsed.error().message);
  t.url = *parsed;
  if (t.url.secure && o.raw) return make_error("--raw is plain TCP; it does not go with wss://");
  t.text = o.show_secrets ? given.url : redact_text(given.url);
  auto address = resolve(t.url.host, t.url.port);
  if (!address) return make_error(address.error().message);
  t.address = *address;
  if (address->family() == AF_INET) out.client.excluded_ports.push_back(t.url.port);
  return t;
}

// The URLs (or the embedded server, planned as 127.0.0.1 on a port not yet
// known), resolved, and the order connections take them in. Several targets
// share one TLS setup and one address family (the sources bind to it).
result<void> target_into(const run_options& o, run_plan& out) {
  std::vector<std::string> urls = o.urls;
  if (urls.empty() && !o.url.empty()) urls.push_back(o.url);
  auto listed = collect_targets(urls, o.targets_file);
  if (!listed) return listed.error();
  out.embedded = listed->empty();
  if (out.embedded) {
    out.url.host = "127.0.0.1";
    out.url.port = 0;
    auto address = resolve(out.url.host, out.url.port);
    if (!address) return make_error(address.error().message);
    out.address = *address;
    return {};
  }
  for (const weighted_url& given : *listed) {
    auto t = plan_target(o, given, out);
    if (!t)
      return make_error(listed->size() > 1 ? given.url + ": " + t.error().message
                                           : t.error().message);
    if (!out.targets.empty() && t->url.secure != out.targets[0].url.secure)
      return make_error("the targets mix ws:// and wss://: one run has one TLS setup");
    if (!out.targets.empty() && t->address.family() != out.targets[0].address.family())
      return make_error("the targets mix IPv4 and IPv6: the source addresses bind to one family");
    out.targets.push_back(std::move(*t));
  }
  size_t loopback = 0;
  for (const planned_target& t : out.targets)
    loopback += is_ipv4_loopback(t.address) ? 1 : 0;
  if (loopback != 0 && loopback != out.targets.size() && o.source_ips.empty())
    return make_error("the targets mix loopback and other addresses: say --source-ips");
  out.url = out.targets[0].url;
  out.address = out.targets[0].address;
  out.target_text = out.targets[0].text;
  out.client.tls = out.url.secure;  // the preflight budgets TLS memory
  bool weighted = false;
  for (const weighted_url& given : *listed)
    weighted = weighted || given.weight != 1;
  if (o.target_order == "round-robin" && weighted)
    return make_error("--target-order round-robin ignores weights: say weighted, or drop them");
  if (o.target_order == "weighted") weighted = true;
  out.client.target_cycle = target_cycle(*listed, weighted);
  return {};
}

// Several targets: how many connections each takes (the plan's, or this
// worker's slice). Source ports are not reused across targets: the port
// budget counts them all together.
void note_target_shares(run_plan& out) {
  const core::client_plan& plan = out.client;
  if (out.targets.size() < 2) return;
  std::vector<uint64_t> shares(out.targets.size(), 0);
  for (uint64_t k = 0; k < plan.connections; ++k)
    ++shares[plan.target_of(plan.worker_index + k * plan.worker_count)];
  out.notes.push_back(fmt::format(
      "{} targets ({}): {} connections each; one source-port budget for all of them",
      out.targets.size(), plan.target_cycle.size() == out.targets.size() ? "in turn" : "weighted",
      fmt::join(shares, ", ")));
}

// Two port lists as one, sorted, each port once.
std::vector<uint16_t> merged_ports(std::vector<uint16_t> a, const std::vector<uint16_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

// The source addresses by name: --source-ips, or on loopback as many
// 127.0.0.x as the connections need (90% of each address's ports, so a
// rested port is always at hand), else the wildcard.
result<std::vector<std::string>> source_names(const run_options& o, const run_plan& out,
                                              uint64_t ports_per_source,
                                              std::vector<std::string>& notes) {
  if (!o.source_ips.empty()) {
    auto parsed = parse_ipv4_ranges(o.source_ips);
    if (!parsed) return make_error("--source-ips: " + parsed.error().message);
    return parsed;
  }
  std::vector<std::string> sources;
  if (!is_ipv4_loopback(out.address)) {
    sources.push_back(out.address.family() == AF_INET ? "0.0.0.0" : "::");
    return sources;
  }
  const uint64_t connections = out.client.connections;
  const uint64_t per = std::max<uint64_t>(ports_per_source, 1);
  const uint64_t needed = std::max<uint64_t>(1, (connections * 10 / 9 + per - 1) / per);
  for (uint64_t i = 0; i < needed && i < 250; ++i)
    sources.push_back(fmt::format("127.0.0.{}", i + 1));
  if (needed > 1) {
    notes.push_back(
        fmt::format("{} loopback source addresses chosen for {} connections ({} ports "
                    "each)",
                    sources.size(), connections, ports_per_source));
  }
  return sources;
}

result<core::endpoint> source_endpoint(const std::string& name, const run_plan& out) {
  core::endpoint e;
  if (name == "::") {
    e.storage.sin6_family = AF_INET6;
    e.storage.sin6_addr = in6addr_any;
    e.length = sizeof(sockaddr_in6);
  } else {
    auto parsed = ipv4_endpoint(name, 0);
    if (!parsed) return parsed;
    e = *parsed;
  }
  if (e.family() != out.address.family()) {
    return make_error(fmt::format("source {} and target {} are of different address families", name,
                                  out.url.host));
  }
  return e;
}

// Ports no source may bind: reserved ones, and those something on this host
// listens on (a client socket there would take a port a server needs, or
// fail to bind). First for one address to size the sources, then for all.
result<void> sources_into(const run_options& o, const host_facts& host, run_plan& out) {
  core::client_plan& plan = out.client;
  const bool loopback = is_ipv4_loopback(out.address);
  if (auto avoided = sysctl::ports_to_avoid(host.root, {loopback ? "127.0.0.1" : "0.0.0.0"},
                                            plan.port_low, plan.port_high)) {
    out.avoided_ports = avoided->ports;
  }
  const uint64_t range = uint64_t(plan.port_high - plan.port_low + 1);
  const uint64_t unusable =
      merged_ports(plan.excluded_ports, out.avoided_ports).size() + (out.embedded ? 1 : 0);
  const uint64_t ports_per_source = range > unusable ? range - unusable : 0;
  auto names = source_names(o, out, ports_per_source, out.notes);
  if (!names) return make_error(names.error().message);
  for (const auto& name : *names) {
    auto e = source_endpoint(name, out);
    if (!e) return make_error(e.error().message);
    plan.sources.push_back(*e);
  }
  out.sources = *names;
  if (auto avoided =
          sysctl::ports_to_avoid(host.root, out.sources, plan.port_low, plan.port_high)) {
    out.avoided_ports = avoided->ports;
    if (!out.avoided_ports.empty()) {
      out.notes.push_back(fmt::format(
          "{} reserved (net.ipv4.ip_local_reserved_ports) and {} listening ports skipped as "
          "source ports",
          avoided->reserved, avoided->listening));
    }
  } else {
    out.notes.push_back("source port check skipped: " + avoided.error().message);
  }
  plan.excluded_ports = merged_ports(plan.excluded_ports, out.avoided_ports);
  const uint64_t capacity = ports_per_source * plan.sources.size();
  if (capacity < plan.connections) {
    return make_error(fmt::format(
        "{} connections need more (source address, port) pairs than {} sources x {} ports = {}; "
        "add addresses with --source-ips (e.g. 127.0.0.1-127.0.0.8 on loopback) or widen --ports",
        plan.connections, plan.sources.size(), ports_per_source, capacity));
  }
  return {};
}

// -H 'Name: value', --subprotocol, --origin: the upgrade request's extras,
// and the headers as the report shows them.
result<void> upgrade_into(const run_options& o, run_plan& out) {
  out.upgrade.subprotocols = o.subprotocols;
  out.upgrade.origin = o.origin;
  for (const auto& header : o.headers) {
    const size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      return make_error("bad -H '" + header + "': expected 'Name: value'");
    }
    std::string value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    const std::string name = header.substr(0, colon);
    out.upgrade.headers.emplace_back(name, value);
    out.headers_shown.emplace_back(name, o.show_secrets ? value : redact_header_value(name, value));
  }
  return {};
}

// --compression and its companions: the permessage-deflate offer in the
// upgrade request, and what the shards do with the answer.
result<void> compression_into(const run_options& o, run_plan& out) {
  core::client_plan& plan = out.client;
  const bool tuned = o.compression_window_bits != 0 || !o.compression_no_context_takeover.empty();
  if (o.compression == "off") {
    if (tuned) {
      return make_error(
          "--compression-window-bits and --compression-no-context-takeover shape the "
          "permessage-deflate offer: add --compression offer (or require)");
    }
    return {};
  }
  if (o.raw)
    return make_error("--compression is permessage-deflate, a WebSocket extension: not with --raw");
  plan.compression =
      o.compression == "require" ? core::compression_mode::require : core::compression_mode::offer;
  plan.deflate.client_max_window_bits = uint8_t(o.compression_window_bits);
  plan.deflate.server_max_window_bits = uint8_t(o.compression_window_bits);
  const std::string& which = o.compression_no_context_takeover;
  plan.deflate.client_no_context_takeover = which == "client" || which == "both";
  plan.deflate.server_no_context_takeover = which == "server" || which == "both";
  out.upgrade.extensions = proto::render_offer(plan.deflate);
  return {};
}

// A target the shards connect to: its address and its upgrade request.
result<void> add_target(const run_options& o, const planned_target& planned, run_plan& out) {
  const target_url& url = planned.url;
  proto::upgrade_target where{url.host, url.port, url.secure, url.path_and_query};
  auto request = proto::upgrade_request_template::make(where, out.upgrade);
  if (!request) return make_error(request.error().message);
  core::client_target target;
  target.address = planned.address;
  target.request = std::move(*request);
  target.subprotocols = o.subprotocols;
  // {variables} in the URL or a header: rendered per connection.
  const auto& names = out.client.vars.names;
  auto before = proto::var_template::parse(target.request.before_key(), names);
  if (!before) return make_error("the URL: " + before.error().message);
  auto after = proto::var_template::parse(target.request.after_key(), names);
  if (!after) return make_error("a header: " + after.error().message);
  if (!before->constant() || !after->constant()) {
    target.per_connection = true;
    target.before_key = std::move(*before);
    target.after_key = std::move(*after);
    for (char ch : target.before_key.source() + target.after_key.source())
      target.line_breaks += ch == '\r' || ch == '\n';
  }
  out.client.targets.push_back(std::move(target));
  return {};
}

// The URL targets now (TLS checked here, before anything starts); the
// embedded server's once it listens.
result<void> url_target_into(const run_options& o, run_plan& out) {
  if (out.embedded) return {};
  for (const planned_target& t : out.targets)
    if (auto added = add_target(o, t, out); !added) return added;
  if (out.url.secure) {
    if (auto applied = apply_client_tls(o.tls, out.url.host, out.client); !applied) return applied;
    // Each target's own name, unless --sni names one for all.
    for (size_t t = 0; t < out.targets.size() && o.tls.sni.empty(); ++t)
      out.client.targets[t].tls_host = out.targets[t].url.host;
    out.notes.push_back(describe_client_tls(out.client));
  }
  return {};
}

}  // namespace

result<std::vector<double>> parse_percentiles(const std::string& text) {
  std::vector<double> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    const double p = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(p > 0 && p < 100)) {
      return make_error("--percentiles: '" + item +
                        "' is not a percentile above 0 and below 100 (e.g. 50,95,99,99.9; the "
                        "maximum is always shown)");
    }
    if (!out.empty() && p <= out.back()) {
      return make_error("--percentiles: list them in ascending order, each once (" + text + ")");
    }
    out.push_back(p);
    start = comma + 1;
  }
  return out;
}

result<run_plan> build_run_plan(const run_options& given, const host_facts& host) {
  const run_options o = with_protocol_defaults(given);
  auto flags = parse_numbers(o);
  if (!flags) return make_error(flags.error().message);
  if (auto checked = check_numbers(o, *flags); !checked) return checked.error();
  run_plan out;
  auto percentiles = parse_percentiles(o.percentiles);
  if (!percentiles) return make_error(percentiles.error().message);
  out.percentiles = std::move(*percentiles);
  if (o.raw) {
    out.notes.push_back(
        "raw TCP: no WebSocket upgrade or framing; the echo is cut into --size byte messages, "
        "each starting with its stamp (pings are off)");
  }
  out.client = engine_plan(o, *flags);
  if (auto done = pubsub_into(o, *flags, out); !done) return done.error();
  if (auto done = slice_into(o, out); !done) return done.error();
  if (o.group_setup.enabled() && !out.client.pubsub.enabled()) {
    return make_error("--setup-url creates groups: it needs --groups");
  }
  if (auto done = shard_plan(o, host, out); !done) return done.error();
  if (auto done = scenario_into(o, out); !done) return done.error();
  out.client.lifecycle.chaos_rate /= out.client.worker_count;
  if (auto done = target_into(o, out); !done) return done.error();
  if (auto done = sources_into(o, host, out); !done) return done.error();
  note_target_shares(out);
  if (auto done = upgrade_into(o, out); !done) return done.error();
  if (auto done = compression_into(o, out); !done) return done.error();
  if (auto done = url_target_into(o, out); !done) return done.error();
  if (auto done = protocol_into(o, out); !done) return done.error();
  if (auto done = publish_http_into(o, out); !done) return done.error();
  return out;
}

result<void> target_embedded_server(run_plan& plan, const run_options& options, uint16_t port) {
  plan.url.port = port;
  plan.address.storage.sin6_port = htons(port);  // same offset in sockaddr_in
  plan.target_text = fmt::format("ws://127.0.0.1:{}/", port);
  plan.client.excluded_ports.push_back(port);
  plan.targets = {planned_target{plan.target_text, 1, plan.url, plan.address}};
  return add_target(options, plan.targets[0], plan);
}

}  // namespace horde::app

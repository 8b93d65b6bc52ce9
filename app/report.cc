#include "app/report.hh"

#include <fmt/format.h>

#include <cstring>

#include <algorithm>
#include <string>

namespace horde::app {
namespace {

std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i % 3) == lead % 3 && (i >= lead || lead == 0)) out += ',';
    out += digits[i];
  }
  return out;
}

std::string ms(uint64_t ns) {
  return fmt::format("{:.3f}", double(ns) / 1e6);
}

std::string bytes_text(uint64_t n) {
  if (n >= (1ull << 30)) return fmt::format("{:.2f} GiB", double(n) / double(1ull << 30));
  if (n >= (1ull << 20)) return fmt::format("{:.1f} MiB", double(n) / double(1ull << 20));
  if (n >= 1024) return fmt::format("{:.1f} KiB", double(n) / 1024.0);
  return fmt::format("{} B", n);
}

void latency_row(std::FILE* out, const char* name, const core::histogram& h) {
  if (h.count() == 0) {
    fmt::print(out, "    {:<12} {:>10}\n", name, "-");
    return;
  }
  fmt::print(out, "    {:<12} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", name,
             grouped(h.count()), ms(h.value_at_quantile(0.5)), ms(h.value_at_quantile(0.9)),
             ms(h.value_at_quantile(0.99)), ms(h.value_at_quantile(0.999)), ms(h.max()),
             fmt::format("{:.3f}", h.mean() / 1e6));
}

nlohmann::json histogram_json(const core::histogram& h) {
  nlohmann::json j;
  j["count"] = h.count();
  j["min_ns"] = h.count() ? h.min() : 0;
  j["max_ns"] = h.max();
  j["mean_ns"] = h.mean();
  nlohmann::json percentiles;
  static const std::pair<const char*, double> quantiles[] = {
      {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}, {"p99.99", 0.9999}};
  for (const auto& [name, q] : quantiles)
    percentiles[name] = h.value_at_quantile(q);
  j["percentiles_ns"] = percentiles;
  // Sparse buckets: [index, count] pairs; merging two results adds counts.
  nlohmann::json buckets = nlohmann::json::array();
  h.for_each_bucket([&](uint32_t index, uint64_t count) { buckets.push_back({index, count}); });
  j["buckets"] = buckets;
  return j;
}

// What the host's network stack did during the run, and what it means for
// the figures above: on loopback a dropped packet comes back as a
// retransmission 200 ms or more later, in some message's latency.
void print_kernel_network(std::FILE* out, const sysctl::net_counters& k, const run_result& r) {
  fmt::print(out,
             "  kernel       {} during the run: {} TCP segments retransmitted ({} after "
             "a timeout, {} tail-loss probes), {} input-queue drops, {} listen-queue overflows\n",
             r.private_network ? "this network namespace" : "whole host",
             grouped(k.retransmitted_segments), grouped(k.retransmit_timeouts),
             grouped(k.loss_probes), grouped(k.input_queue_drops), grouped(k.listen_overflows));
  if (k.input_queue_drops > 0) {
    fmt::print(out,
               "               packets were dropped before TCP saw them: raise the per-CPU input "
               "queue ({})\n",
               sysctl::input_queue_fix(r.planned_netdev_backlog, r.netdev_backlog));
  }
  if (k.listen_overflows > 0) {
    fmt::print(out,
               "               a listening socket's accept queue overflowed: SYNs dropped, "
               "connects retried 1 s later (raise net.core.somaxconn and the server's backlog)\n");
  }
  if (k.retransmit_timeouts > 0) {
    fmt::print(out,
               "               retransmission timeouts fired: latencies of 200 ms and more "
               "may be the network stack's, not the server's\n");
  }
}

nlohmann::json kernel_network_json(const sysctl::net_counters& k, const run_result& r) {
  // TCP's counters are per network namespace; inside one they are its own.
  return {{"scope", r.private_network ? "network_namespace" : "host"},
          {"retransmitted_segments", k.retransmitted_segments},
          {"retransmit_timeouts", k.retransmit_timeouts},
          {"loss_probes", k.loss_probes},
          {"input_queue_drops", k.input_queue_drops},
          {"listen_overflows", k.listen_overflows}};
}

bool tls_run(const run_result& r) {
  return r.plan != nullptr && r.plan->tls;
}

// Handshakes, and every distinct reason a TLS connection failed, with
// OpenSSL's words ("certificate verify failed: self-signed certificate").
void print_tls(std::FILE* out, const run_result& r) {
  const auto& t = r.metrics.counters.tls;
  fmt::print(out, "  tls          handshakes {} full {} resumed {}{}\n",
             grouped(t.full_handshakes + t.resumed_handshakes), grouped(t.full_handshakes),
             grouped(t.resumed_handshakes), r.plan->tls_options.insecure ? "  INSECURE" : "");
  for (const auto& f : t.failure_texts) {
    fmt::print(out, "               {} {}: {}\n", core::to_string(f.reason), grouped(f.count),
               f.text);
  }
  if (t.unlisted_failures > 0) {
    fmt::print(out, "               {} more failures with other reasons\n",
               grouped(t.unlisted_failures));
  }
}

nlohmann::json tls_json(const run_result& r) {
  const auto& t = r.metrics.counters.tls;
  const auto& o = r.plan->tls_options;
  nlohmann::json reasons = nlohmann::json::array();
  for (const auto& f : t.failure_texts) {
    reasons.push_back(
        {{"reason", std::string(core::to_string(f.reason))}, {"text", f.text}, {"count", f.count}});
  }
  return {{"insecure", o.insecure},
          {"verified", !o.insecure},
          {"ca_file", o.ca_file},
          {"client_certificate", o.cert_file},
          {"server_name", r.plan->targets.empty() ? "" : r.plan->targets[0].tls_host},
          {"resumption", o.resume},
          {"full_handshakes", t.full_handshakes},
          {"resumed_handshakes", t.resumed_handshakes},
          {"failures", reasons},
          {"unlisted_failures", t.unlisted_failures}};
}

void print_group_setup(std::FILE* out, const group_setup_result& s, uint64_t refused) {
  std::string answers;
  for (const auto& [status, n] : s.statuses)
    answers += fmt::format(" {}x{}", status, grouped(n));
  for (size_t e = 1; e < s.errors.size(); ++e) {
    if (s.errors[e] != 0)
      answers += fmt::format(" {}x{}", to_string(http_error(e)), grouped(s.errors[e]));
  }
  fmt::print(out,
             "  group setup  {} requests in {:.2f} s: groups created {}  failed {} (their {} "
             "subscriptions not sent); answers{}\n",
             grouped(s.requests), s.seconds, grouped(s.groups_created), grouped(s.groups_failed),
             grouped(refused), answers);
}

nlohmann::json group_setup_json(const group_setup_result& s) {
  nlohmann::json statuses = nlohmann::json::object(), errors = nlohmann::json::object();
  for (const auto& [status, n] : s.statuses)
    statuses[std::to_string(status)] = n;
  for (size_t e = 1; e < s.errors.size(); ++e)
    if (s.errors[e] != 0) errors[std::string(to_string(http_error(e)))] = s.errors[e];
  return {{"requests", s.requests},
          {"groups_created", s.groups_created},
          {"groups_failed", s.groups_failed},
          {"seconds", s.seconds},
          {"statuses", statuses},
          {"errors", errors},
          {"latency", histogram_json(s.latency)}};
}

void print_pubsub(std::FILE* out, const run_result& r) {
  const auto& plan = r.plan->pubsub;
  const auto& p = r.metrics.counters.pubsub;
  fmt::print(out,
             "  pub/sub      {} groups ({}), {} per connection, {} publishers at {}/s each, {} B\n",
             grouped(plan.layout.groups),
             plan.layout.spread == core::popularity::zipf
                 ? fmt::format("Zipf {}", plan.layout.zipf_exponent)
                 : "uniform",
             plan.layout.per_connection, grouped(plan.layout.publishers), plan.publish_rate,
             plan.payload_size);
  if (r.group_setup) print_group_setup(out, *r.group_setup, p.subscriptions_refused);
  fmt::print(out, "  subscribe    sent {}  in force {}  not acknowledged {}  abandoned {}{}\n",
             grouped(p.subscribes_sent), grouped(p.subscribes_in_force),
             grouped(p.subscribe_timeouts), grouped(p.subscriptions_abandoned),
             r.publish_start_seconds >= 0
                 ? fmt::format("; all settled, publishing from {:.2f} s", r.publish_start_seconds)
                 : "; NOT all settled within the run: nothing was published");
  const double window = r.plan && r.publish_start_seconds >= 0
                            ? double(r.plan->duration_ns) / 1e9 - r.publish_start_seconds
                            : 0;
  fmt::print(out,
             "  deliveries   publishes {}  expected {}  delivered {}  lost {}  duplicated {}  "
             "reordered {}  unaccounted {}\n",
             grouped(p.publishes), grouped(p.owed()), grouped(p.unique()), grouped(p.lost()),
             grouped(p.duplicates), grouped(p.late), grouped(p.unaccounted));
  if (window > 0) {
    fmt::print(
        out, "               {:.0f} publishes/s, {:.0f} deliveries/s over {:.2f} s of publishing\n",
        double(p.publishes) / window, double(p.delivered) / window, window);
  }
  if (p.unsubscribes_sent > 0) {
    fmt::print(out,
               "  churn        left {} (acknowledged {})  rejoined {} (in force {})  "
               "withdrawn {}  before join {}  after leave {}\n",
               grouped(p.unsubscribes_sent), grouped(p.unsubscribes_acked),
               grouped(p.resubscribes_sent), grouped(p.resubscribes_in_force), grouped(p.withdrawn),
               grouped(p.before_join), grouped(p.after_leave));
  }
  if (p.other > 0) {
    fmt::print(out, "               {} other messages (neither an acknowledgement nor stamped)\n",
               grouped(p.other));
  }
}

}  // namespace

schedule_verdict judge_schedule(const run_result& r) {
  schedule_verdict verdict;
  const auto& lag = r.metrics.latency.send_lag;
  const auto& c = r.metrics.counters;
  // Shares from the scheduler's own accounting: CPU time the shards got, out
  // of the CPUs they were given (at most 100% however many shards share
  // them), and how long, on average, a shard was runnable but waiting.
  const double cpus = r.plan && !r.plan->cpus.empty() ? double(r.plan->cpus.size()) : 1.0;
  const double shards = r.plan ? double(std::max<uint32_t>(r.plan->shards, 1)) : 1.0;
  const double wall_ns = r.elapsed_seconds * 1e9;
  const double used = wall_ns > 0 ? double(c.cpu_run_ns) / (wall_ns * std::min(cpus, shards)) : 0;
  const double waited = wall_ns > 0 ? double(c.cpu_wait_ns) / (wall_ns * shards) : 0;
  verdict.cpu_used_share = used;
  verdict.cpu_wait_share = waited;
  const std::string cpu_text =
      fmt::format("shards used {:.0f}% of their CPUs and waited for a CPU {:.0f}% of the run",
                  used * 100, waited * 100);
  if (lag.count() == 0) {
    verdict.explanation = fmt::format("no scheduled sends; {}", cpu_text);
    return verdict;
  }
  // Late by more than 1 ms at p99 (or a tenth of the send interval, if that
  // is larger) means horde itself fell behind its own schedule.
  uint64_t allowed_ns = 1'000'000;
  const double rate =
      r.plan ? (r.plan->pubsub.enabled() ? r.plan->pubsub.publish_rate : r.plan->message_rate) : 0;
  if (rate > 0) allowed_ns = std::max<uint64_t>(allowed_ns, uint64_t(1e9 / rate / 10));
  const uint64_t p99 = lag.value_at_quantile(0.99);
  verdict.kept = p99 <= allowed_ns;
  std::string state = "kept";
  if (!verdict.kept) {
    if (used >= 0.85) {
      verdict.cause = "saturated";
      state =
          "NOT KEPT — horde was saturated (its CPUs were full): horde, not the target, "
          "limited this run";
    } else if (waited >= 0.10) {
      verdict.cause = "starved";
      state =
          "NOT KEPT — horde was starved: its shards waited for CPUs that other work (the "
          "target, other processes) held; give them their own (--cpus, --leave-for-target)";
    } else {
      verdict.cause = "behind";
      state = "NOT KEPT — horde fell behind its schedule with CPU to spare";
    }
  }
  verdict.explanation = fmt::format("{}: send lag p99 {} ms (limit {} ms), max {} ms; {}", state,
                                    ms(p99), ms(allowed_ns), ms(lag.max()), cpu_text);
  return verdict;
}

// One line per reason: its count and what it means, with the detail horde
// has (HTTP statuses, close codes, errnos).
void print_failures(std::FILE* out, const core::counter_values& c) {
  bool first = true;
  for (size_t i = 0; i < c.failures.size(); ++i) {
    if (c.failures[i] == 0) continue;
    const auto reason = core::failure_reason(i);
    fmt::print(out, "  {}  {} {}: {}\n", first ? "failures   " : "           ",
               core::to_string(reason), grouped(c.failures[i]), core::describe(reason));
    first = false;
    if (reason == core::failure_reason::upgrade_rejected) {
      for (size_t s = 0; s < c.http_status.size(); ++s) {
        if (c.http_status[s] != 0)
          fmt::print(out, "                 HTTP {}: {}\n", s, grouped(c.http_status[s]));
      }
    }
    if (reason == core::failure_reason::connect_error) {
      for (size_t e = 0; e < c.connect_errnos.size(); ++e) {
        if (c.connect_errnos[e] != 0)
          fmt::print(out, "                 errno {} ({}): {}\n", e, std::strerror(int(e)),
                     grouped(c.connect_errnos[e]));
      }
    }
  }
  std::string codes;
  for (size_t i = 0; i < c.close_codes.size(); ++i) {
    if (c.close_codes[i] != 0)
      codes += fmt::format("  {}: {}", core::first_close_code + i, grouped(c.close_codes[i]));
  }
  if (c.close_codes_other != 0) codes += fmt::format("  other: {}", grouped(c.close_codes_other));
  if (!codes.empty()) fmt::print(out, "  close codes  from the server{}\n", codes);
}

void print_summary(std::FILE* out, const run_result& r) {
  const auto& c = r.metrics.counters;
  const auto* plan = r.plan;
  fmt::print(out, "\nhorde run: {}{}{}\n", r.target,
             r.embedded_server ? " (embedded reference server, echo)" : "",
             r.interrupted ? "  [interrupted]" : "");
  if (plan) {
    fmt::print(out,
               "  plan         {} connections, connect rate {}, {} shards on CPUs {}, {:.1f} s\n",
               grouped(plan->connections),
               plan->connect_rate > 0 ? fmt::format("{}/s", grouped(uint64_t(plan->connect_rate)))
                                      : "unlimited",
               plan->shards, fmt::format("{}", fmt::join(plan->cpus, ",")),
               double(plan->duration_ns) / 1e9);
    if (plan->message_rate > 0) {
      fmt::print(out, "               {} msg/s per connection ({}), {} B {}\n", plan->message_rate,
                 plan->arrivals == core::arrival::poisson ? "Poisson" : "constant",
                 plan->message_size, plan->binary ? "binary" : "text");
    }
    if (!r.sources.empty()) {
      fmt::print(out, "  sources      {}{}\n", r.sources.front(),
                 r.sources.size() > 1
                     ? fmt::format(" .. {} ({} addresses)", r.sources.back(), r.sources.size())
                     : "");
    }
  }
  for (const auto& note : r.notes)
    fmt::print(out, "  note         {}\n", note);
  fmt::print(
      out, "  connections  attempted {}  opened {}  failed {}  peak open {}  closed cleanly {}{}\n",
      grouped(c.attempts), grouped(c.upgraded), grouped(c.failures_total()), grouped(c.open_peak),
      grouped(c.closed_clean),
      c.unfinished_total() ? fmt::format("  unfinished {}", grouped(c.unfinished_total())) : "");
  print_failures(out, c);
  if (tls_run(r)) print_tls(out, r);
  const bool pubsub = plan && plan->pubsub.enabled();
  if (pubsub) {
    fmt::print(out, "  messages     sent {} (subscribes and publishes)  received {}\n",
               grouped(c.messages_sent), grouped(c.messages_received));
  } else if (c.messages_sent || c.messages_received) {
    // Each echo counted once: a duplicate is not a second answer, and a
    // corrupted or truncated one is an answer that came back wrong.
    const uint64_t answered = c.messages_answered;
    fmt::print(out,
               "  messages     sent {}  received {}  answered {}  unanswered {}  duplicated {}  "
               "corrupted {}  truncated {}  unstamped {}\n",
               grouped(c.messages_sent), grouped(c.messages_received), grouped(answered),
               grouped(c.messages_sent > answered ? c.messages_sent - answered : 0),
               grouped(c.messages_duplicated), grouped(c.messages_corrupted),
               grouped(c.messages_truncated), grouped(c.messages_unstamped));
  }
  if (c.messages_sent || c.messages_received) {
    fmt::print(out, "  throughput   {:.0f} msg/s out, {:.0f} msg/s in, payload {} out, {} in\n",
               r.elapsed_seconds > 0 ? double(c.messages_sent) / r.elapsed_seconds : 0,
               r.elapsed_seconds > 0 ? double(c.messages_received) / r.elapsed_seconds : 0,
               bytes_text(c.bytes_sent), bytes_text(c.bytes_received));
  }
  if (c.pings_sent)
    fmt::print(out, "  pings        sent {}  pongs {}\n", grouped(c.pings_sent),
               grouped(c.pongs_received));
  if (plan && plan->pubsub.enabled()) print_pubsub(out, r);
  fmt::print(
      out,
      "  latency (ms)       count       p50       p90       p99     p99.9       max      mean\n");
  latency_row(out, "tcp connect", r.metrics.latency.connect);
  if (tls_run(r)) latency_row(out, "tls", r.metrics.latency.tls_handshake);
  latency_row(out, "upgrade", r.metrics.latency.upgrade);
  latency_row(out, "round trip", r.metrics.latency.round_trip);
  latency_row(out, "send lag", r.metrics.latency.send_lag);
  if (plan && plan->pubsub.enabled()) {
    latency_row(out, "subscribe", r.metrics.latency.subscribe);
    latency_row(out, "fan-out", r.metrics.latency.fanout);
    latency_row(out, "fan-out last", r.metrics.latency.fanout_last);
    if (r.group_setup) latency_row(out, "group setup", r.group_setup->latency);
    if (r.metrics.latency.unsubscribe.count() > 0) {
      latency_row(out, "unsubscribe", r.metrics.latency.unsubscribe);
      latency_row(out, "resubscribe", r.metrics.latency.resubscribe);
    }
  }
  const double cpu = (r.usage_end.user_seconds - r.usage_start.user_seconds) +
                     (r.usage_end.system_seconds - r.usage_start.system_seconds);
  fmt::print(out, "  horde        CPU {:.2f} s user + {:.2f} s system over {:.2f} s{}; RSS {}\n",
             r.usage_end.user_seconds - r.usage_start.user_seconds,
             r.usage_end.system_seconds - r.usage_start.system_seconds, r.elapsed_seconds,
             r.embedded_server ? " (includes the embedded server)" : "",
             bytes_text(r.usage_end.rss_bytes));
  if (r.open_at_rss_sample > 0 && r.rss_at_peak_open > r.rss_before_connections) {
    fmt::print(
        out, "               memory per open connection {:.0f} B (RSS growth {} at {} open{})\n",
        double(r.rss_at_peak_open - r.rss_before_connections) / double(r.open_at_rss_sample),
        bytes_text(r.rss_at_peak_open - r.rss_before_connections), grouped(r.open_at_rss_sample),
        r.embedded_server ? ", includes the embedded server" : "");
  }
  if (c.messages_received > 0 && cpu > 0) {
    fmt::print(out, "               {:.2f} CPU-seconds per million messages received\n",
               cpu / (double(c.messages_received) / 1e6));
  }
  fmt::print(out, "  schedule     {}\n", judge_schedule(r).explanation);
  if (r.kernel_network) print_kernel_network(out, *r.kernel_network, r);
  if (r.embedded_server) {
    fmt::print(
        out, "  server       accepted {}  upgraded {}  messages in {}  out {}  accept errors {}\n",
        grouped(r.server.accepted), grouped(r.server.upgraded), grouped(r.server.messages_in),
        grouped(r.server.messages_out), grouped(r.server.accept_errors));
    if (r.server.subscribes + r.server.publishes > 0) {
      fmt::print(
          out,
          "               broker: subscriptions {}  group entries {}  publishes {}  deliveries {}"
          "  dropped {}  duplicated {}  slow consumers {}\n",
          grouped(r.server_peak_subscriptions), grouped(r.server_peak_groups),
          grouped(r.server.publishes), grouped(r.server.deliveries),
          grouped(r.server.deliveries_dropped), grouped(r.server.deliveries_duplicated),
          grouped(r.server.slow_consumers));
    }
  }
  for (const auto& e : r.errors)
    fmt::print(out, "  ERROR        {}\n", e);
  std::fflush(out);
}

std::string progress_line(const run_result& r, const series_point& now, const series_point& prev) {
  const double dt = now.t - prev.t > 0 ? now.t - prev.t : 1;
  const uint64_t target = r.plan ? r.plan->connections : 0;
  if (r.plan && r.plan->pubsub.enabled()) {
    return fmt::format(
        "{:6.1f}s open {}/{}  conn/s {:.0f}  pub/s {:.0f}  deliv/s {:.0f}  missing {}  errors {}",
        now.t, grouped(now.open), grouped(target), double(now.upgraded - prev.upgraded) / dt,
        double(now.publishes - prev.publishes) / dt, double(now.delivered - prev.delivered) / dt,
        grouped(now.expected > now.delivered ? now.expected - now.delivered : 0),
        grouped(now.failures));
  }
  return fmt::format(
      "{:6.1f}s open {}/{}  conn/s {:.0f}  msg/s out {:.0f} in {:.0f}  rtt p50 {} p99 {} ms  "
      "errors {}",
      now.t, grouped(now.open), grouped(target), double(now.upgraded - prev.upgraded) / dt,
      double(now.sent - prev.sent) / dt, double(now.received - prev.received) / dt,
      ms(now.round_trip_p50_ns), ms(now.round_trip_p99_ns), grouped(now.failures));
}

nlohmann::json to_json(const run_result& r) {
  nlohmann::json j;
  const auto& c = r.metrics.counters;
  j["schema"] = result_schema;
  j["target"] = r.target;
  j["embedded_server"] = r.embedded_server;
  j["interrupted"] = r.interrupted;
  j["elapsed_seconds"] = r.elapsed_seconds;
  j["environment"] = {{"kernel", r.kernel},
                      {"cpus", r.cpu_count},
                      {"rlimit_nofile_soft", r.fd_soft},
                      {"rlimit_nofile_hard", r.fd_hard}};
  if (const auto* p = r.plan) {
    j["plan"] = {{"connections", p->connections},
                 {"connect_rate", p->connect_rate},
                 {"duration_seconds", double(p->duration_ns) / 1e9},
                 {"message_rate_per_connection", p->message_rate},
                 {"arrivals", p->arrivals == core::arrival::poisson ? "poisson" : "constant"},
                 {"message_size", p->message_size},
                 {"binary", p->binary},
                 {"ping_interval_seconds", double(p->ping_interval_ns) / 1e9},
                 {"wake_interval_seconds", double(p->wake_interval_ns) / 1e9},
                 {"shards", p->shards},
                 {"cpus", p->cpus},
                 {"sources", r.sources}};
  }
  j["notes"] = r.notes;
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : r.headers)
    headers.push_back({{"name", name}, {"value", value}});
  j["headers"] = headers;
  j["shards_stuck"] = r.shards_stuck;
  // Nothing held after the run: slots in use at the end of sending are the
  // connections open or being set up then; contexts and ports all returned.
  j["leak_check"] = {{"slots_live_at_end", c.slots_live_at_end},
                     {"open_or_opening_at_end", c.open_at_end},
                     {"framing_contexts_left", c.contexts_left},
                     {"source_ports_left", c.ports_left}};
  j["errors"] = r.errors;
  nlohmann::json failures = nlohmann::json::object();
  for (size_t i = 0; i < c.failures.size(); ++i)
    failures[std::string(core::to_string(core::failure_reason(i)))] = c.failures[i];
  nlohmann::json statuses = nlohmann::json::object();
  for (size_t s = 0; s < c.http_status.size(); ++s) {
    if (c.http_status[s]) statuses[std::to_string(s)] = c.http_status[s];
  }
  nlohmann::json close_codes = nlohmann::json::object();
  for (size_t i = 0; i < c.close_codes.size(); ++i) {
    if (c.close_codes[i])
      close_codes[std::to_string(core::first_close_code + i)] = c.close_codes[i];
  }
  if (c.close_codes_other) close_codes["other"] = c.close_codes_other;
  nlohmann::json errnos = nlohmann::json::object();
  for (size_t e = 0; e < c.connect_errnos.size(); ++e) {
    if (c.connect_errnos[e]) errnos[std::strerror(int(e))] = c.connect_errnos[e];
  }
  nlohmann::json reasons = nlohmann::json::object();
  for (size_t i = 0; i < c.failures.size(); ++i)
    reasons[std::string(core::to_string(core::failure_reason(i)))] =
        core::describe(core::failure_reason(i));
  j["connections"] = {{"attempted", c.attempts},
                      {"tcp_connected", c.tcp_connected},
                      {"opened", c.upgraded},
                      {"failed", c.failures_total()},
                      {"unfinished", c.unfinished_total()},
                      {"peak_open", c.open_peak},
                      {"closed_clean", c.closed_clean},
                      {"bind_retries", c.bind_retries},
                      {"failures", failures},
                      {"failure_meanings", reasons},
                      {"connect_errors", errnos},
                      {"upgrade_status", statuses},
                      {"server_close_codes", close_codes},
                      {"send_backlog_peak_bytes", c.backlog_peak_bytes},
                      {"abandoned_at_hard_stop", c.hard_stops}};
  j["messages"] = {{"sent", c.messages_sent},
                   {"received", c.messages_received},
                   {"answered", c.messages_answered},
                   {"unanswered", c.messages_sent > c.messages_answered
                                      ? c.messages_sent - c.messages_answered
                                      : 0},
                   {"duplicated", c.messages_duplicated},
                   {"corrupted", c.messages_corrupted},
                   {"truncated", c.messages_truncated},
                   {"unstamped", c.messages_unstamped},
                   {"bytes_sent", c.bytes_sent},
                   {"bytes_received", c.bytes_received},
                   {"pings_sent", c.pings_sent},
                   {"pongs_received", c.pongs_received},
                   {"pings_received", c.pings_received}};
  if (r.plan && r.plan->pubsub.enabled()) {
    const auto& p = c.pubsub;
    const auto& plan = r.plan->pubsub;
    j["pubsub"] = {
        {"groups", plan.layout.groups},
        {"subscriptions_per_connection", plan.layout.per_connection},
        {"popularity", plan.layout.spread == core::popularity::zipf ? "zipf" : "uniform"},
        {"zipf_exponent", plan.layout.zipf_exponent},
        {"publishers", plan.layout.publishers},
        {"publish_rate_per_publisher", plan.publish_rate},
        {"publish_binary", plan.publish_binary},
        {"payload_bytes", plan.payload_size},
        {"publish_start_seconds", r.publish_start_seconds},
        {"subscribes_sent", p.subscribes_sent},
        {"subscribes_in_force", p.subscribes_in_force},
        {"subscribes_not_acknowledged", p.subscribe_timeouts},
        {"subscriptions_abandoned", p.subscriptions_abandoned},
        {"subscriptions_refused", p.subscriptions_refused},
        {"publishes", p.publishes},
        {"expected", p.owed()},
        {"expected_at_send", p.expected},
        {"delivered", p.unique()},
        {"deliveries_received", p.delivered},
        {"lost", p.lost()},
        {"duplicated", p.duplicates},
        {"reordered", p.late},
        {"gaps_seen", p.gaps},
        {"unaccounted", p.unaccounted},
        {"other_messages", p.other},
        {"withdrawn", p.withdrawn},
        {"churn",
         {{"rate", plan.churn_rate},
          {"unsubscribes_sent", p.unsubscribes_sent},
          {"unsubscribes_acked", p.unsubscribes_acked},
          {"resubscribes_sent", p.resubscribes_sent},
          {"resubscribes_in_force", p.resubscribes_in_force},
          {"before_join", p.before_join},
          {"after_leave", p.after_leave},
          {"unsubscribe_latency", histogram_json(r.metrics.latency.unsubscribe)},
          {"resubscribe_latency", histogram_json(r.metrics.latency.resubscribe)}}},
        {"last_subscriber_timed", p.last_timed},
        {"last_subscriber_never_completed", p.last_stale},
        {"subscribe_latency", histogram_json(r.metrics.latency.subscribe)},
        {"fanout_latency", histogram_json(r.metrics.latency.fanout)},
        {"fanout_last_latency", histogram_json(r.metrics.latency.fanout_last)}};
    if (r.group_setup) j["pubsub"]["group_setup"] = group_setup_json(*r.group_setup);
  }
  j["latency"] = {{"connect", histogram_json(r.metrics.latency.connect)},
                  {"tls_handshake", histogram_json(r.metrics.latency.tls_handshake)},
                  {"upgrade", histogram_json(r.metrics.latency.upgrade)},
                  {"round_trip", histogram_json(r.metrics.latency.round_trip)},
                  {"send_lag", histogram_json(r.metrics.latency.send_lag)}};
  if (tls_run(r)) j["tls"] = tls_json(r);
  if (r.kernel_network) j["kernel_network"] = kernel_network_json(*r.kernel_network, r);
  const auto verdict = judge_schedule(r);
  j["self"] = {{"cpu_user_seconds", r.usage_end.user_seconds - r.usage_start.user_seconds},
               {"cpu_system_seconds", r.usage_end.system_seconds - r.usage_start.system_seconds},
               {"rss_bytes", r.usage_end.rss_bytes},
               {"peak_rss_bytes", r.usage_end.peak_rss_bytes},
               {"rss_before_connections", r.rss_before_connections},
               {"rss_at_peak_open", r.rss_at_peak_open},
               {"open_at_rss_sample", r.open_at_rss_sample},
               {"busy_ns", c.busy_ns},
               {"loop_turns", c.loop_turns},
               {"recv_rearms", c.recv_rearms},
               {"schedule_kept", verdict.kept},
               {"schedule_cause", verdict.cause},
               {"cpu_used_share", verdict.cpu_used_share},
               {"cpu_wait_share", verdict.cpu_wait_share},
               {"schedule", verdict.explanation},
               {"includes_embedded_server", r.embedded_server}};
  if (r.embedded_server) {
    j["server"] = {{"accepted", r.server.accepted},
                   {"upgraded", r.server.upgraded},
                   {"messages_in", r.server.messages_in},
                   {"messages_out", r.server.messages_out},
                   {"accept_errors", r.server.accept_errors},
                   {"rejected", r.server.rejected},
                   {"subscribes", r.server.subscribes},
                   {"unsubscribes", r.server.unsubscribes},
                   {"publishes", r.server.publishes},
                   {"deliveries", r.server.deliveries},
                   {"deliveries_dropped", r.server.deliveries_dropped},
                   {"deliveries_duplicated", r.server.deliveries_duplicated},
                   {"slow_consumers", r.server.slow_consumers},
                   {"command_errors", r.server.command_errors},
                   {"peak_groups", r.server_peak_groups},
                   {"peak_subscriptions", r.server_peak_subscriptions}};
  }
  nlohmann::json series = nlohmann::json::array();
  for (const auto& s : r.series) {
    series.push_back({{"t", s.t},
                      {"open", s.open},
                      {"attempts", s.attempts},
                      {"opened", s.upgraded},
                      {"failures", s.failures},
                      {"sent", s.sent},
                      {"received", s.received},
                      {"round_trip_p50_ns", s.round_trip_p50_ns},
                      {"round_trip_p99_ns", s.round_trip_p99_ns},
                      {"rss_bytes", s.rss_bytes},
                      {"publishes", s.publishes},
                      {"expected", s.expected},
                      {"delivered", s.delivered}});
  }
  j["series"] = series;
  return j;
}

}  // namespace horde::app

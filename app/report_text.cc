// The terminal summary and the live progress line (app/report.hh).
#include <fmt/format.h>

#include <cstring>

#include <algorithm>
#include <string>

#include "app/disconnect_events.hh"
#include "app/report.hh"
#include "app/report_compression.hh"
#include "app/report_format.hh"
#include "app/report_target.hh"

namespace horde::app {
namespace {

// The header of a latency table: the chosen percentiles, then max and mean.
void latency_header(std::FILE* out, const std::vector<double>& percentiles) {
  std::string line = fmt::format("  {:<14} {:>10}", "latency (ms)", "count");
  for (double p : percentiles)
    line += fmt::format(" {:>9}", percentile_label(p));
  fmt::print(out, "{} {:>9} {:>9}\n", line, "max", "mean");
}

void latency_row(std::FILE* out, const char* name, const core::histogram& h,
                 const std::vector<double>& percentiles) {
  if (h.count() == 0) {
    fmt::print(out, "    {:<12} {:>10}\n", name, "-");
    return;
  }
  std::string line = fmt::format("    {:<12} {:>10}", name, grouped(h.count()));
  for (double p : percentiles)
    line += fmt::format(" {:>9}", ms(h.value_at_quantile(p / 100)));
  fmt::print(out, "{} {:>9} {:>9}\n", line, ms(h.max()), fmt::format("{:.3f}", h.mean() / 1e6));
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

bool tls_run(const run_result& r) {
  return r.plan != nullptr && r.plan->tls;
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

// The run-level setup steps (app/setup_steps.hh), one line each.
void print_setup(std::FILE* out, const run_result& r) {
  for (const setup_step_report& s : r.setup_steps) {
    if (s.for_each_group) {
      fmt::print(out,
                 "  setup        {} ({}, per group): {} requests in {:.2f} s, {} not as expected\n",
                 s.name, s.method, grouped(s.requests), s.seconds, grouped(s.failed));
    } else {
      fmt::print(out, "  setup        {} ({}): {} in {:.1f} ms\n", s.name, s.method, s.status,
                 s.latency_ms);
    }
  }
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
  if (p.expected_elsewhere > 0) {
    fmt::print(out,
               "  workers      {} of the deliveries expected here are owed to other workers' "
               "subscribers: lost and delivered balance only in the merged result (horde merge)\n",
               grouped(p.expected_elsewhere));
  }
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
  if (plan.http.enabled()) {
    fmt::print(out,
               "  HTTP publish {}: {} refused, owing no delivery ({} left out of expected); "
               "requests and latency: the publish_http lines\n",
               plan.http.origins.front().method, grouped(p.publishes_refused),
               grouped(p.refused_owed));
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

// Under app_protocol_handshake and app_protocol_error, the codec's own line
// for each distinct failure ("MQTT: CONNACK refused: ..."), with its count.
void print_protocol_texts(std::FILE* out, const core::counter_values& c,
                          core::failure_reason reason) {
  using core::failure_reason;
  if (reason != failure_reason::app_protocol_handshake &&
      reason != failure_reason::app_protocol_error)
    return;
  const core::protocol_failure_values& p = c.protocol_failures;
  for (const auto& f : p.texts) {
    if (f.reason == reason)
      fmt::print(out, "                 \"{}\": {}\n", f.text, grouped(f.count));
  }
  // Texts past a shard's table, once, under the last of the two reasons shown.
  const bool last = reason == failure_reason::app_protocol_error ||
                    c.failures[size_t(failure_reason::app_protocol_error)] == 0;
  if (p.unlisted > 0 && last)
    fmt::print(out, "                 {} more with other texts\n", grouped(p.unlisted));
}

// One line per reason: its count and what it means, with the detail horde
// has (HTTP statuses, the codec's words, errnos).
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
    print_protocol_texts(out, c, reason);
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

void print_plan(std::FILE* out, const run_result& r) {
  const auto* plan = r.plan;
  fmt::print(out, "\nhorde run: {}{}{}{}\n", r.target,
             r.embedded_server ? " (embedded reference server, echo)" : "",
             r.interrupted ? "  [interrupted]" : "",
             r.stopped_by ? "  [stopped by a threshold]" : "");
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
}

void print_messages(std::FILE* out, const run_result& r) {
  const auto& c = r.metrics.counters;
  if (r.plan && r.plan->pubsub.enabled()) {
    fmt::print(out, "  messages     sent {} (subscribes and publishes)  received {}\n",
               grouped(c.messages_sent), grouped(c.messages_received));
  } else if (c.messages_sent || c.messages_received) {
    // Each echo counted once: a duplicate is not a second answer, and a
    // corrupted or truncated one is an answer that came back wrong.
    fmt::print(out,
               "  messages     sent {}  received {}  answered {}  unanswered {}  duplicated {}  "
               "corrupted {}  truncated {}  unstamped {}\n",
               grouped(c.messages_sent), grouped(c.messages_received), grouped(c.messages_answered),
               grouped(unanswered(c)), grouped(c.messages_duplicated),
               grouped(c.messages_corrupted), grouped(c.messages_truncated),
               grouped(c.messages_unstamped));
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
}

void print_latency(std::FILE* out, const run_result& r) {
  const auto& l = r.metrics.latency;
  const auto& p = r.percentiles;
  latency_header(out, p);
  latency_row(out, "tcp connect", l.connect, p);
  if (tls_run(r)) latency_row(out, "tls", l.tls_handshake, p);
  latency_row(out, "upgrade", l.upgrade, p);
  latency_row(out, "round trip", l.round_trip, p);
  latency_row(out, "send lag", l.send_lag, p);
  if (r.plan) {
    const auto& names = r.plan->named.histograms;
    for (size_t i = 0; i < names.size() && i < l.named.size(); ++i)
      latency_row(out, names[i].c_str(), l.named[i], p);
  }
  if (!r.plan || !r.plan->pubsub.enabled()) return;
  latency_row(out, "subscribe", l.subscribe, p);
  latency_row(out, "fan-out", l.fanout, p);
  latency_row(out, "fan-out last", l.fanout_last, p);
  if (r.group_setup) latency_row(out, "group setup", r.group_setup->latency, p);
  if (l.unsubscribe.count() > 0) {
    latency_row(out, "unsubscribe", l.unsubscribe, p);
    latency_row(out, "resubscribe", l.resubscribe, p);
  }
}

// More than one target: each one's connections, failures and latencies.
void print_targets(std::FILE* out, const run_result& r) {
  if (r.targets.size() < 2) return;
  for (size_t t = 0; t < r.targets.size(); ++t) {
    const target_result& target = r.targets[t];
    const auto& c = target.metrics.counters;
    fmt::print(out, "  target {}     {}{}\n", t, target.url,
               target.weight != 1 ? fmt::format("  (weight {})", target.weight) : "");
    fmt::print(out,
               "    connections attempted {}  opened {}  failed {}  peak open {}  "
               "messages sent {}  received {}\n",
               grouped(c.attempts), grouped(c.upgraded), grouped(c.failures_total()),
               grouped(c.open_peak), grouped(c.messages_sent), grouped(c.messages_received));
    for (size_t i = 0; i < c.failures.size(); ++i) {
      if (c.failures[i] == 0) continue;
      fmt::print(out, "    failed      {} {}\n", grouped(c.failures[i]),
                 core::to_string(core::failure_reason(i)));
    }
    const auto& l = target.metrics.latency;
    latency_row(out, "tcp connect", l.connect, r.percentiles);
    if (tls_run(r)) latency_row(out, "tls", l.tls_handshake, r.percentiles);
    latency_row(out, "upgrade", l.upgrade, r.percentiles);
    if (l.round_trip.count() > 0) latency_row(out, "round trip", l.round_trip, r.percentiles);
  }
}

// --worker: which slice this was, and how late it started.
void print_worker(std::FILE* out, const run_result& r) {
  if (!r.worker) return;
  const worker_record& w = *r.worker;
  fmt::print(out, "  worker       {} of {} on {}: {} of {} connections{}\n", w.index, w.count,
             w.host, r.plan ? grouped(r.plan->connections) : "-", grouped(w.whole_connections),
             r.start_at_unix_ns ? fmt::format(", started {:.3f} ms after --start-at",
                                              double(r.clock_offset_ns) / 1e6)
                                : "");
}

// The scenario's own counts: reconnects, and what each step declared
// (requests by name, HTTP steps, streams, heartbeats), "-" never shown.
void print_scenario(std::FILE* out, const run_result& r) {
  const auto& c = r.metrics.counters;
  if (c.reconnects || c.lifetimes_ended || c.chaos_drops || c.reconnects_abandoned) {
    fmt::print(
        out, "  lifecycle    reconnects {} ({} opened{})  lifetimes ended {}  chaos drops {}{}\n",
        grouped(c.reconnects), grouped(c.reconnects_opened),
        c.reconnects_opened ? fmt::format(", {:.2f} attempts each",
                                          double(c.reconnects) / double(c.reconnects_opened))
                            : "",
        grouped(c.lifetimes_ended), grouped(c.chaos_drops),
        c.reconnects_abandoned ? fmt::format("  given up {}", grouped(c.reconnects_abandoned))
                               : "");
  }
  for (const disconnect_event& e : find_disconnect_events(r.series)) {
    fmt::print(out, "  disconnect   at {:.0f} s: {} of {} open ended, lowest {}; {}\n",
               e.at_seconds, grouped(e.ended), grouped(e.open_before), grouped(e.lowest_open),
               e.recovered_after_seconds
                   ? fmt::format("back to 99% within {:.0f} s", *e.recovered_after_seconds)
                   : std::string("never back to 99% before the run ended"));
  }
  if (!r.plan) return;
  const auto& names = r.plan->named.counters;
  std::string line;
  for (size_t i = 0; i < names.size() && i < c.named.size(); ++i) {
    // One line per step: "request.add.sent" and its siblings share "request.add".
    const std::string& name = names[i];
    const size_t dot = name.rfind('.');
    const std::string step = dot == std::string::npos ? name : name.substr(0, dot);
    const std::string what = dot == std::string::npos ? name : name.substr(dot + 1);
    const bool same_step = i > 0 && names[i - 1].rfind(step + ".", 0) == 0 &&
                           names[i - 1].find('.', step.size() + 1) == std::string::npos;
    if (!same_step) {
      if (!line.empty()) fmt::print(out, "{}\n", line);
      line = fmt::format("  {:<12} ", step);
    }
    line += fmt::format(" {} {}", what, grouped(c.named[i]));
  }
  if (!line.empty()) fmt::print(out, "{}\n", line);
}

// The connect pace achieved against the one asked, and why when it fell
// behind: a ramp that slows near its end shows in its last tenth.
void print_ramp(std::FILE* out, const run_result& r) {
  const auto ramp = ramp_of(r);
  if (!ramp) return;
  const std::string asked = ramp->asked_per_s > 0
                                ? fmt::format("asked {}/s", grouped(uint64_t(ramp->asked_per_s)))
                                : std::string("unlimited");
  const std::string opened =
      ramp->seconds_to_open_all
          ? fmt::format("{} open in {:.1f} s", grouped(ramp->opened), *ramp->seconds_to_open_all)
          : fmt::format("{} of {} open when the run ended", grouped(ramp->opened),
                        grouped(ramp->planned));
  const std::string tail =
      ramp->last_tenth_per_s
          ? fmt::format(", {}/s over the last tenth", grouped(uint64_t(*ramp->last_tenth_per_s)))
          : std::string();
  fmt::print(out, "  ramp         {}: {}/s overall{} ({})\n", opened,
             grouped(uint64_t(ramp->overall_per_s)), tail, asked);
  if (!ramp->behind()) return;
  const auto schedule = judge_schedule(r);
  fmt::print(out,
             "               slower than asked: horde's shards used {:.0f}% of their CPUs and "
             "waited for one {:.0f}% of the run{}\n",
             schedule.cpu_used_share * 100, schedule.cpu_wait_share * 100,
             schedule.cpu_wait_share >= 0.10
                 ? " (the target, the kernel's TCP work or other processes held them)"
                 : "; the target, the network or --max-pending set the pace");
}

// horde's own cost: CPU, memory per connection, CPU per million messages
// (the last two only when there is enough to measure).
void print_self(std::FILE* out, const run_result& r) {
  fmt::print(out, "  horde        CPU {:.2f} s user + {:.2f} s system over {:.2f} s{}; RSS {}\n",
             r.usage_end.user_seconds - r.usage_start.user_seconds,
             r.usage_end.system_seconds - r.usage_start.system_seconds, r.elapsed_seconds,
             r.embedded_server ? " (includes the embedded server)" : "",
             bytes_text(r.usage_end.rss_bytes));
  if (const auto per = memory_per_connection(r)) {
    fmt::print(
        out, "               memory per open connection {:.0f} B (RSS growth {} at {} open{})\n",
        *per, bytes_text(r.rss_at_peak_open - r.rss_before_connections),
        grouped(r.open_at_rss_sample), r.embedded_server ? ", includes the embedded server" : "");
  } else if (r.open_at_rss_sample > 0) {
    fmt::print(out,
               "               memory per open connection: too few to measure ({} open; it "
               "takes {} or more)\n",
               grouped(r.open_at_rss_sample), min_connections_for_memory);
  }
  const uint64_t received = r.metrics.counters.messages_received;
  if (const auto per = cpu_per_million_messages(r)) {
    fmt::print(out, "               {:.2f} CPU-seconds per million messages received\n", *per);
  } else if (received > 0) {
    fmt::print(out,
               "               CPU per million messages: too few to measure ({} received; it "
               "takes {} or more)\n",
               grouped(received), grouped(min_messages_for_cpu));
  }
}

void print_server(std::FILE* out, const run_result& r) {
  const auto& s = r.server;
  fmt::print(out,
             "  server       accepted {}  upgraded {}  messages in {}  out {}  accept errors {}\n",
             grouped(s.accepted), grouped(s.upgraded), grouped(s.messages_in),
             grouped(s.messages_out), grouped(s.accept_errors));
  if (s.subscribes + s.publishes > 0) {
    fmt::print(out,
               "               broker: subscriptions {}  group entries {}  publishes {}  "
               "deliveries {}  dropped {}  duplicated {}  slow consumers {}\n",
               grouped(r.server_peak_subscriptions), grouped(r.server_peak_groups),
               grouped(s.publishes), grouped(s.deliveries), grouped(s.deliveries_dropped),
               grouped(s.deliveries_duplicated), grouped(s.slow_consumers));
  }
}

}  // namespace

void print_summary(std::FILE* out, const run_result& r) {
  const auto& c = r.metrics.counters;
  print_plan(out, r);
  print_setup(out, r);
  fmt::print(
      out, "  connections  attempted {}  opened {}  failed {}  peak open {}  closed cleanly {}{}\n",
      grouped(c.attempts), grouped(c.upgraded), grouped(c.failures_total()), grouped(c.open_peak),
      grouped(c.closed_clean),
      c.unfinished_total() ? fmt::format("  unfinished {}", grouped(c.unfinished_total())) : "");
  print_ramp(out, r);
  if (c.close_timed_out + c.close_reset + c.close_without_frame > 0) {
    // Closes horde began that did not end cleanly: the connection was held
    // as asked, so these are the close's outcome, not failures.
    fmt::print(out, "  close        clean {}  timed out {}  reset {}  without a close frame {}\n",
               grouped(c.closed_clean), grouped(c.close_timed_out), grouped(c.close_reset),
               grouped(c.close_without_frame));
  }
  print_failures(out, c);
  if (tls_run(r)) print_tls(out, r);
  if (compression_run(r)) print_compression(out, r);
  print_messages(out, r);
  print_scenario(out, r);
  if (r.plan && r.plan->pubsub.enabled()) print_pubsub(out, r);
  print_latency(out, r);
  print_targets(out, r);
  print_worker(out, r);
  print_self(out, r);
  print_target(out, r);
  fmt::print(out, "  schedule     {}\n", judge_schedule(r).explanation);
  if (r.kernel_network) print_kernel_network(out, *r.kernel_network, r);
  if (r.embedded_server) print_server(out, r);
  for (const auto& e : r.errors)
    fmt::print(out, "  ERROR        {}\n", e);
  print_verdict(out, r);
  std::fflush(out);
}

// Rates over the last interval, and its own latency percentiles (not the
// run's so far): a spike shows in the second it happens.
std::string progress_line(const run_result& r, const series_point& now, const series_point& prev) {
  const double dt = now.t - prev.t > 0 ? now.t - prev.t : 1;
  const uint64_t target = r.plan ? r.plan->connections : 0;
  const std::string head =
      fmt::format("{:6.1f}s open {}/{}  conn/s {:.0f}", now.t, grouped(now.open), grouped(target),
                  double(now.upgraded - prev.upgraded) / dt);
  if (r.plan && r.plan->pubsub.enabled()) {
    return fmt::format(
        "{}  pub/s {:.0f}  deliv/s {:.0f}  missing {}  last {:.0f}s: fan-out p50 {} p99 {} ms  "
        "errors {}",
        head, double(now.publishes - prev.publishes) / dt,
        double(now.delivered - prev.delivered) / dt,
        grouped(now.expected > now.delivered ? now.expected - now.delivered : 0), dt,
        ms(now.fanout.p50_ns), ms(now.fanout.p99_ns), grouped(now.failures));
  }
  return fmt::format(
      "{}  msg/s out {:.0f} in {:.0f}  last {:.0f}s: rtt p50 {} p99 {} ms  errors {}", head,
      double(now.sent - prev.sent) / dt, double(now.received - prev.received) / dt, dt,
      ms(now.round_trip.p50_ns), ms(now.round_trip.p99_ns), grouped(now.failures));
}

}  // namespace horde::app

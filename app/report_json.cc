// The versioned JSON result (app/report.hh): every field the summary has,
// histograms with their buckets, every counter core declares, the series.
#include <cstring>

#include <string>

#include "app/disconnect_events.hh"
#include "app/report.hh"
#include "app/report_compression.hh"
#include "app/report_format.hh"
#include "app/report_target.hh"

namespace horde::app {

using json = nlohmann::json;

json histogram_json(const core::histogram& h, const std::vector<double>& percentiles) {
  json j;
  j["count"] = h.count();
  j["min_ns"] = h.count() ? h.min() : 0;
  j["max_ns"] = h.max();
  j["mean_ns"] = h.mean();
  json chosen = json::object();
  for (double p : percentiles)
    chosen[percentile_label(p)] = h.value_at_quantile(p / 100);
  j["percentiles_ns"] = chosen;
  // Sparse buckets: [index, count] pairs; merging two results adds counts.
  json buckets = json::array();
  h.for_each_bucket([&](uint32_t index, uint64_t count) { buckets.push_back({index, count}); });
  j["buckets"] = buckets;
  return j;
}

namespace {

nlohmann::json kernel_network_json(const sysctl::net_counters& k, const run_result& r) {
  // TCP's counters are per network namespace; inside one they are its own.
  return {{"scope", r.private_network ? "network_namespace" : "host"},
          {"retransmitted_segments", k.retransmitted_segments},
          {"retransmit_timeouts", k.retransmit_timeouts},
          {"loss_probes", k.loss_probes},
          {"input_queue_drops", k.input_queue_drops},
          {"listen_overflows", k.listen_overflows}};
}

// Each distinct (reason, text) failure: TLS's with OpenSSL's words, a
// codec's with its own.
json failure_texts_json(const std::vector<core::failure_text>& texts) {
  json out = json::array();
  for (const auto& f : texts) {
    out.push_back(
        {{"reason", std::string(core::to_string(f.reason))}, {"text", f.text}, {"count", f.count}});
  }
  return out;
}

bool tls_run(const run_result& r) {
  return r.plan != nullptr && r.plan->tls;
}

nlohmann::json tls_json(const run_result& r) {
  const auto& t = r.metrics.counters.tls;
  const auto& o = r.plan->tls_options;
  return {{"insecure", o.insecure},
          {"verified", !o.insecure},
          {"ca_file", o.ca_file},
          {"client_certificate", o.cert_file},
          {"server_name", r.plan->targets.empty() ? "" : r.plan->targets[0].tls_host},
          {"resumption", o.resume},
          {"full_handshakes", t.full_handshakes},
          {"resumed_handshakes", t.resumed_handshakes},
          {"failures", failure_texts_json(t.failure_texts)},
          {"unlisted_failures", t.unlisted_failures}};
}

nlohmann::json group_setup_json(const group_setup_result& s,
                                const std::vector<double>& percentiles) {
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
          {"latency", histogram_json(s.latency, percentiles)}};
}

// The run-level setup steps, in order (URLs left out: they may hold secrets).
json setup_json(const run_result& r) {
  json steps = json::array();
  for (const setup_step_report& s : r.setup_steps) {
    steps.push_back({{"name", s.name},
                     {"method", s.method},
                     {"for_each_group", s.for_each_group},
                     {"requests", s.requests},
                     {"status", s.status},
                     {"latency_ms", s.latency_ms},
                     {"seconds", s.seconds},
                     {"failed", s.failed}});
  }
  return steps;
}

json plan_json(const run_result& r) {
  const auto* p = r.plan;
  return {{"connections", p->connections},
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
          {"sources", r.sources},
          {"percentiles", r.percentiles}};
}

// Every scalar counter core declares (core/metrics.hh), by its name: a new
// counter is one line there and appears here by itself.
json counters_json(const core::counter_values& c) {
  json j = json::object();
#define HORDE_COUNTER_JSON(name) j[#name] = c.name;
  HORDE_CONNECTION_COUNTERS(HORDE_COUNTER_JSON)
  HORDE_MESSAGE_COUNTERS(HORDE_COUNTER_JSON)
  HORDE_ENGINE_COUNTERS(HORDE_COUNTER_JSON)
#undef HORDE_COUNTER_JSON
  return j;
}

// The failures by reason, and what each reason means (HORDE_FAILURE_REASONS).
json failures_json(const core::counter_values& c, bool meanings) {
  json j = json::object();
  for (size_t i = 0; i < c.failures.size(); ++i) {
    const auto reason = core::failure_reason(i);
    j[std::string(core::to_string(reason))] =
        meanings ? json(core::describe(reason)) : json(c.failures[i]);
  }
  return j;
}

json connections_json(const core::counter_values& c) {
  json statuses = json::object();
  for (size_t s = 0; s < c.http_status.size(); ++s) {
    if (c.http_status[s]) statuses[std::to_string(s)] = c.http_status[s];
  }
  json close_codes = json::object();
  for (size_t i = 0; i < c.close_codes.size(); ++i) {
    if (c.close_codes[i])
      close_codes[std::to_string(core::first_close_code + i)] = c.close_codes[i];
  }
  if (c.close_codes_other) close_codes["other"] = c.close_codes_other;
  json errnos = json::object();
  for (size_t e = 0; e < c.connect_errnos.size(); ++e) {
    if (c.connect_errnos[e]) errnos[std::strerror(int(e))] = c.connect_errnos[e];
  }
  return {{"attempted", c.attempts},
          {"tcp_connected", c.tcp_connected},
          {"opened", c.upgraded},
          {"failed", c.failures_total()},
          {"unfinished", c.unfinished_total()},
          {"peak_open", c.open_peak},
          {"closed_clean", c.closed_clean},
          {"close_timed_out", c.close_timed_out},
          {"close_reset", c.close_reset},
          {"close_without_frame", c.close_without_frame},
          {"bind_retries", c.bind_retries},
          {"failures", failures_json(c, false)},
          {"failure_meanings", failures_json(c, true)},
          {"protocol_failures", failure_texts_json(c.protocol_failures.texts)},
          {"protocol_failures_unlisted", c.protocol_failures.unlisted},
          {"connect_errors", errnos},
          {"upgrade_status", statuses},
          {"server_close_codes", close_codes},
          {"send_backlog_peak_bytes", c.backlog_peak_bytes},
          {"abandoned_at_hard_stop", c.hard_stops}};
}

json messages_json(const core::counter_values& c) {
  return {{"sent", c.messages_sent},
          {"received", c.messages_received},
          {"answered", c.messages_answered},
          {"unanswered", unanswered(c)},
          {"duplicated", c.messages_duplicated},
          {"corrupted", c.messages_corrupted},
          {"truncated", c.messages_truncated},
          {"unstamped", c.messages_unstamped},
          {"bytes_sent", c.bytes_sent},
          {"bytes_received", c.bytes_received},
          {"pings_sent", c.pings_sent},
          {"pongs_received", c.pongs_received},
          {"pings_received", c.pings_received}};
}

json churn_json(const run_result& r) {
  const auto& p = r.metrics.counters.pubsub;
  const auto& pct = r.percentiles;
  return {{"rate", r.plan->pubsub.churn_rate},
          {"unsubscribes_sent", p.unsubscribes_sent},
          {"unsubscribes_acked", p.unsubscribes_acked},
          {"resubscribes_sent", p.resubscribes_sent},
          {"resubscribes_in_force", p.resubscribes_in_force},
          {"before_join", p.before_join},
          {"after_leave", p.after_leave},
          {"unsubscribe_latency", histogram_json(r.metrics.latency.unsubscribe, pct)},
          {"resubscribe_latency", histogram_json(r.metrics.latency.resubscribe, pct)}};
}

// --publish-http: the requests (also under scenario as publish_http.*), and
// what refusals mean to the accounting.
json publish_http_json(const run_result& r) {
  const auto& http = r.plan->pubsub.http;
  const auto& named = r.metrics.counters.named;
  auto count = [&](uint32_t metric) -> uint64_t {
    return metric < named.size() ? named[metric] : 0;
  };
  json statuses = json::object();
  for (uint32_t k = 0; k < 5; ++k)
    statuses[std::to_string(k + 1) + "xx"] = count(http.status_class + k);
  const auto& latency = r.metrics.latency.named;
  auto histogram = [&](uint32_t metric) {
    return metric < latency.size() ? histogram_json(latency[metric], r.percentiles)
                                   : json::object();
  };
  // Several origins (--publish-http repeated): each one's share.
  json origins = json::array();
  for (const core::http_publish_origin& o : http.origins) {
    if (o.sent == core::no_metric) continue;
    origins.push_back({{"host", o.host},
                       {"method", o.method},
                       {"requests", count(o.sent)},
                       {"ok", count(o.ok)},
                       {"refused", count(o.refused)},
                       {"no_answer", count(o.broken)},
                       {"latency", histogram(o.latency)}});
  }
  return {{"method", http.origins.front().method},
          {"origins", origins},
          {"requests", count(http.sent)},
          {"ok", count(http.ok)},
          {"refused", count(http.refused)},
          {"no_answer", count(http.broken)},
          {"timeouts", count(http.timeouts)},
          {"reconnects", count(http.reconnects)},
          {"statuses", statuses},
          {"publishes_refused", r.metrics.counters.pubsub.publishes_refused},
          {"refused_owed", r.metrics.counters.pubsub.refused_owed},
          {"latency", histogram(http.latency)}};
}

json pubsub_json(const run_result& r) {
  const auto& p = r.metrics.counters.pubsub;
  const auto& plan = r.plan->pubsub;
  const auto& pct = r.percentiles;
  json j = {{"groups", plan.layout.groups},
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
            {"expected_elsewhere", p.expected_elsewhere},
            {"delivered", p.unique()},
            {"deliveries_received", p.delivered},
            {"lost", p.lost()},
            {"duplicated", p.duplicates},
            {"reordered", p.late},
            {"gaps_seen", p.gaps},
            {"unaccounted", p.unaccounted},
            {"other_messages", p.other},
            {"withdrawn", p.withdrawn},
            {"churn", churn_json(r)},
            {"last_subscriber_timed", p.last_timed},
            {"last_subscriber_never_completed", p.last_stale},
            {"subscribe_latency", histogram_json(r.metrics.latency.subscribe, pct)},
            {"fanout_latency", histogram_json(r.metrics.latency.fanout, pct)},
            {"fanout_last_latency", histogram_json(r.metrics.latency.fanout_last, pct)}};
  if (r.group_setup) j["group_setup"] = group_setup_json(*r.group_setup, pct);
  if (plan.http.enabled()) j["publish_http"] = publish_http_json(r);
  return j;
}

json latency_json(const core::latency_set& l, const std::vector<double>& pct) {
  return {{"connect", histogram_json(l.connect, pct)},
          {"tls_handshake", histogram_json(l.tls_handshake, pct)},
          {"upgrade", histogram_json(l.upgrade, pct)},
          {"round_trip", histogram_json(l.round_trip, pct)},
          {"send_lag", histogram_json(l.send_lag, pct)}};
}

// What the scenario declared (core::named_metrics): its counters and
// histograms by name, with the lifecycle's reconnect figures.
json scenario_json(const run_result& r) {
  const auto& names = r.plan->named;
  const auto& c = r.metrics.counters;
  json counters = json::object();
  for (size_t i = 0; i < names.counters.size() && i < c.named.size(); ++i)
    counters[names.counters[i]] = c.named[i];
  json latency = json::object();
  const auto& l = r.metrics.latency;
  for (size_t i = 0; i < names.histograms.size() && i < l.named.size(); ++i)
    latency[names.histograms[i]] = histogram_json(l.named[i], r.percentiles);
  json events = json::array();
  for (const disconnect_event& e : find_disconnect_events(r.series)) {
    events.push_back(
        {{"at_seconds", e.at_seconds},
         {"open_before", e.open_before},
         {"ended", e.ended},
         {"lowest_open", e.lowest_open},
         {"recovered_after_seconds",
          e.recovered_after_seconds ? json(*e.recovered_after_seconds) : json(nullptr)}});
  }
  return {{"reconnects", c.reconnects},
          {"reconnects_opened", c.reconnects_opened},
          {"attempts_per_success", c.reconnects_opened
                                       ? json(double(c.reconnects) / double(c.reconnects_opened))
                                       : json(nullptr)},
          {"disconnect_events", events},
          {"reconnects_abandoned", c.reconnects_abandoned},
          {"lifetimes_ended", c.lifetimes_ended},
          {"chaos_drops", c.chaos_drops},
          {"counters", counters},
          {"latency", latency}};
}

// A figure, or null when there was too little to measure it.
json figure_or_null(std::optional<double> figure) {
  return figure ? json(*figure) : json(nullptr);
}

json ramp_json(const ramp_summary& ramp) {
  auto optional = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  return {{"planned", ramp.planned},
          {"opened", ramp.opened},
          {"asked_per_second", ramp.asked_per_s},
          {"seconds_to_open_all", optional(ramp.seconds_to_open_all)},
          {"per_second_overall", ramp.overall_per_s},
          {"per_second_last_tenth", optional(ramp.last_tenth_per_s)},
          {"behind", ramp.behind()}};
}

json self_json(const run_result& r) {
  const auto& c = r.metrics.counters;
  const auto verdict = judge_schedule(r);
  return {{"cpu_user_seconds", r.usage_end.user_seconds - r.usage_start.user_seconds},
          {"cpu_system_seconds", r.usage_end.system_seconds - r.usage_start.system_seconds},
          {"rss_bytes", r.usage_end.rss_bytes},
          {"peak_rss_bytes", r.usage_end.peak_rss_bytes},
          {"rss_before_connections", r.rss_before_connections},
          {"rss_at_peak_open", r.rss_at_peak_open},
          {"open_at_rss_sample", r.open_at_rss_sample},
          {"memory_per_connection_bytes", figure_or_null(memory_per_connection(r))},
          {"cpu_seconds_per_million_messages", figure_or_null(cpu_per_million_messages(r))},
          {"busy_ns", c.busy_ns},
          {"loop_turns", c.loop_turns},
          {"recv_rearms", c.recv_rearms},
          {"schedule_kept", verdict.kept},
          {"schedule_cause", verdict.cause},
          {"cpu_used_share", verdict.cpu_used_share},
          {"cpu_wait_share", verdict.cpu_wait_share},
          {"schedule", verdict.explanation},
          {"includes_embedded_server", r.embedded_server}};
}

json server_json(const run_result& r) {
  const auto& s = r.server;
  return {{"accepted", s.accepted},
          {"upgraded", s.upgraded},
          {"messages_in", s.messages_in},
          {"messages_out", s.messages_out},
          {"accept_errors", s.accept_errors},
          {"rejected", s.rejected},
          {"subscribes", s.subscribes},
          {"unsubscribes", s.unsubscribes},
          {"publishes", s.publishes},
          {"deliveries", s.deliveries},
          {"deliveries_dropped", s.deliveries_dropped},
          {"deliveries_duplicated", s.deliveries_duplicated},
          {"slow_consumers", s.slow_consumers},
          {"command_errors", s.command_errors},
          {"sessions_issued", s.sessions_issued},
          {"sessions_refused", s.sessions_refused},
          {"upgrades_unauthorized", s.upgrades_unauthorized},
          {"requests_not_found", s.requests_not_found},
          {"mass_dropped", s.mass_dropped},
          {"peak_groups", r.server_peak_groups},
          {"peak_subscriptions", r.server_peak_subscriptions}};
}

json interval_json(const interval_latency& l) {
  return {{"count", l.count},
          {"p50_ns", l.p50_ns},
          {"p95_ns", l.p95_ns},
          {"p99_ns", l.p99_ns},
          {"max_ns", l.max_ns}};
}

// Once a second: counts so far (cumulative), the round trip's cumulative
// p50/p99 under their old names, and under "interval" each latency's own
// percentiles over that second only.
json series_json(const std::vector<series_point>& series) {
  json out = json::array();
  for (const auto& s : series) {
    out.push_back({{"t", s.t},
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
                   {"delivered", s.delivered},
                   {"interval",
                    {{"seconds", s.interval_seconds},
                     {"round_trip", interval_json(s.round_trip)},
                     {"fanout", interval_json(s.fanout)},
                     {"connect", interval_json(s.connect)},
                     {"upgrade", interval_json(s.upgrade)}}}});
    add_sampled_fields(out.back(), s);
    if (!s.failures_by_reason.empty()) {
      json reasons = json::object();
      for (const auto& [reason, count] : s.failures_by_reason)
        reasons[std::string(core::to_string(core::failure_reason(reason)))] = count;
      out.back()["failures_by_reason"] = reasons;
    }
  }
  return out;
}

json headers_json(const run_result& r) {
  json headers = json::array();
  for (const auto& [name, value] : r.headers)
    headers.push_back({{"name", name}, {"value", value}});
  return headers;
}

// Each target's connections, failures and latencies (more than one target).
json targets_json(const run_result& r) {
  json out = json::array();
  for (const target_result& t : r.targets) {
    const auto& c = t.metrics.counters;
    out.push_back({{"url", t.url},
                   {"weight", t.weight},
                   {"connections", connections_json(c)},
                   {"failures_by_reason", failures_json(c, false)},
                   {"messages", messages_json(c)},
                   {"latency", latency_json(t.metrics.latency, r.percentiles)}});
  }
  return out;
}

// --worker: this slice, and the whole plan it is a slice of ("plan" above
// is this process's own).
json worker_json(const worker_record& w, const run_result& r) {
  json whole = plan_json(r);
  whole["connections"] = w.whole_connections;
  whole["connect_rate"] = w.whole_connect_rate;
  whole["targets"] = w.target_urls;
  whole.erase("sources");  // this host's own, not the plan's
  whole.erase("cpus");
  whole.erase("shards");
  return {{"index", w.index},
          {"count", w.count},
          {"host", w.host},
          {"start_at_unix_ns", r.start_at_unix_ns ? json(*r.start_at_unix_ns) : json(nullptr)},
          {"clock_offset_ns", r.clock_offset_ns},
          {"whole_plan", whole}};
}

}  // namespace

json to_json(const run_result& r) {
  json j;
  const auto& c = r.metrics.counters;
  j["schema"] = result_schema;
  j["target"] = r.target;
  j["embedded_server"] = r.embedded_server;
  j["interrupted"] = r.interrupted;
  j["elapsed_seconds"] = r.elapsed_seconds;
  if (r.started_unix_ns) j["started_unix_ns"] = r.started_unix_ns;
  j["environment"] = {{"kernel", r.kernel},
                      {"cpus", r.cpu_count},
                      {"rlimit_nofile_soft", r.fd_soft},
                      {"rlimit_nofile_hard", r.fd_hard}};
  if (r.plan) j["plan"] = plan_json(r);
  if (!r.setup_steps.empty()) j["setup"] = setup_json(r);
  j["notes"] = r.notes;
  j["headers"] = headers_json(r);
  j["shards_stuck"] = r.shards_stuck;
  // Nothing held after the run: slots in use at the end of sending are the
  // connections open or being set up then; contexts and ports all returned.
  j["leak_check"] = {{"slots_live_at_end", c.slots_live_at_end},
                     {"open_or_opening_at_end", c.open_at_end},
                     {"framing_contexts_left", c.contexts_left},
                     {"source_ports_left", c.ports_left}};
  j["errors"] = r.errors;
  j["connections"] = connections_json(c);
  if (const auto ramp = ramp_of(r)) j["ramp"] = ramp_json(*ramp);
  j["messages"] = messages_json(c);
  j["counters"] = counters_json(c);
  if (r.plan && r.plan->pubsub.enabled()) j["pubsub"] = pubsub_json(r);
  j["latency"] = latency_json(r.metrics.latency, r.percentiles);
  if (r.targets.size() > 1) j["targets"] = targets_json(r);
  if (r.worker && r.plan) j["worker"] = worker_json(*r.worker, r);
  if (r.plan) j["scenario"] = scenario_json(r);
  if (tls_run(r)) j["tls"] = tls_json(r);
  if (compression_run(r)) j["compression"] = compression_json(r);
  if (r.kernel_network) j["kernel_network"] = kernel_network_json(*r.kernel_network, r);
  j["self"] = self_json(r);
  if (r.embedded_server) j["server"] = server_json(r);
  // "target" is the URL (schema horde.run/1): the target's cost has its own key.
  if (!r.sampled_target.names.empty()) j["target_cost"] = target_cost_json(r);
  j["series"] = series_json(r.series);
  j["thresholds"] = thresholds_json(r);
  j["verdict"] = verdict_json(r);
  return j;
}

}  // namespace horde::app

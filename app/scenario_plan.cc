#include "app/scenario_plan.hh"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "app/setup_steps.hh"
#include "app/units.hh"
#include "proto/csv_table.hh"
#include "proto/http_request.hh"
#include "proto/json_fields.hh"
#include "proto/jwt.hh"
#include "proto/var_template.hh"

namespace horde::app {
namespace {

// "scenario.yaml:12:5 (lifecycle.lifetime): " or "--lifetime: ".
std::string where(const spec_origin& origin, const char* flag) {
  if (origin.file.empty()) return fmt::format("{}: ", flag);
  return fmt::format("{}:{}:{} ({}): ", origin.file, origin.line, origin.column, origin.key);
}

result<uint64_t> duration_at(const std::string& text, const spec_origin& origin, const char* flag) {
  auto parsed = parse_duration_ns(text);
  if (!parsed) return make_error(where(origin, flag) + parsed.error().message);
  return *parsed;
}

result<void> lifecycle_into(const lifecycle_spec& spec, run_plan& out) {
  core::lifecycle_plan& life = out.client.lifecycle;
  if (!spec.lifetime.empty()) {
    auto t = duration_at(spec.lifetime, spec.origin, "--lifetime");
    if (!t) return t.error();
    life.lifetime_ns = *t;
  }
  if (!spec.lifetime_jitter.empty()) {
    auto t = duration_at(spec.lifetime_jitter, spec.origin, "--lifetime-jitter");
    if (!t) return t.error();
    if (life.lifetime_ns == 0)
      return make_error(where(spec.origin, "--lifetime-jitter") + "needs --lifetime");
    life.lifetime_jitter_ns = *t;
  }
  life.reconnect = spec.reconnect;
  auto base = duration_at(spec.backoff_base, spec.origin, "--backoff-base");
  if (!base) return base.error();
  auto cap = duration_at(spec.backoff_cap, spec.origin, "--backoff-cap");
  if (!cap) return cap.error();
  if (*cap < *base)
    return make_error(where(spec.origin, "--backoff-cap") +
                      "the cap is below --backoff-base: every wait would be the cap");
  life.backoff_base_ns = *base;
  life.backoff_cap_ns = *cap;
  life.max_attempts = spec.max_attempts;
  if (!spec.chaos_rate.empty()) {
    auto rate = parse_rate_per_second(spec.chaos_rate);
    if (!rate) return make_error(where(spec.origin, "--chaos-rate") + rate.error().message);
    life.chaos_rate = *rate;
  }
  if (spec.chaos_mode != "reset" && spec.chaos_mode != "close")
    return make_error(where(spec.origin, "--chaos-mode") + "'" + spec.chaos_mode +
                      "' is not a mode: reset (an RST) or close (a clean 1001)");
  life.chaos_reset = spec.chaos_mode == "reset";
  if (life.reconnect) {
    life.backoff_histogram = out.client.named.histogram("reconnect.backoff");
    out.notes.push_back(fmt::format(
        "reconnect: a connection that ends before the run does launches again after a wait "
        "uniform in [0, min({}, {} x 2^failures in a row)]{}",
        spec.backoff_cap, spec.backoff_base,
        life.max_attempts ? fmt::format(", given up after {} failures in a row", life.max_attempts)
                          : std::string()));
  }
  return {};
}

result<std::string> read_file(const std::string& path, const spec_origin& origin,
                              const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(where(origin, flag) + "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The feeder's columns become the first variables.
result<void> feeder_into(const scenario_spec& spec, run_plan& out) {
  if (spec.feeders.empty()) return {};
  if (spec.feeders.size() > 1)
    return make_error(where(spec.feeders[1].origin, "--feeder") +
                      "one feeder per run (put the columns in one file)");
  const feeder_spec& f = spec.feeders[0];
  auto text = read_file(f.file, f.origin, "--feeder");
  if (!text) return text.error();
  auto table = proto::csv_table::parse(*text);
  if (!table)
    return make_error(where(f.origin, "--feeder") + f.file + ": " + table.error().message);
  if (table->rows() == 0) return make_error(where(f.origin, "--feeder") + f.file + " has no rows");
  core::vars_plan& vars = out.client.vars;
  if (f.mode == "cycle") {
    vars.order = core::vars_plan::feeder_order::cycle;
  } else if (f.mode == "random") {
    vars.order = core::vars_plan::feeder_order::random;
  } else if (f.mode == "once") {
    vars.order = core::vars_plan::feeder_order::once;
    if (table->rows() < out.client.connections)
      return make_error(where(f.origin, "--feeder") +
                        fmt::format("mode once: {} has {} rows for {} connections", f.file,
                                    table->rows(), out.client.connections));
  } else {
    return make_error(where(f.origin, "--feeder") + "mode '" + f.mode +
                      "' is not one of cycle, once, random");
  }
  vars.names = table->columns();
  vars.feeder = std::make_shared<proto::csv_table>(std::move(*table));
  out.notes.push_back(fmt::format("feeder {}: {} rows, variables {{{}}} ({})", f.file,
                                  vars.feeder->rows(), fmt::join(vars.names, "}, {"), f.mode));
  return {};
}

result<proto::var_template> template_at(const std::string& text, const run_plan& out,
                                        const spec_origin& origin, const char* flag) {
  auto parsed = proto::var_template::parse(text, out.client.vars.names);
  if (!parsed) return make_error(where(origin, flag) + parsed.error().message);
  return std::move(*parsed);
}

// A JWT per connection: {jwt} becomes the last variable.
result<void> jwt_into(const scenario_spec& spec, run_plan& out) {
  if (spec.jwt.empty()) return {};
  const jwt_spec& j = spec.jwt[0];
  if (spec.jwt.size() > 1) return make_error(where(spec.jwt[1].origin, "jwt") + "one jwt block");
  auto algorithm = proto::parse_jwt_algorithm(j.algorithm);
  if (!algorithm) return make_error(where(j.origin, "jwt.alg") + algorithm.error().message);
  std::string key = j.secret;
  if (*algorithm != proto::jwt_algorithm::hs256) {
    if (j.key_file.empty())
      return make_error(where(j.origin, "jwt.key-file") + j.algorithm +
                        " signs with a private key: give key-file (PEM)");
    auto pem = read_file(j.key_file, j.origin, "jwt.key-file");
    if (!pem) return pem.error();
    key = std::move(*pem);
  } else if (key.empty()) {
    return make_error(where(j.origin, "jwt.secret") + "HS256 needs the secret the server checks");
  }
  auto signer = proto::jwt_signer::make(*algorithm, key);
  if (!signer) return make_error(where(j.origin, "jwt") + signer.error().message);
  core::jwt_plan& plan = out.client.jwt;
  // Claims may use the feeder's columns (and, later, captures): parsed
  // before {jwt} itself is a name.
  for (const jwt_claim_spec& claim : j.claims) {
    auto value = template_at(claim.value, out, j.origin, "jwt.claims");
    if (!value) return value.error();
    plan.claim_names.push_back(claim.name);
    plan.claim_values.push_back(std::move(*value));
    plan.claim_is_string.push_back(false);
  }
  plan.signer = std::move(*signer);
  out.client.vars.names.push_back("jwt");
  plan.stored_index = out.client.vars.stored() - 1;
  out.notes.push_back(fmt::format("jwt: {} minted per connection with {} claims into {{jwt}}",
                                  j.algorithm, j.claims.size()));
  return {};
}

result<proto::json_pointer> pointer_at(const std::string& text, const spec_origin& origin,
                                       const char* flag);

// "http://host:port" and the path template after it.
std::pair<std::string, std::string> split_origin(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const size_t path = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path == std::string::npos) return {url, "/"};
  return {url.substr(0, path), url.substr(path)};
}

// Captures become stored variables (before {jwt}, whose claims may use them).
result<void> capture_names_into(const scenario_spec& spec, run_plan& out) {
  for (const http_step_spec& step : spec.http_steps) {
    for (const capture_spec& c : step.captures) {
      auto& names = out.client.vars.names;
      if (std::find(names.begin(), names.end(), c.variable) != names.end())
        return make_error(where(c.origin, "capture") + "{" + c.variable +
                          "} is already a variable (a feeder column or another capture)");
      names.push_back(c.variable);
    }
  }
  return {};
}

result<void> http_steps_into(const run_options& o, const scenario_spec& spec, run_plan& out) {
  if (spec.http_steps.empty()) return {};
  if (o.url.empty())
    return make_error(where(spec.http_steps[0].origin, "http") +
                      "HTTP steps need the server's URL (the embedded server has no HTTP API)");
  const auto [ws_origin, ws_path] = split_origin(o.url);
  (void)ws_path;
  std::string ws_as_http = ws_origin;
  if (ws_as_http.rfind("ws://", 0) == 0) ws_as_http = "http://" + ws_as_http.substr(5);
  if (ws_as_http.rfind("wss://", 0) == 0) ws_as_http = "https://" + ws_as_http.substr(6);
  auto ws_url = proto::parse_http_url(ws_as_http + "/");
  if (!ws_url) return make_error("the URL: " + ws_url.error().message);
  size_t stored = out.client.vars.feeder_columns();
  for (size_t i = 0; i < spec.http_steps.size(); ++i) {
    const http_step_spec& step = spec.http_steps[i];
    core::http_step_plan plan;
    plan.name = step.name.empty() ? fmt::format("http{}", i) : step.name;
    const auto [origin, path] = split_origin(step.url);
    auto url = proto::parse_http_url(origin + "/");
    if (!url) return make_error(where(step.origin, "http.url") + url.error().message);
    if (url->scheme != ws_url->scheme || url->host != ws_url->host || url->port != ws_url->port)
      return make_error(where(step.origin, "http.url") +
                        fmt::format("{} is not the WebSocket's origin ({}): the steps run on the "
                                    "connection's own socket, which then upgrades",
                                    origin, ws_as_http));
    plan.host = url->host_header();
    plan.method = step.method;
    auto target = template_at(path, out, step.origin, "http.url");
    if (!target) return target.error();
    plan.target = std::move(*target);
    for (const std::string& header : step.headers) {
      auto h = template_at(header, out, step.origin, "http.headers");
      if (!h) return h.error();
      plan.headers.push_back(std::move(*h));
    }
    auto body = template_at(step.body, out, step.origin, "http.body");
    if (!body) return body.error();
    plan.body = std::move(*body);
    plan.expect = step.expect_status;
    auto timeout = duration_at(step.timeout, step.origin, "http.timeout");
    if (!timeout) return timeout.error();
    plan.timeout_ns = *timeout;
    for (const capture_spec& c : step.captures) {
      core::http_capture capture;
      const auto& names = out.client.vars.names;
      capture.stored_index =
          size_t(std::find(names.begin(), names.end(), c.variable) - names.begin()) -
          out.client.vars.feeder_columns() - out.client.vars.run_count;
      if (!c.header.empty()) {
        capture.from_header = true;
        capture.header = c.header;
      } else {
        auto pointer = pointer_at(c.json, c.origin, "capture");
        if (!pointer) return pointer.error();
        capture.json = std::move(*pointer);
      }
      plan.captures.push_back(std::move(capture));
    }
    auto& named = out.client.named;
    plan.latency = named.histogram("http." + plan.name);
    plan.ok = named.counter("http." + plan.name + ".ok");
    plan.failed = named.counter("http." + plan.name + ".failed");
    plan.status_class = named.counter("http." + plan.name + ".1xx");
    for (const char* status_class : {".2xx", ".3xx", ".4xx", ".5xx"})
      named.counter("http." + plan.name + status_class);
    out.client.http_steps.push_back(std::move(plan));
  }
  (void)stored;
  out.notes.push_back(fmt::format(
      "http: {} step(s) per connection before the upgrade, on its own socket (kept alive)",
      spec.http_steps.size()));
  return {};
}

result<proto::json_pointer> pointer_at(const std::string& text, const spec_origin& origin,
                                       const char* flag) {
  auto parsed = proto::json_pointer::parse(text);
  if (!parsed) return make_error(where(origin, flag) + parsed.error().message);
  return std::move(*parsed);
}

result<core::request_kind> request_into(const request_spec& r, size_t index, run_plan& out) {
  core::request_kind k;
  k.name = r.name.empty() ? fmt::format("request{}", index) : r.name;
  if (r.send.empty()) return make_error(where(r.origin, "--request") + "nothing to send");
  auto send = template_at(r.send, out, r.origin, "--request");
  if (!send) return send.error();
  k.send = std::move(*send);
  if (r.format != "text" && r.format != "binary")
    return make_error(where(r.origin, "--request") + "format '" + r.format +
                      "' is not text or binary");
  k.binary = r.format == "binary";
  auto value = template_at(r.match_value, out, r.origin, "--match");
  if (!value) return value.error();
  k.match_value = std::move(*value);
  auto match = pointer_at(r.match, r.origin, "--match");
  if (!match) return match.error();
  k.match = std::move(*match);
  if (!r.error.empty()) {
    auto error = pointer_at(r.error, r.origin, "--error-field");
    if (!error) return error.error();
    k.error = std::move(*error);
    k.has_error = true;
  }
  if (r.rate.empty()) {
    k.rate = out.client.message_rate;  // --rate, or --total-rate shared over the connections
  } else {
    auto rate = parse_rate_per_second(r.rate);
    if (!rate) return make_error(where(r.origin, "rate") + rate.error().message);
    k.rate = *rate;
  }
  auto timeout = duration_at(r.timeout, r.origin, "--request-timeout");
  if (!timeout) return timeout.error();
  k.timeout_ns = *timeout;
  k.stream = r.stream;
  if (!r.end.empty()) {
    auto end = proto::json_predicate::parse(r.end);
    if (!end) return make_error(where(r.origin, "end") + end.error().message);
    k.end = std::move(*end);
    k.has_end = true;
  }
  k.count = r.count;
  if (k.stream && !k.has_end && k.count == 0)
    return make_error(where(r.origin, "stream") +
                      "a stream needs its end: 'end: /type == \"done\"' or 'count: N'");
  auto& named = out.client.named;
  const std::string base = (k.stream ? "stream." : "request.") + k.name;
  k.latency = named.histogram(base);
  if (k.stream) {
    k.first_frame = named.histogram(base + ".first_frame");
    k.frame_gap = named.histogram(base + ".frame_gap");
  }
  k.sent = named.counter(base + ".sent");
  k.answered = named.counter(base + (k.stream ? ".completed" : ".answered"));
  k.errors = named.counter(base + ".errors");
  k.timeouts = named.counter(base + ".timeouts");
  k.lost = named.counter(base + (k.stream ? ".cut" : ".lost"));
  if (k.stream) k.frames = named.counter(base + ".frames");
  return k;
}

result<void> heartbeat_into(const heartbeat_spec& h, run_plan& out) {
  core::heartbeat_plan& hb = out.client.steps.heartbeat;
  auto every = duration_at(h.every, h.origin, "--heartbeat-every");
  if (!every) return every.error();
  if (*every == 0) return make_error(where(h.origin, "--heartbeat-every") + "must be above 0");
  hb.every_ns = *every;
  auto send = template_at(h.send, out, h.origin, "--heartbeat-send");
  if (!send) return send.error();
  hb.send = std::move(*send);
  if (!h.expect.empty()) {
    auto expect = proto::json_predicate::parse(h.expect);
    if (!expect) return make_error(where(h.origin, "--heartbeat-expect") + expect.error().message);
    hb.expect = std::move(*expect);
    hb.has_expect = true;
  }
  auto timeout = duration_at(h.timeout, h.origin, "--heartbeat-timeout");
  if (!timeout) return timeout.error();
  hb.timeout_ns = *timeout;
  auto& named = out.client.named;
  hb.latency = named.histogram("heartbeat");
  hb.sent = named.counter("heartbeat.sent");
  hb.answered = named.counter("heartbeat.answered");
  hb.missed = named.counter("heartbeat.missed");
  return {};
}

result<void> steps_into(const run_options& o, run_plan& out) {
  const scenario_spec& spec = o.scenario;
  core::steps_plan& steps = out.client.steps;
  for (size_t i = 0; i < spec.requests.size(); ++i) {
    auto kind = request_into(spec.requests[i], i, out);
    if (!kind) return kind.error();
    steps.requests.push_back(std::move(*kind));
  }
  if (spec.heartbeats.size() > 1)
    return make_error(where(spec.heartbeats[1].origin, "heartbeat") + "one heartbeat per run");
  if (!spec.heartbeats.empty()) {
    if (auto done = heartbeat_into(spec.heartbeats[0], out); !done) return done;
  }
  steps.listen_only = spec.listen_only;
  if (steps.listen_only && !steps.requests.empty())
    return make_error("--listen-only never sends: drop the requests, or --listen-only");
  auto& named = out.client.named;
  if (steps.listen_only) {
    steps.pushes = named.counter("push.received");
    steps.push_gap = named.histogram("push.gap");
  } else if (steps.enabled()) {
    steps.unmatched = named.counter("replies.unmatched");
  }
  if (steps.enabled()) {
    if (out.client.pubsub.enabled())
      return make_error("requests, heartbeats and --listen-only do not go with --groups yet");
    if (out.client.raw) return make_error("requests and heartbeats need WebSocket; drop --raw");
    out.client.message_rate = 0;  // the echo's schedule is the requests' now
  }
  return {};
}

// A hold with nothing sent and no pings is how one finds the path's idle
// timeout (a proxy or load balancer that drops silent sockets): each
// connection the server side ends is timed from its last sign of life.
void idle_discovery_into(run_plan& out) {
  core::client_plan& plan = out.client;
  if (plan.message_rate > 0 || plan.ping_interval_ns != 0 || plan.steps.enabled() ||
      plan.pubsub.enabled() || plan.raw)
    return;
  auto& named = plan.named;
  plan.lifecycle.idle_cut_close = named.histogram("idle_cut.close_frame");
  plan.lifecycle.idle_cut_reset = named.histogram("idle_cut.reset");
  plan.lifecycle.idle_cut_eof = named.histogram("idle_cut.fin");
  out.notes.push_back(
      "idle hold (no messages, no pings): a connection the server or the path ends is timed "
      "from its last sign of life (idle_cut.*: by close frame, RST or FIN)");
}

}  // namespace

result<void> scenario_into(const run_options& options, run_plan& out) {
  const scenario_spec& spec = options.scenario;
  if (auto done = lifecycle_into(spec.lifecycle, out); !done) return done;
  if (auto done = feeder_into(spec, out); !done) return done;
  if (auto done = setup_into(options, out); !done) return done;
  if (auto done = capture_names_into(spec, out); !done) return done;
  if (auto done = jwt_into(spec, out); !done) return done;
  if (auto done = http_steps_into(options, spec, out); !done) return done;
  if (auto done = steps_into(options, out); !done) return done;
  idle_discovery_into(out);
  return {};
}

}  // namespace horde::app

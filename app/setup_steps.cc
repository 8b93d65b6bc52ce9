#include "app/setup_steps.hh"

#include <fmt/format.h>

#include <algorithm>

#include "app/group_setup.hh"
#include "app/redact.hh"
#include "app/run_plan.hh"
#include "app/target_url.hh"
#include "app/units.hh"
#include "core/clock.hh"
#include "proto/http_request.hh"

namespace horde::app {
namespace {

// "scenario.yaml:12:5 (setup[0].url): ", or "--setup-url: " for the flags'
// step (which has no file).
std::string where(const spec_origin& origin, std::string_view field) {
  if (origin.file.empty()) {
    if (field.empty() || field == "url") return "--setup-url: ";
    return fmt::format("--setup-{}: ", field == "body" ? "template" : field);
  }
  return fmt::format("{}:{}:{} ({}{}{}): ", origin.file, origin.line, origin.column, origin.key,
                     field.empty() ? "" : ".", field);
}

result<proto::var_template> template_at(const std::string& text,
                                        const std::vector<std::string>& known,
                                        const spec_origin& origin, std::string_view field) {
  auto parsed = proto::var_template::parse(text, known);
  if (!parsed) return make_error(where(origin, field) + parsed.error().message);
  return std::move(*parsed);
}

// "http://host:port" and the path after it ("/" when none).
std::pair<std::string, std::string> split_origin(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const size_t path = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path == std::string::npos) return {url, "/"};
  return {url.substr(0, path), url.substr(path)};
}

result<void> address_into(const http_step_spec& s, setup_step_plan& step) {
  const auto [origin, path] = split_origin(s.url);
  (void)path;
  auto url = proto::parse_http_url(origin + "/");
  if (!url) return make_error(where(s.origin, "url") + url.error().message);
  if (url->tls())
    return make_error(where(s.origin, "url") +
                      "setup steps speak plain HTTP (http://): https:// is not supported yet");
  auto server = resolve(url->host, url->port);
  if (!server) return make_error(where(s.origin, "url") + server.error().message);
  step.server = *server;
  step.host = url->host_header();
  return {};
}

result<void> group_fields_into(const http_step_spec& s, const std::vector<std::string>& known,
                               setup_step_plan& step) {
  if (s.batch == 0 || s.batch > 100000)
    return make_error(where(s.origin, "batch") + "wants 1..100000 groups per request");
  step.batch = s.batch;
  std::vector<std::string> with_items = known;
  with_items.resize(step.known_before);
  with_items.push_back("items");
  auto batch = template_at(s.batch_template, with_items, s.origin, "batch-template");
  if (!batch) return batch.error();
  if (step.batch > 1 && !batch->uses("items"))
    return make_error(where(s.origin, "batch-template") + "has no {items}: the groups go nowhere");
  step.batch_body = std::move(*batch);
  if (!s.rate.empty()) {
    auto rate = parse_rate_per_second(s.rate);
    if (!rate) return make_error(where(s.origin, "rate") + rate.error().message);
    if (*rate > 0) step.interval_ns = std::max<uint64_t>(1, uint64_t(1e9 / *rate));
  }
  if (s.concurrency == 0 || s.concurrency > 1024)
    return make_error(where(s.origin, "concurrency") + "wants 1..1024 connections");
  step.workers = s.concurrency;
  return {};
}

// One step, its templates over `known` (the run-level variables so far, and
// {group} when made per group); its captures are then appended to known.
result<setup_step_plan> compile_step(const http_step_spec& s, size_t index,
                                     std::vector<std::string>& known, bool groups) {
  setup_step_plan step;
  step.name = s.name.empty() ? fmt::format("setup{}", index) : s.name;
  step.method = s.method;
  step.url = s.url;
  step.known_before = known.size();
  if (auto done = address_into(s, step); !done) return done.error();
  std::vector<std::string> names = known;
  if (s.for_each_group) {
    if (!groups)
      return make_error(where(s.origin, "for-each-group") + "creates groups: it needs --groups");
    names.push_back("group");
  }
  auto target = template_at(split_origin(s.url).second, names, s.origin, "url");
  if (!target) return target.error();
  step.target = std::move(*target);
  for (const std::string& header : s.headers) {
    auto h = template_at(header, names, s.origin, "headers");
    if (!h) return h.error();
    step.headers.push_back(std::move(*h));
  }
  auto body = template_at(s.body, names, s.origin, "body");
  if (!body) return body.error();
  step.body = std::move(*body);
  step.expect = s.expect_status;
  auto timeout = parse_duration_ns(s.timeout);
  if (!timeout || *timeout == 0)
    return make_error(where(s.origin, "timeout") + "wants a duration above 0 (e.g. 5s)");
  step.timeout_ns = *timeout;
  step.for_each_group = s.for_each_group;
  if (s.for_each_group) {
    if (!s.captures.empty())
      return make_error(where(s.origin, "capture") +
                        "a step made per group captures nothing (which group's answer?)");
    if (auto done = group_fields_into(s, known, step); !done) return done.error();
  }
  for (const capture_spec& c : s.captures) {
    if (std::find(known.begin(), known.end(), c.variable) != known.end())
      return make_error(where(c.origin, "") + "{" + c.variable + "} is already a variable");
    setup_capture capture;
    capture.index = known.size();
    capture.variable = c.variable;
    capture.from_header = !c.header.empty();
    capture.header = c.header;
    if (!capture.from_header) {
      auto pointer = proto::json_pointer::parse(c.json);
      if (!pointer) return make_error(where(c.origin, "") + pointer.error().message);
      capture.json = std::move(*pointer);
    }
    known.push_back(c.variable);
    step.captures.push_back(std::move(capture));
  }
  return step;
}

std::string excerpt(std::string_view body) {
  constexpr size_t most = 200;
  std::string out;
  for (char c : body.substr(0, most))
    out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  if (body.size() > most) out += "...";
  return out.empty() ? std::string("(empty body)") : "'" + redact_text(out) + "'";
}

// A plain step: one request, its answer judged, its captures kept.
result<setup_step_report> run_step(const setup_step_plan& step,
                                   std::vector<std::string>& run_values) {
  setup_step_report report{step.name, step.method, step.url, false, 1};
  // The URL as written (templates, not their values), and the answer's
  // start, with JWTs and secret query parameters hidden (app/redact.hh).
  const std::string named =
      fmt::format("setup step '{}' ({} {})", step.name, step.method, redact_text(step.url));
  const auto values = setup_values(step, run_values, {});
  std::string request;
  proto::var_values v;
  v.user = values;
  std::string body;
  step.body.render(body, v);
  if (auto done = render_setup_request(step, values, body, request); !done)
    return make_error(named + ": " + done.error().message);
  http_connection connection(step.server, step.host, step.timeout_ns);
  const uint64_t began = core::now_ns();
  const http_connection::answer a = connection.send(request, true);
  report.latency_ms = double(core::now_ns() - began) / 1e6;
  report.seconds = report.latency_ms / 1e3;
  if (a.error != http_error::none)
    return make_error(fmt::format("{}: no answer ({})", named, to_string(a.error)));
  const proto::http_response_parser& answer = connection.answer_parser();
  report.status = a.status;
  if (!status_expected(step.expect, a.status))
    return make_error(
        fmt::format("{}: answered {}, expected {}: {}", named, a.status,
                    step.expect.empty() ? "2xx" : fmt::format("{}", fmt::join(step.expect, " or ")),
                    excerpt(answer.body())));
  proto::json_reader reader;
  for (const setup_capture& c : step.captures) {
    std::optional<std::string_view> value;
    if (c.from_header) {
      value = answer.header(c.header);
    } else {
      const proto::json_scalar s = reader.get(answer.body(), c.json);
      if (s.kind == proto::json_value_kind::string || s.kind == proto::json_value_kind::number ||
          s.kind == proto::json_value_kind::boolean)
        value = s.text;
    }
    if (!value)
      return make_error(fmt::format("{}: answered {} without {} to capture into {{{}}}: {}", named,
                                    a.status,
                                    c.from_header ? "header " + c.header : "a value at the pointer",
                                    c.variable, excerpt(answer.body())));
    run_values[c.index] = std::string(*value);
  }
  return report;
}

}  // namespace

bool status_expected(const std::vector<int>& expect, int status) noexcept {
  if (expect.empty()) return status >= 200 && status < 300;
  return std::find(expect.begin(), expect.end(), status) != expect.end();
}

std::vector<std::string_view> setup_values(const setup_step_plan& step,
                                           const std::vector<std::string>& run_values,
                                           std::string_view last) {
  std::vector<std::string_view> values(run_values.begin(),
                                       run_values.begin() + ptrdiff_t(step.known_before));
  if (step.for_each_group) values.push_back(last);
  return values;
}

result<void> render_setup_request(const setup_step_plan& step,
                                  std::span<const std::string_view> values, std::string_view body,
                                  std::string& out) {
  proto::var_values v;
  v.user = values;
  std::string target;
  step.target.render(target, v);
  std::vector<std::string> headers(step.headers.size());
  std::vector<std::string_view> views;
  for (size_t i = 0; i < headers.size(); ++i) {
    step.headers[i].render(headers[i], v);
    views.push_back(headers[i]);
  }
  proto::http_request_spec spec;
  spec.method = step.method;
  spec.target = target;
  spec.host = step.host;
  spec.headers = views;
  spec.body = body;
  return proto::build_http_request(spec, out);
}

result<void> setup_into(const run_options& o, run_plan& out) {
  std::vector<http_step_spec> specs = o.scenario.setup_steps;
  if (o.group_setup.enabled()) specs.push_back(setup_url_step(o.group_setup));
  if (specs.empty()) return {};
  core::vars_plan& vars = out.client.vars;
  std::vector<std::string> known;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto step = compile_step(specs[i], i, known, out.client.pubsub.enabled());
    if (!step) return step.error();
    out.setup.push_back(std::move(*step));
  }
  for (const std::string& name : known) {
    if (std::find(vars.names.begin(), vars.names.end(), name) != vars.names.end())
      return make_error("setup: {" + name + "} is both a feeder column and a setup capture");
  }
  vars.names.insert(vars.names.begin() + ptrdiff_t(vars.feeder_columns()), known.begin(),
                    known.end());
  vars.run_count = known.size();
  vars.run_values.assign(known.size(), std::string());
  out.notes.push_back(fmt::format(
      "setup: {} step(s) once before any connection{}", out.setup.size(),
      known.empty() ? std::string() : fmt::format(", capturing {{{}}}", fmt::join(known, "}, {"))));
  return {};
}

result<std::vector<setup_step_report>> run_setup_steps(
    run_plan& plan, std::unique_ptr<group_setup_result>& groups) {
  std::vector<setup_step_report> reports;
  std::vector<std::string>& values = plan.client.vars.run_values;
  for (const setup_step_plan& step : plan.setup) {
    if (!step.for_each_group) {
      auto report = run_step(step, values);
      if (!report) return report.error();
      reports.push_back(std::move(*report));
      continue;
    }
    group_setup_result made =
        run_group_setup(step, values, plan.client.pubsub, plan.pubsub_shared->not_created);
    setup_step_report report{step.name, step.method, step.url, true, made.requests};
    report.seconds = made.seconds;
    report.failed = made.groups_failed;
    reports.push_back(std::move(report));
    if (!groups) groups = std::make_unique<group_setup_result>();
    const double seconds = groups->seconds + made.seconds;
    groups->add(made);
    groups->seconds = seconds;
  }
  return reports;
}

}  // namespace horde::app

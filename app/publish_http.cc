#include "app/publish_http.hh"

#include <fmt/format.h>

#include <charconv>

#include "app/redact.hh"
#include "app/units.hh"
#include "proto/http_request.hh"

namespace horde::app {
namespace {

// "200,202" -> {200, 202}; each a status 100..599.
result<std::vector<int>> parse_expect(const std::string& text) {
  std::vector<int> out;
  size_t start = 0;
  while (!text.empty() && start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = std::string_view(text).substr(start, comma - start);
    int status = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), status);
    if (ec != std::errc() || end != item.data() + item.size() || status < 100 || status > 599)
      return make_error(
          fmt::format("--publish-http-expect: '{}' is not a status 100-599 (e.g. 200,202)", item));
    out.push_back(status);
    start = comma + 1;
  }
  return out;
}

// "[METHOD ]URL" -> (method, URL); POST when the method is left out.
std::pair<std::string, std::string> split_method(const std::string& text) {
  const size_t space = text.find(' ');
  if (space == std::string::npos) return {"POST", text};
  std::string url = text.substr(space + 1);
  url.erase(0, url.find_first_not_of(' '));
  return {text.substr(0, space), url};
}

// {group}, {payload}, then the run-level variables (a scenario's setup
// captures, core::vars_plan), in the order render_http_publish fills them.
std::vector<std::string_view> publish_holes(const core::vars_plan& vars) {
  std::vector<std::string_view> holes{"group", "payload"};
  for (size_t i = 0; i < vars.run_count; ++i)
    holes.push_back(vars.names[vars.feeder_columns() + i]);
  return holes;
}

result<void> templates_into(const pubsub_options& o, const std::vector<std::string_view>& holes,
                            core::http_publish_plan& plan) {
  auto body = parse_template_flag("--publish-http-body", o.publish_http_body, holes, "payload",
                                  "deliveries are found by the payload's stamp");
  if (!body) return make_error(body.error().message);
  plan.body = std::move(*body);
  for (const std::string& header : o.publish_http_headers) {
    const size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0)
      return make_error("--publish-http-header '" + header + "': expected 'Name: value'");
    auto h = proto::message_template::parse(header, holes);
    if (!h) return make_error("--publish-http-header: " + h.error().message);
    plan.headers.push_back(std::move(*h));
  }
  auto expect = parse_expect(o.publish_http_expect);
  if (!expect) return make_error(expect.error().message);
  plan.expect = std::move(*expect);
  auto timeout = parse_duration_ns(o.publish_http_timeout);
  if (!timeout) return make_error("--publish-http-timeout: " + timeout.error().message);
  if (*timeout == 0) return make_error("--publish-http-timeout must be more than 0");
  plan.timeout_ns = *timeout;
  return {};
}

void declare_metrics(core::named_metrics& named, core::http_publish_plan& plan) {
  plan.latency = named.histogram("publish_http");
  plan.sent = named.counter("publish_http.sent");
  plan.ok = named.counter("publish_http.ok");
  plan.refused = named.counter("publish_http.refused");
  plan.broken = named.counter("publish_http.no_answer");
  plan.timeouts = named.counter("publish_http.timeouts");
  plan.reconnects = named.counter("publish_http.reconnects");
  plan.status_class = named.counter("publish_http.1xx");
  for (const char* status_class : {".2xx", ".3xx", ".4xx", ".5xx"})
    named.counter(std::string("publish_http") + status_class);
}

// One --publish-http: its origin becomes the last client target.
result<void> origin_into(const run_options& o, const std::string& text,
                         const std::vector<std::string_view>& holes, run_plan& out) {
  core::http_publish_plan& plan = out.client.pubsub.http;
  const auto [method, url_text] = split_method(text);
  if (method.empty() || method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
    return make_error("--publish-http: '" + method + "' is not a method (e.g. POST, PUT)");
  const size_t scheme_end = url_text.find("://");
  const size_t path_at = url_text.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  const std::string origin = url_text.substr(0, path_at);
  const std::string path = path_at == std::string::npos ? "/" : url_text.substr(path_at);
  auto url = proto::parse_http_url(origin + "/");
  if (!url) return make_error("--publish-http: " + url.error().message);
  // One transport per shard: the publishers use the WebSocket's (TLS or not).
  if (url->tls() != out.url.secure)
    return make_error(fmt::format("--publish-http: {} with a {} target: use {}", url->scheme,
                                  out.url.secure ? "wss://" : "ws://",
                                  out.url.secure ? "https://" : "http://"));
  auto path_template = proto::message_template::parse(path, holes);
  if (!path_template) return make_error("--publish-http: " + path_template.error().message);
  core::http_publish_origin& to = plan.origins.emplace_back();
  to.path = std::move(*path_template);
  to.method = method;
  to.host = url->host_header();
  auto address = resolve(url->host, url->port);
  if (!address) return make_error("--publish-http: " + address.error().message);
  core::client_target target;
  target.address = *address;
  target.http_publish = true;
  target.tls_host = o.tls.sni.empty() ? url->host : o.tls.sni;
  if (address->family() == AF_INET) out.client.excluded_ports.push_back(url->port);
  to.target = uint8_t(out.client.targets.size());
  out.client.targets.push_back(std::move(target));
  out.notes.push_back(
      fmt::format("publish over HTTP{}: {} {}",
                  o.pubsub.publish_http.size() > 1
                      ? fmt::format(" #{} (publishers p with p mod {} = {})", plan.origins.size(),
                                    o.pubsub.publish_http.size(), plan.origins.size() - 1)
                      : std::string(),
                  method, o.show_secrets ? url_text : redact_text(url_text)));
  return {};
}

// Several origins: each its own lines, "publish_http#1.sent", ...
void declare_origin_metrics(core::named_metrics& named, core::http_publish_plan& plan) {
  if (plan.origins.size() < 2) return;
  for (size_t i = 0; i < plan.origins.size(); ++i) {
    core::http_publish_origin& to = plan.origins[i];
    const std::string name = fmt::format("publish_http#{}", i + 1);
    to.latency = named.histogram(name);
    to.sent = named.counter(name + ".sent");
    to.ok = named.counter(name + ".ok");
    to.refused = named.counter(name + ".refused");
    to.broken = named.counter(name + ".no_answer");
  }
}

}  // namespace

result<void> publish_http_into(const run_options& o, run_plan& out) {
  if (o.pubsub.publish_http.empty()) return {};
  if (out.embedded)
    return make_error(
        "--publish-http needs the server's URL (the embedded server listens on a port chosen at "
        "start: run `horde serve` and give both URLs)");
  if (o.pubsub.publish_http.size() > 64) return make_error("--publish-http: at most 64 origins");
  const std::vector<std::string_view> holes = publish_holes(out.client.vars);
  for (const std::string& text : o.pubsub.publish_http) {
    if (auto done = origin_into(o, text, holes, out); !done) return done;
  }
  core::http_publish_plan& plan = out.client.pubsub.http;
  if (plan.origins.size() > out.client.pubsub.layout.publishers)
    return make_error(fmt::format(
        "--publish-http: {} origins for {} publishers: some origins would get no publisher "
        "(raise --publishers)",
        plan.origins.size(), out.client.pubsub.layout.publishers));
  if (auto done = templates_into(o.pubsub, holes, plan); !done) return done;
  declare_metrics(out.client.named, plan);
  declare_origin_metrics(out.client.named, plan);
  out.notes.push_back(fmt::format(
      "publish over HTTP: {} publisher connection(s) beyond -c, one request in flight each",
      out.client.pubsub.layout.publishers));
  return {};
}

}  // namespace horde::app

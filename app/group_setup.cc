#include "app/group_setup.hh"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "app/pubsub_options.hh"
#include "app/target_url.hh"
#include "app/units.hh"
#include "core/clock.hh"
#include "proto/message_template.hh"

namespace horde::app {

void group_setup_result::add(const group_setup_result& o) {
  requests += o.requests;
  groups_created += o.groups_created;
  groups_failed += o.groups_failed;
  for (const auto& [status, n] : o.statuses)
    statuses[status] += n;
  for (size_t i = 0; i < errors.size(); ++i)
    errors[i] += o.errors[i];
  latency.add(o.latency);
}

namespace {

struct setup_plan {
  target_url url;
  core::endpoint server;
  proto::message_template body;   // {group}
  proto::message_template batch;  // {items}
  uint64_t per_request = 1;
  uint64_t interval_ns = 0;  // between request starts, all workers; 0 = unlimited
  uint64_t timeout_ns = 0;
  unsigned workers = 1;
};

result<setup_plan> make_setup_plan(const group_setup_options& o) {
  setup_plan p;
  auto url = parse_http_url(o.url);
  if (!url) return make_error("--setup-url: " + url.error().message);
  p.url = *url;
  auto server = resolve(p.url.host, p.url.port);
  if (!server) return make_error("--setup-url: " + server.error().message);
  p.server = *server;
  auto body = parse_template_flag("--setup-template", o.body_template, {"group"}, "group");
  if (!body) return make_error(body.error().message);
  p.body = std::move(*body);
  auto batch = parse_template_flag("--setup-batch-template", o.batch_template, {"items"}, "items");
  if (!batch) return make_error(batch.error().message);
  p.batch = std::move(*batch);
  if (o.batch == 0 || o.batch > 100000) return make_error("--setup-batch wants 1..100000");
  p.per_request = o.batch;
  if (!o.rate.empty()) {
    auto rate = parse_rate_per_second(o.rate);
    if (!rate) return make_error("--setup-rate: " + rate.error().message);
    if (*rate > 0) p.interval_ns = std::max<uint64_t>(1, uint64_t(1e9 / *rate));
  }
  auto timeout = parse_duration_ns(o.timeout);
  if (!timeout || *timeout == 0) return make_error("--setup-timeout wants a duration above 0");
  p.timeout_ns = *timeout;
  if (o.concurrency == 0 || o.concurrency > 1024) {
    return make_error("--setup-concurrency wants 1..1024");
  }
  p.workers = o.concurrency;
  return p;
}

// The request body for groups [first, last).
void build_body(const setup_plan& p, const core::pubsub_plan& plan, uint64_t first, uint64_t last,
                std::string& out, std::string& items, std::string& name) {
  items.clear();
  for (uint64_t g = first; g < last; ++g) {
    if (g != first) items.push_back(',');
    name.clear();
    plan.names.append_name(name, g);
    p.body.expand(items, {name});
  }
  out.clear();
  if (p.per_request == 1) {
    out.swap(items);
  } else {
    p.batch.expand(out, {items});
  }
}

void run_worker(const setup_plan& p, const core::pubsub_plan& plan, std::atomic<uint64_t>& next,
                uint64_t start_ns, std::vector<uint8_t>& not_created, group_setup_result& out) {
  const uint64_t groups = plan.layout.groups;
  const uint64_t requests = (groups + p.per_request - 1) / p.per_request;
  const std::string host = p.url.host + ":" + std::to_string(p.url.port);
  http_connection connection(p.server, host, p.timeout_ns);
  std::string body, items, name;
  for (;;) {
    const uint64_t r = next.fetch_add(1, std::memory_order_relaxed);
    if (r >= requests) return;
    if (p.interval_ns != 0) {
      const uint64_t due = start_ns + r * p.interval_ns;
      const uint64_t now = core::now_ns();
      if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
    }
    const uint64_t first = r * p.per_request, last = std::min(groups, first + p.per_request);
    build_body(p, plan, first, last, body, items, name);
    const uint64_t began = core::now_ns();
    const http_connection::answer a = connection.post(p.url.path_and_query, body);
    ++out.requests;
    const bool created = a.error == http_error::none && a.status >= 200 && a.status < 300;
    if (a.error == http_error::none) {
      out.latency.record(core::now_ns() - began);
      ++out.statuses[a.status];
    } else {
      ++out.errors[size_t(a.error)];
    }
    if (created) {
      out.groups_created += last - first;
    } else {
      out.groups_failed += last - first;
      // Each group belongs to one request, so workers write distinct bytes.
      std::fill(not_created.begin() + first, not_created.begin() + last, uint8_t(1));
    }
  }
}

}  // namespace

result<group_setup_result> run_group_setup(const group_setup_options& options,
                                           const core::pubsub_plan& plan,
                                           std::vector<uint8_t>& not_created) {
  auto p = make_setup_plan(options);
  if (!p) return make_error(p.error().message);
  not_created.assign(plan.layout.groups, 0);
  const uint64_t requests = (plan.layout.groups + p->per_request - 1) / p->per_request;
  const unsigned workers =
      unsigned(std::min<uint64_t>(p->workers, std::max<uint64_t>(requests, 1)));
  // Histograms are large: each worker's lives on the heap.
  std::vector<std::unique_ptr<group_setup_result>> results;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> next{0};
  const uint64_t start = core::now_ns();
  for (unsigned w = 0; w < workers; ++w) {
    results.push_back(std::make_unique<group_setup_result>());
    threads.emplace_back(run_worker, std::cref(*p), std::cref(plan), std::ref(next), start,
                         std::ref(not_created), std::ref(*results.back()));
  }
  for (auto& t : threads)
    t.join();
  group_setup_result total;
  for (const auto& r : results)
    total.add(*r);
  total.seconds = double(core::now_ns() - start) / 1e9;
  return total;
}

}  // namespace horde::app

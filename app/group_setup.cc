#include "app/group_setup.hh"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "app/scenario_spec.hh"
#include "app/setup_steps.hh"
#include "core/clock.hh"

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

http_step_spec setup_url_step(const group_setup_options& o) {
  http_step_spec step;
  step.name = "groups";
  step.method = "POST";
  step.url = o.url;
  step.headers = {"Content-Type: application/json"};
  step.body = o.body_template;
  step.timeout = o.timeout;
  step.for_each_group = true;
  step.batch = o.batch;
  step.batch_template = o.batch_template;
  step.rate = o.rate;
  step.concurrency = o.concurrency;
  step.origin.key = "setup-url";  // no file: errors name the flags
  return step;
}

namespace {

// The request for groups [first, last): the body per group (joined into the
// batch template when batching); the target and headers see the first group.
result<void> build_request(const setup_step_plan& step, const std::vector<std::string>& run_values,
                           const core::pubsub_plan& plan, uint64_t first, uint64_t last,
                           std::string& out) {
  std::string items, name, first_name;
  for (uint64_t g = first; g < last; ++g) {
    if (g != first) items.push_back(',');
    name.clear();
    plan.names.append_name(name, g);
    if (g == first) first_name = name;
    const auto values = setup_values(step, run_values, name);
    proto::var_values v;
    v.user = values;
    step.body.render(items, v);
  }
  std::string body;
  if (step.batch == 1) {
    body.swap(items);
  } else {
    const auto values = setup_values(step, run_values, items);
    proto::var_values v;
    v.user = values;
    step.batch_body.render(body, v);
  }
  return render_setup_request(step, setup_values(step, run_values, first_name), body, out);
}

void run_worker(const setup_step_plan& step, const std::vector<std::string>& run_values,
                const core::pubsub_plan& plan, std::atomic<uint64_t>& next, uint64_t start_ns,
                std::vector<uint8_t>& not_created, group_setup_result& out) {
  const uint64_t groups = plan.layout.groups;
  const uint64_t requests = (groups + step.batch - 1) / step.batch;
  http_connection connection(step.server, step.host, step.timeout_ns);
  std::string request;
  for (;;) {
    const uint64_t r = next.fetch_add(1, std::memory_order_relaxed);
    if (r >= requests) return;
    if (step.interval_ns != 0) {
      const uint64_t due = start_ns + r * step.interval_ns;
      const uint64_t now = core::now_ns();
      if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
    }
    const uint64_t first = r * step.batch, last = std::min(groups, first + step.batch);
    const uint64_t began = core::now_ns();
    http_connection::answer a;
    if (build_request(step, run_values, plan, first, last, request)) {
      a = connection.send(request, false);
    } else {
      a.error = http_error::malformed;  // a value that cannot go in a request
    }
    ++out.requests;
    const bool created = a.error == http_error::none && status_expected(step.expect, a.status);
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

group_setup_result run_group_setup(const setup_step_plan& step,
                                   const std::vector<std::string>& run_values,
                                   const core::pubsub_plan& plan,
                                   std::vector<uint8_t>& not_created) {
  not_created.resize(plan.layout.groups, 0);
  const uint64_t requests = (plan.layout.groups + step.batch - 1) / step.batch;
  const unsigned workers =
      unsigned(std::min<uint64_t>(step.workers, std::max<uint64_t>(requests, 1)));
  // Histograms are large: each worker's lives on the heap.
  std::vector<std::unique_ptr<group_setup_result>> results;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> next{0};
  const uint64_t start = core::now_ns();
  for (unsigned w = 0; w < workers; ++w) {
    results.push_back(std::make_unique<group_setup_result>());
    threads.emplace_back(run_worker, std::cref(step), std::cref(run_values), std::cref(plan),
                         std::ref(next), start, std::ref(not_created), std::ref(*results.back()));
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

// Groups created by REST calls before any subscription (`horde run
// --setup-url`, or a `setup:` step with for-each-group; docs/pubsub.md), for servers where a group
// must exist before anyone joins it. Blocking worker threads, each with one keep-alive connection,
// POST one group (or a batch) per request at a bounded rate; a group whose request failed is marked
// so the run never subscribes to it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/http_client.hh"
#include "base/result.hh"
#include "core/histogram.hh"
#include "core/plan.hh"

namespace horde::app {

struct group_setup_options {
  std::string url;  // http://host:port/path; empty: no setup
  std::string body_template = R"({"name":"{group}"})";
  std::string batch_template = "[{items}]";  // --setup-batch > 1: {items} = bodies joined by ','
  unsigned batch = 1;                        // groups per request
  std::string rate;                          // requests per second; empty: unlimited
  unsigned concurrency = 4;                  // connections (threads) at once
  std::string timeout = "5s";                // per request, connect included

  bool enabled() const noexcept { return !url.empty(); }
};

struct group_setup_result {
  uint64_t requests = 0;
  uint64_t groups_created = 0;       // answered 2xx
  uint64_t groups_failed = 0;        // any other status, or no answer
  std::map<int, uint64_t> statuses;  // HTTP status -> requests
  std::array<uint64_t, 6> errors{};  // by http_error: requests with no answer
  core::histogram latency;           // request sent -> answer complete
  double seconds = 0;

  void add(const group_setup_result& other);
};

struct http_step_spec;
struct setup_step_plan;

// --setup-url and its flags as the one run-level setup step they stand for
// (for-each-group, POST, Content-Type: application/json).
http_step_spec setup_url_step(const group_setup_options& options);

// Makes `step` for every group of `plan`; not_created (sized to the groups)
// gets 1 for each group whose creation failed. run_values: the run-level
// variables' values.
group_setup_result run_group_setup(const setup_step_plan& step,
                                   const std::vector<std::string>& run_values,
                                   const core::pubsub_plan& plan,
                                   std::vector<uint8_t>& not_created);

}  // namespace horde::app

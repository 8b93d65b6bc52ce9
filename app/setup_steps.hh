// Run-level setup steps (a scenario's `setup:`, docs/scenarios.md): HTTP
// requests made once, in order, before any connection opens — log in as an
// admin, create a room — whose captures become run-level variables every
// later template may use ({admin_token} in a header, {room_id} in the URL).
// A step with for_each_group is made once per pub/sub group with {group}
// (app/group_setup.hh); `--setup-url` and its flags are one such step.
//
// Compiled with the plan (every template checked against the variables
// defined before it, with the file's place), run by blocking keep-alive
// connections (app/http_client.hh) before the shards start. A plain step
// that fails stops the run: exit 3, naming the step, the status and the
// start of the answer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hh"
#include "core/plan.hh"
#include "proto/json_fields.hh"
#include "proto/var_template.hh"

namespace horde::app {

struct run_options;
struct run_plan;
struct group_setup_result;

// A value a setup step keeps from its answer: run-level variable `index`.
struct setup_capture {
  size_t index = 0;
  std::string variable;
  bool from_header = false;
  std::string header;
  proto::json_pointer json;
};

struct setup_step_plan {
  std::string name;
  std::string method;
  std::string url;  // as written, for messages
  core::endpoint server;
  std::string host;  // the Host header
  // Templates over the run-level variables defined before this step
  // (known_before of them), then {group} for a step made per group.
  size_t known_before = 0;
  proto::var_template target;  // path and query
  std::vector<proto::var_template> headers;
  proto::var_template body;
  std::vector<int> expect;  // empty: any 2xx
  std::vector<setup_capture> captures;
  uint64_t timeout_ns = 10'000'000'000;
  // Made once per group: `batch` groups per request (the body then the
  // batch template, {items} = the groups' bodies joined by ','), by
  // `workers` connections, request starts interval_ns apart (0: no limit).
  bool for_each_group = false;
  proto::var_template batch_body;
  uint64_t batch = 1;
  uint64_t interval_ns = 0;
  unsigned workers = 4;
};

// What the report says of a step.
struct setup_step_report {
  std::string name;
  std::string method, url;
  bool for_each_group = false;
  uint64_t requests = 0;
  int status = 0;         // a plain step's answer
  double latency_ms = 0;  // a plain step's request, sent -> answer complete
  double seconds = 0;     // the whole step
  uint64_t failed = 0;    // a per-group step's requests not answered as expected
};

// The setup steps of options (the file's `setup:`, then --setup-url's) into
// out.setup; their captures become run-level variables (after the feeder's
// columns in out.client.vars). A mistake names its place.
result<void> setup_into(const run_options& options, run_plan& out);

// Runs out.setup in order, filling out.client.vars.run_values and, for
// per-group steps, the groups not created (and `groups`, their totals).
// An error (a plain step failed) stops the run.
result<std::vector<setup_step_report>> run_setup_steps(run_plan& plan,
                                                       std::unique_ptr<group_setup_result>& groups);

// Whether a step's answer is the one it expects (any 2xx when none listed).
bool status_expected(const std::vector<int>& expect, int status) noexcept;

// The values of a step's templates: the run-level variables it may use,
// then `last` (its group, or the batch's items) when given.
std::vector<std::string_view> setup_values(const setup_step_plan& step,
                                           const std::vector<std::string>& run_values,
                                           std::string_view last);

// Renders a step's request (method, target, Host, headers, body,
// keep-alive); an error when a value cannot go in a request (a line break).
result<void> render_setup_request(const setup_step_plan& step,
                                  std::span<const std::string_view> values, std::string_view body,
                                  std::string& out);

}  // namespace horde::app

// `horde run --groups ...`: the pub/sub flags as typed, and the plan they
// make (docs/pubsub.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/message_rate.hh"
#include "base/result.hh"
#include "core/plan.hh"

namespace horde::app {

struct pubsub_options {
  std::string groups;  // empty or 0: no pub/sub
  unsigned per_connection = 1;
  double zipf = 0;         // 0: uniform popularity; else the Zipf exponent
  std::string publishers;  // a count or a percentage of the connections
  std::string group_pattern = "g{n}";
  std::string subscribe_template = "sub {group}";
  std::string subscribe_ack = "ok sub {group}";
  std::string publish_template = "pub {group} {payload}";
  std::string subscribe_timeout = "10s";
  std::string settle = "1s";
  bool publish_binary = false;
  std::string churn;  // leave-and-rejoin operations per second, all connections; empty: none
  std::string unsubscribe_template = "unsub {group}";
  std::string unsubscribe_ack = "ok unsub {group}";
  // --publish-http (app/publish_http.hh): "[METHOD] http(s)://host:port/path"
  // with {group}; empty: publishes go over the WebSocket.
  std::vector<std::string> publish_http;  // several: publishers take them in turn
  std::string publish_http_body = "{payload}";
  std::vector<std::string> publish_http_headers;
  std::string publish_http_expect;  // e.g. "200,202"; empty: any 2xx
  std::string publish_http_timeout = "10s";

  bool enabled() const noexcept { return !groups.empty() && groups != "0"; }
};

struct pubsub_setup {
  core::pubsub_plan plan;
  std::unique_ptr<core::pubsub_shared> shared;  // plan.shared points here
};

// A template flag: parsed with the holes it may have, and refused (naming the
// flag) unless it has `required`; `why` ends that message when not empty.
result<proto::message_template> parse_template_flag(std::string_view flag, const std::string& text,
                                                    const std::vector<std::string_view>& holes,
                                                    std::string_view required,
                                                    std::string_view why = {});

// connections: the run's; rate: --rate / --total-rate, which in a pub/sub
// run are publish rates (per publishing connection, or over all publishers).
result<pubsub_setup> make_pubsub_plan(const pubsub_options& options, uint64_t connections,
                                      const message_rate& rate, uint64_t payload_size);

}  // namespace horde::app

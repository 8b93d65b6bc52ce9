// What a connection does, as the user wrote it (a scenario file's blocks, or
// the flags that stand for them): text still to be checked and compiled by
// build_run_plan. Durations, rates and sizes keep the flags' notation ("30s",
// "10/s", "4KiB"); templates keep their {variables}. The one-liner CLI fills
// only a few of these; a scenario file (app/scenario_file.hh) can fill all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace horde::app {

// Where a value came from, for errors: "scenario.yaml:12:5 (http[0].url)".
struct spec_origin {
  std::string file;  // empty: a command-line flag
  int line = 0;      // 1-based; 0 unknown
  int column = 0;
  std::string key;  // the key path, e.g. "requests[1].send"
};

// A CSV feeder: its header names the variables, one row per connection.
struct feeder_spec {
  std::string file;
  std::string mode = "cycle";  // cycle (connection i takes row i % rows) | once (more
                               // connections than rows is an error) | random
  spec_origin origin;
};

// A JSON field of an HTTP answer, or a response header, kept as a variable.
struct capture_spec {
  std::string variable;
  std::string json;    // a JSON pointer into the body ("/token"); or
  std::string header;  // a response header's name
  spec_origin origin;
};

// One HTTP/1.1 request before the WebSocket opens (per connection), or once
// for the whole run (run-level setup).
struct http_step_spec {
  std::string name;  // names its histogram and errors; default "http<index>"
  std::string method = "POST";
  std::string url;                   // http:// or https://, a template
  std::vector<std::string> headers;  // "Name: value" templates
  std::string body;                  // a template
  std::vector<int> expect_status;    // empty: any 2xx
  std::vector<capture_spec> captures;
  std::string timeout = "10s";
  spec_origin origin;
  // Run-level setup steps only: the step is made once per group, with
  // {group} (what --setup-url does), by `concurrency` connections at most
  // `rate` requests per second; `batch` groups per request, the body then
  // `batch_template` with {items} = the groups' bodies joined by ','.
  bool for_each_group = false;
  uint32_t batch = 1;
  std::string batch_template = "[{items}]";
  std::string rate;  // empty: unlimited
  uint32_t concurrency = 4;
};

struct jwt_claim_spec {
  std::string name;
  std::string value;  // a template; an integer result is a JSON number
};

// A token minted locally per connection into {jwt} (HS256 with a secret, or
// RS256/ES256 with a private key file).
struct jwt_spec {
  std::string algorithm = "HS256";
  std::string secret;    // HS256
  std::string key_file;  // RS256, ES256: a PEM private key
  std::vector<jwt_claim_spec> claims;
  spec_origin origin;
};

// A message sent on a schedule and the reply (or replies) it expects.
struct request_spec {
  std::string name;                   // names its histogram; default "request<index>"
  std::string send;                   // a template; {seq} is the request's number on its connection
  std::string format = "text";        // text | binary (send is then hex:..., base64:... or a file:)
  std::string rate;                   // per connection ("10/s"); empty: the run's --rate
  std::string match = "/id";          // the reply field equal to the value...
  std::string match_value = "{seq}";  // ...rendered from this template for each request
  std::string error;                  // a reply field that marks an error reply ("/error/code")
  std::string timeout = "10s";
  // A stream: replies until one matches `end` (a predicate, '/type == "done"')
  // or `count` frames arrived.
  bool stream = false;
  std::string end;
  uint32_t count = 0;
  spec_origin origin;
};

// An application heartbeat: `send` every `every`, a reply matching `expect`
// within `timeout`, misses counted.
struct heartbeat_spec {
  std::string every;
  std::string send;
  std::string expect;  // a JSON predicate; empty: any message counts as the reply
  std::string timeout = "5s";
  spec_origin origin;
};

// Connections that end on their own, and come back.
struct lifecycle_spec {
  std::string lifetime;         // close after this ("60s"); empty: live for the run
  std::string lifetime_jitter;  // +/- uniformly
  bool reconnect = false;
  std::string backoff_base = "100ms";
  std::string backoff_cap = "10s";
  uint32_t max_attempts = 0;         // 0 = no limit
  std::string chaos_rate;            // connections dropped per second, all shards
  std::string chaos_mode = "reset";  // reset (RST) | close (a clean 1001)
  spec_origin origin;
};

struct scenario_spec {
  std::string source_file;  // the scenario file, for errors; empty with the CLI only
  std::vector<feeder_spec> feeders;
  std::vector<http_step_spec> setup_steps;  // once, before any connection, in order
  std::vector<http_step_spec> http_steps;   // per connection, in order
  std::vector<jwt_spec> jwt;                // at most one
  std::vector<request_spec> requests;
  std::vector<heartbeat_spec> heartbeats;  // at most one
  bool listen_only = false;                // never send; count and time server pushes
  lifecycle_spec lifecycle;

  bool empty() const noexcept {
    return feeders.empty() && setup_steps.empty() && http_steps.empty() && jwt.empty() &&
           requests.empty() && heartbeats.empty() && !listen_only && lifecycle.lifetime.empty() &&
           !lifecycle.reconnect && lifecycle.chaos_rate.empty();
  }
};

}  // namespace horde::app

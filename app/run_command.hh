// `horde run`: flags -> plan -> engine -> live progress -> summary and JSON.
#pragma once

#include <string>
#include <vector>

#include "app/group_setup.hh"
#include "app/pubsub_options.hh"
#include "app/tls_flags.hh"

namespace horde::app {

// Flags as typed; parsed and checked by run_load().
struct run_options {
  std::string url;  // empty: start the embedded reference server on loopback
  std::string connections = "1000";
  std::string connect_rate = "20000/s";
  std::string max_pending = "4096";
  std::string duration = "10s";
  std::string rate = "1/s";  // messages per second per connection; 0 = none
  std::string total_rate;    // messages per second over all connections
  bool poisson = false;
  std::string size = "64";
  bool text = false;
  std::string ping_interval = "0";
  std::string connect_timeout = "10s";
  std::string upgrade_timeout = "10s";
  std::string pong_timeout = "10s";
  std::string drain = "2s";
  std::string close_timeout = "3s";     // per close handshake at the end; deadlines follow from it
  std::string send_backlog;             // empty: max(1 MiB, 8 messages)
  std::string wake_interval = "100us";  // timers wake a shard at most this often
  std::vector<std::string> headers;
  std::vector<std::string> subprotocols;
  std::string origin;
  std::string source_ips;
  std::string ports = "1025-65535";
  std::string cpus;
  unsigned shards = 0;
  int leave_for_target = -1;  // CPUs kept free for a target on this host; -1: decide

  std::string json_path;
  bool quiet = false;
  bool force = false;
  bool raw = false;           // plain TCP: the engine's ceiling without WebSocket
  bool show_secrets = false;  // print Authorization/Cookie values and JWTs as given
  pubsub_options pubsub;
  tls_flags tls;  // wss:// only
  group_setup_options group_setup;
};

// Returns the process exit code.
int run_load(const run_options& options);

struct serve_options {
  std::string listen = "127.0.0.1:9000";
  std::string cpus;
  unsigned shards = 0;
  std::string max_connections = "100000";
  std::string duration;          // empty: until SIGINT/SIGTERM
  bool raw = false;              // echo raw TCP bytes instead of WebSocket
  unsigned drop_every = 0;       // testing loss accounting: drop every Nth delivery
  unsigned duplicate_every = 0;  // ... or send it twice
  std::string tls_cert;          // terminate TLS: wss:// clients (PEM chain)
  std::string tls_key;           // its key ("" : in tls_cert)
};

int serve(const serve_options& options);

}  // namespace horde::app

// `horde serve`: the reference server (echo and pub/sub broker) on its own,
// until SIGINT/SIGTERM or --duration; its totals on stdout at the end.
#pragma once

#include <string>

namespace horde::app {

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

// Returns the process exit code: 0, 1 when a shard failed, 2 for bad flags.
int serve(const serve_options& options);

}  // namespace horde::app

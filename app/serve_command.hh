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
  std::string duration;             // empty: until SIGINT/SIGTERM
  bool raw = false;                 // echo raw TCP bytes instead of WebSocket
  unsigned drop_every = 0;          // testing loss accounting: drop every Nth delivery
  unsigned duplicate_every = 0;     // ... or send it twice
  std::string tls_cert;             // terminate TLS: wss:// clients (PEM chain)
  std::string tls_key;              // its key ("" : in tls_cert)
  std::string sessions;             // the HS256 secret of the session service ("" : off)
  std::string drop_at;              // mass drop this long after the first accept ("" : never)
  double drop_fraction = 0.5;       // ... of every shard's open connections
  std::string drop_mode = "close";  // close (1001) or reset (RST)
  // permessage-deflate for clients that offer it (docs/compression.md).
  std::string compression = "off";              // off | accept
  unsigned compression_window_bits = 0;         // 9..15 both ways; 0: 15, the client's choice
  std::string compression_no_context_takeover;  // server | client | both; empty: keep contexts
};

// Returns the process exit code: 0, 1 when a shard failed, 2 for bad flags.
int serve(const serve_options& options);

}  // namespace horde::app

// wss:// and `horde serve --tls-cert`: the TLS flags as typed, and what they
// put into a client or server plan. Each is checked once here, on the cold
// path, by building the context a shard will build, so a missing CA file or
// a key that does not match its certificate stops the run before it starts
// (with OpenSSL's reason) instead of failing every shard.
#pragma once

#include <string>

#include "base/result.hh"
#include "core/plan.hh"

namespace horde::app {

struct tls_flags {
  std::string ca_file;    // --ca: trust these CAs instead of the system store
  bool insecure = false;  // --insecure: no chain or name check
  std::string cert_file;  // --cert: client certificate (mTLS)
  std::string key_file;   // --key
  std::string sni;        // --sni: name sent and verified instead of the URL's host
  std::string timeout = "10s";
  bool no_resume = false;  // --no-tls-resume: every handshake is full
};

// Turns the plan into a wss:// plan: TLS options, handshake timeout, and the
// name each target is verified against (`url_host` unless --sni).
result<void> apply_client_tls(const tls_flags& flags, const std::string& url_host,
                              core::client_plan& plan);

// What the report says about the TLS settings, e.g. the --insecure warning.
std::string describe_client_tls(const core::client_plan& plan);

// `horde serve --tls-cert FILE --tls-key FILE`.
result<void> apply_server_tls(const std::string& cert_file, const std::string& key_file,
                              core::server_plan& plan);

}  // namespace horde::app

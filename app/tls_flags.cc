#include "app/tls_flags.hh"

#include <fmt/format.h>

#include "app/units.hh"
#include "proto/tls_context.hh"

namespace horde::app {

result<void> apply_client_tls(const tls_flags& flags, const std::string& url_host,
                              core::client_plan& plan) {
  auto timeout = parse_duration_ns(flags.timeout);
  if (!timeout) return make_error("--tls-timeout: " + timeout.error().message);
  if (*timeout == 0) return make_error("--tls-timeout must be more than 0");
  if (flags.insecure && !flags.ca_file.empty()) {
    return make_error("--ca and --insecure contradict each other: pick one");
  }
  if (!flags.key_file.empty() && flags.cert_file.empty()) {
    return make_error("--key needs --cert (the client certificate it belongs to)");
  }
  proto::tls_options options;
  options.ca_file = flags.ca_file;
  options.insecure = flags.insecure;
  options.cert_file = flags.cert_file;
  options.key_file = flags.key_file;
  options.resume = !flags.no_resume;
  // Handshakes finish in bursts (one loop turn completes dozens, each bringing
  // one or two single-use tickets) while launches are paced: with proto's
  // default of 8 most tickets were dropped and most handshakes were full
  // (docs/decisions.md). A session is a few KiB; 128 per shard is nothing.
  options.max_cached_sessions = 128;
  if (auto check = proto::tls_context::make(options); !check) return check.error();
  plan.tls = true;
  plan.tls_options = options;
  plan.tls_timeout_ns = *timeout;
  for (auto& target : plan.targets)
    target.tls_host = flags.sni.empty() ? url_host : flags.sni;
  return {};
}

std::string describe_client_tls(const core::client_plan& plan) {
  const proto::tls_options& o = plan.tls_options;
  const std::string host = plan.targets.empty() ? std::string() : plan.targets[0].tls_host;
  if (o.insecure) {
    return fmt::format(
        "TLS WITHOUT VERIFICATION (--insecure): any certificate for any name was accepted "
        "(host {})",
        host);
  }
  return fmt::format("TLS verified against {} for the name '{}'{}{}",
                     o.ca_file.empty() ? "the system CA store" : "--ca " + o.ca_file, host,
                     o.cert_file.empty() ? "" : ", client certificate " + o.cert_file,
                     o.resume ? "" : ", resumption off (--no-tls-resume)");
}

result<void> apply_server_tls(const std::string& cert_file, const std::string& key_file,
                              core::server_plan& plan) {
  if (cert_file.empty() && key_file.empty()) return {};
  if (cert_file.empty()) return make_error("--tls-key needs --tls-cert");
  if (plan.mode != core::server_mode::echo) return make_error("--tls-cert does not go with --raw");
  proto::tls_server_options options;
  options.cert_file = cert_file;
  options.key_file = key_file;
  options.ticket_keys = proto::make_ticket_keys();
  if (auto check = proto::tls_context::make_server(options); !check) return check.error();
  plan.tls_server = options;
  return {};
}

}  // namespace horde::app

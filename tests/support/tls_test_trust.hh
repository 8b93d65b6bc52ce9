// What the proto TLS tests share: one test PKI for a whole test binary
// (generating keys is the slow part) and client options that trust its CA.
#pragma once

#include "proto/tls_context.hh"
#include "tests/support/tls_test_peer.hh"

namespace horde::test {

inline const test_pki& shared_pki() {
  static const test_pki instance;
  return instance;
}

inline proto::tls_options trusting_test_ca() {
  proto::tls_options options;
  options.ca_file = shared_pki().ca_file;
  return options;
}

}  // namespace horde::test

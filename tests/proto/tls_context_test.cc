#include "proto/tls_context.hh"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/support/tls_test_peer.hh"
#include "tests/support/tls_test_trust.hh"

namespace horde::proto {
namespace {

const test::test_pki& pki() {
  return test::shared_pki();
}
using test::trusting_test_ca;

TEST(tls_context, makes_contexts_for_every_kind_of_trust) {
  EXPECT_TRUE(tls_context::make(tls_options{}));  // the system store
  EXPECT_TRUE(tls_context::make(trusting_test_ca()));
  tls_options insecure;
  insecure.insecure = true;
  EXPECT_TRUE(tls_context::make(insecure));
  tls_options mtls = trusting_test_ca();
  mtls.cert_file = pki().client_cert_file;
  mtls.key_file = pki().client_key_file;
  auto made = tls_context::make(mtls);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ((*made)->cached_sessions(), 0u);
  EXPECT_EQ((*made)->counters().full_handshakes, 0u);
  EXPECT_EQ((*made)->options().cert_file, pki().client_cert_file);
}

TEST(tls_context, make_names_what_it_could_not_load) {
  auto expect_error = [](const tls_options& options, std::string_view needle) {
    auto made = tls_context::make(options);
    ASSERT_FALSE(made);
    EXPECT_NE(made.error().message.find(needle), std::string::npos) << made.error().message;
  };
  tls_options missing_ca;
  missing_ca.ca_file = "/nonexistent/ca.pem";
  expect_error(missing_ca, "cannot load CA file '/nonexistent/ca.pem'");

  tls_options missing_cert = trusting_test_ca();
  missing_cert.cert_file = "/nonexistent/client.pem";
  expect_error(missing_cert, "cannot load client certificate '/nonexistent/client.pem'");

  tls_options wrong_key = trusting_test_ca();
  wrong_key.cert_file = pki().client_cert_file;
  wrong_key.key_file = pki().ca_file;  // a certificate, not a key
  expect_error(wrong_key, "cannot load client key");

  tls_options key_only = trusting_test_ca();
  key_only.key_file = pki().client_key_file;
  expect_error(key_only, "without a client certificate");

  tls_options upside_down;
  upside_down.min_version = tls_version::tls1_3;
  upside_down.max_version = tls_version::tls1_2;
  expect_error(upside_down, "minimum version");
}

TEST(tls_context, mismatched_client_key_is_refused) {
  const test::test_pki& p = pki();
  const std::string stray_key = p.dir.path() + "/stray-key.pem";
  auto key = test::make_key(test::key_kind::ec_p256);
  test::write_pem(stray_key, nullptr, key.get());
  tls_options options = trusting_test_ca();
  options.cert_file = p.client_cert_file;
  options.key_file = stray_key;
  auto made = tls_context::make(options);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("cannot load client key '" + stray_key + "'"),
            std::string::npos)
      << made.error().message;
  EXPECT_NE(made.error().message.find("key values mismatch"), std::string::npos)
      << made.error().message;
}

}  // namespace
}  // namespace horde::proto

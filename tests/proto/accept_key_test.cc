#include "proto/accept_key.hh"

#include <gtest/gtest.h>

#include <string>

namespace horde::proto {
namespace {

TEST(accept_key, matches_rfc6455_section_1_3_example) {
  // RFC 6455 1.3: this key must be answered with this accept value.
  EXPECT_EQ(accept_key_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(accept_key, key_is_base64_of_16_bytes) {
  // RFC 6455 4.1: the sample nonce "the sample nonce" encodes to the RFC's key.
  const std::string nonce = "the sample nonce";
  uint8_t random[16];
  for (size_t i = 0; i < 16; ++i)
    random[i] = uint8_t(nonce[i]);
  char key[ws_key_length];
  encode_ws_key(random, key);
  EXPECT_EQ(std::string(key, sizeof key), "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(accept_key, base64_pads_every_tail_length) {
  const uint8_t bytes[] = {'f', 'o', 'o', 'b', 'a', 'r'};
  const char* expected[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t n = 0; n <= 6; ++n) {
    char out[16] = {};
    base64_encode(bytes, n, out);
    EXPECT_STREQ(out, expected[n]) << n;
  }
}

TEST(accept_key, fixed_size_and_string_forms_agree) {
  char accept[ws_accept_length];
  accept_key_for("x3JJHMbDL1EzLkh9GBhXDw==", accept);
  EXPECT_EQ(std::string(accept, sizeof accept), accept_key_for("x3JJHMbDL1EzLkh9GBhXDw=="));
  EXPECT_EQ(accept_key_for("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

}  // namespace
}  // namespace horde::proto

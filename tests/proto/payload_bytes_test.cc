#include "proto/payload_bytes.hh"

#include <gtest/gtest.h>

#include "proto/stamp.hh"

namespace horde::proto {
namespace {

using namespace std::string_literals;

std::string decoded(std::string_view spec) {
  auto r = decode_payload(spec);
  EXPECT_TRUE(r) << spec << ": " << r.error().message;
  return r ? *r : std::string();
}

std::string error_of(std::string_view spec) {
  auto r = decode_payload(spec);
  EXPECT_FALSE(r) << spec << " decoded";
  return r ? std::string() : r.error().message;
}

TEST(payload_bytes, plain_text_is_as_is) {
  EXPECT_EQ(decoded("hello {seq}"), "hello {seq}");
  EXPECT_EQ(decoded(""), "");
  EXPECT_EQ(decoded("HEX:00"), "HEX:00");  // prefixes are lowercase
  // text: escapes a message that starts like a prefix.
  EXPECT_EQ(decoded("text:hex:zz"), "hex:zz");
}

TEST(payload_bytes, hex_decodes_with_whitespace_between_bytes) {
  EXPECT_EQ(decoded("hex:"), "");
  EXPECT_EQ(decoded("hex:00ff7F80"), std::string("\x00\xff\x7f\x80", 4));
  EXPECT_EQ(decoded("hex: 0a 0B\n\tff\r\n"), "\x0a\x0b\xff");
}

TEST(payload_bytes, bad_hex_names_the_column) {
  EXPECT_EQ(error_of("hex:0g"), "hex payload: 'g' at column 6 is not a hex digit");
  EXPECT_EQ(error_of("hex:zz"), "hex payload: 'z' at column 5 is not a hex digit");
  EXPECT_EQ(error_of("hex:0a\x01"), "hex payload: byte 0x01 at column 7 is not a hex digit");
  EXPECT_NE(error_of("hex:0a0").find("byte at column 7 has one digit"), std::string::npos);
  EXPECT_NE(error_of("hex:0 a").find("byte at column 5 has one digit"), std::string::npos);
  EXPECT_NE(error_of("hex:0x0a").find("'x' at column 6"), std::string::npos);
}

TEST(payload_bytes, base64_decodes_rfc_4648_vectors) {
  // RFC 4648 section 10, padded and not.
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"Zg==", "f"},
      {"Zm8=", "fo"},
      {"Zm9v", "foo"},
      {"Zm9vYg==", "foob"},
      {"Zm9vYmE=", "fooba"},
      {"Zm9vYmFy", "foobar"},
      {"Zg", "f"},
      {"Zm8", "fo"},
      {"Zm9vYg", "foob"},
  };
  for (auto [encoded, plain] : vectors)
    EXPECT_EQ(decoded("base64:" + std::string(encoded)), plain) << encoded;
  EXPECT_EQ(decoded("base64:+/8A"), "\xfb\xff\x00"s);
  EXPECT_EQ(decoded("base64:Zm9v\nYmFy\r\n"), "foobar");  // wrapped lines
}

TEST(payload_bytes, bad_base64_names_the_column) {
  EXPECT_EQ(error_of("base64:Zm9v!"), "base64 payload: '!' at column 12 is not base64");
  EXPECT_NE(error_of("base64:ab-_").find("base64url?"), std::string::npos);
  EXPECT_NE(error_of("base64:Zg==Zg").find("'Z' at column 12 comes after the '=' padding"),
            std::string::npos);
  EXPECT_NE(error_of("base64:Zm9vY").find("column 12 is alone"), std::string::npos);
  EXPECT_NE(error_of("base64:Zg=").find("from column 10"), std::string::npos);
  EXPECT_FALSE(decode_payload("base64:Zm9v="));
  EXPECT_FALSE(decode_payload("base64:Zg==="));
}

TEST(payload_bytes, stamp_offset_must_fit) {
  EXPECT_TRUE(check_stamp_offset(64, 0, stamp_size));
  EXPECT_TRUE(check_stamp_offset(64, 32, stamp_size));
  EXPECT_TRUE(check_stamp_offset(32, 0, stamp_size));
  auto late = check_stamp_offset(64, 33, stamp_size);
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("offset of at most 32"), std::string::npos);
  EXPECT_NE(late.error().message.find("payload of at least 65 bytes"), std::string::npos);
  auto small = check_stamp_offset(16, 0, stamp_size);
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message.find("at least 32 bytes"), std::string::npos);
  // No wrap-around when offset + size overflows.
  EXPECT_FALSE(check_stamp_offset(64, SIZE_MAX - 4, stamp_size));
}

}  // namespace
}  // namespace horde::proto

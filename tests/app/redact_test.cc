#include "app/redact.hh"

#include <gtest/gtest.h>

namespace horde::app {
namespace {

const char* jwt =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

TEST(Redact, CredentialHeadersKeepOnlyTheirScheme) {
  EXPECT_EQ(redact_header_value("Authorization", std::string("Bearer ") + jwt),
            "Bearer [redacted]");
  EXPECT_EQ(redact_header_value("authorization", "Basic dXNlcjpwYXNz"), "Basic [redacted]");
  EXPECT_EQ(redact_header_value("Cookie", "session=abc; theme=dark"), "[redacted]");
  EXPECT_EQ(redact_header_value("Proxy-Authorization", "secret"), "[redacted]");
}

TEST(Redact, OtherHeadersStayUnlessTheyCarryAJwt) {
  EXPECT_EQ(redact_header_value("X-Room", "lobby"), "lobby");
  EXPECT_EQ(redact_header_value("X-Token", jwt), "eyJ...[redacted]");
}

TEST(Redact, JwtsAnywhereInTextAreHidden) {
  EXPECT_EQ(redact_text(std::string("ws://h/ws/") + jwt + "/x"), "ws://h/ws/eyJ...[redacted]/x");
  // Not a JWT: one dot, or not starting with eyJ.
  EXPECT_EQ(redact_text("eyJabc.def"), "eyJabc.def");
  EXPECT_EQ(redact_text("abc.def.ghi"), "abc.def.ghi");
}

TEST(Redact, SecretQueryParametersAreHidden) {
  EXPECT_EQ(redact_text("ws://h:1/chat?room=5&token=s3cret&x=1"),
            "ws://h:1/chat?room=5&token=[redacted]&x=1");
  EXPECT_EQ(redact_text("ws://h/?access_token=abc"), "ws://h/?access_token=[redacted]");
  EXPECT_EQ(redact_text("ws://h/?room=token"), "ws://h/?room=token");
}

}  // namespace
}  // namespace horde::app

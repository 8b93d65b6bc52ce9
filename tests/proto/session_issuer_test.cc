#include "proto/session_issuer.hh"

#include <gtest/gtest.h>

#include <string>

#include "proto/jwt.hh"
#include "proto/jwt_verify.hh"
#include "proto/upgrade_server.hh"
#include "tests/support/guard_page.hh"

namespace horde::proto {
namespace {

const std::string secret = "session-issuer-test-secret";
constexpr int64_t now = 1'700'000'000;

std::string body_of(const std::string& answer) {
  const size_t blank = answer.find("\r\n\r\n");
  return blank == std::string::npos ? std::string() : answer.substr(blank + 4);
}

// The "token" of a 201 body.
std::string token_of(const std::string& answer) {
  const std::string body = body_of(answer);
  const size_t at = body.find("\"token\":\"");
  if (at == std::string::npos) return {};
  const size_t from = at + 9;
  return body.substr(from, body.find('"', from) - from);
}

std::string mint(std::string_view key, std::string_view claims_json) {
  auto signer = jwt_signer::make(jwt_algorithm::hs256, key);
  EXPECT_TRUE(signer);
  return signer->sign(claims_json);
}

TEST(session_issuer, routes_post_sessions_upgrades_and_the_rest) {
  EXPECT_EQ(route_session_request("POST", "/sessions"), session_route::issue);
  EXPECT_EQ(route_session_request("POST", "/sessions?user=1"), session_route::issue);
  EXPECT_EQ(route_session_request("GET", "/ws/s1"), session_route::upgrade);
  EXPECT_EQ(route_session_request("GET", "/sessions"), session_route::upgrade);
  EXPECT_EQ(route_session_request("POST", "/sessions/1"), session_route::not_found);
  EXPECT_EQ(route_session_request("PUT", "/sessions"), session_route::not_found);
  EXPECT_EQ(route_session_request("", ""), session_route::not_found);
}

TEST(session_issuer, issues_a_201_with_a_token_that_it_accepts) {
  auto issuer = session_issuer::make(secret);
  ASSERT_TRUE(issuer);
  std::string answer;
  issuer->issue(answer, "s7", now, true);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 201 Created\r\n")) << answer;
  EXPECT_NE(answer.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(answer.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  const std::string body = body_of(answer);
  EXPECT_NE(answer.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_TRUE(body.starts_with("{\"session_id\":\"s7\",\"token\":\"")) << body;
  const std::string token = token_of(answer);
  // The claims are exactly sub, sid and exp = now + 3600.
  std::string claims;
  ASSERT_TRUE(base64url_decode(
      token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1), claims));
  EXPECT_EQ(claims, "{\"sub\":\"s7\",\"sid\":\"s7\",\"exp\":1700003600}");
  EXPECT_EQ(issuer->authorize("Bearer " + token, "/ws/s7", now), session_auth::ok);
  EXPECT_EQ(issuer->authorize("bearer  " + token + " ", "/ws/s7?x=1", now), session_auth::ok);
  EXPECT_EQ(issuer->authorize("Bearer " + token, "/elsewhere", now), session_auth::ok);
  EXPECT_EQ(issuer->authorize("Bearer " + token, "/ws/s8", now), session_auth::wrong_session);
  EXPECT_EQ(issuer->authorize("Bearer " + token, "/ws/s7", now + 3600), session_auth::expired);
  answer.clear();
  issuer->issue(answer, "s8", now, false);
  EXPECT_NE(answer.find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST(session_issuer, refuses_every_kind_of_bad_bearer) {
  auto issuer = session_issuer::make(secret);
  ASSERT_TRUE(issuer);
  const std::string claims = R"({"sub":"s1","sid":"s1","exp":1700003600})";
  const std::string good = mint(secret, claims);
  EXPECT_EQ(issuer->authorize("Bearer " + good, "/ws/s1", now), session_auth::ok);
  EXPECT_EQ(issuer->authorize("", "/ws/s1", now), session_auth::missing);
  EXPECT_EQ(issuer->authorize("Basic " + good, "/ws/s1", now), session_auth::missing);
  EXPECT_EQ(issuer->authorize("Bearer", "/ws/s1", now), session_auth::missing);
  EXPECT_EQ(issuer->authorize("Bearer nodots", "/ws/s1", now), session_auth::malformed);
  EXPECT_EQ(issuer->authorize("Bearer a.b.c.d", "/ws/s1", now), session_auth::malformed);
  EXPECT_EQ(issuer->authorize("Bearer " + good + "x", "/ws/s1", now), session_auth::bad_signature);
  EXPECT_EQ(issuer->authorize("Bearer " + mint("another-secret", claims), "/ws/s1", now),
            session_auth::bad_signature);
  // A claims segment swapped under a valid signature.
  std::string swapped = good;
  std::string other_claims;
  base64url_append(other_claims, R"({"sub":"s2","sid":"s2","exp":1700003600})");
  swapped.replace(good.find('.') + 1, good.rfind('.') - good.find('.') - 1, other_claims);
  EXPECT_EQ(issuer->authorize("Bearer " + swapped, "/ws/s2", now), session_auth::bad_signature);
  // alg none, with and without a signature.
  std::string none_header;
  base64url_append(none_header, R"({"alg":"none","typ":"JWT"})");
  const std::string body = good.substr(good.find('.'), good.rfind('.') - good.find('.'));
  EXPECT_EQ(issuer->authorize("Bearer " + none_header + body + ".", "/ws/s1", now),
            session_auth::bad_algorithm);
  EXPECT_EQ(issuer->authorize("Bearer " + none_header + body + good.substr(good.rfind('.')),
                              "/ws/s1", now),
            session_auth::bad_algorithm);
  EXPECT_EQ(issuer->authorize("Bearer " + mint(secret, R"({"sid":"s1"})"), "/ws/s1", now),
            session_auth::expired);  // no exp at all
  EXPECT_EQ(issuer->authorize("Bearer " + mint(secret, R"({"sid":"s1","exp":"1800000000"})"),
                              "/ws/s1", now),
            session_auth::expired);  // exp is not a number
  EXPECT_EQ(issuer->authorize("Bearer " + mint(secret, R"({"sid":"s1","exp":1699999999})"),
                              "/ws/s1", now),
            session_auth::expired);
  EXPECT_EQ(
      issuer->authorize("Bearer " + mint(secret, R"({"sid":1,"exp":1800000000})"), "/ws/1", now),
      session_auth::wrong_session);  // the sid claim must be a string
  EXPECT_EQ(issuer->authorize("Bearer " + mint(secret, "not json"), "/x", now),
            session_auth::malformed);
}

TEST(jwt_verify, base64url_decodes_what_base64url_encodes) {
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i)
      bytes += char(i * 37 + 11);
    std::string encoded, decoded;
    base64url_append(encoded, bytes);
    ASSERT_TRUE(base64url_decode(encoded, decoded)) << n;
    EXPECT_EQ(decoded, bytes) << n;
  }
  std::string out;
  EXPECT_FALSE(base64url_decode("A", out));    // no encoding is 1 mod 4 long
  EXPECT_FALSE(base64url_decode("AB=", out));  // padding is not base64url
  EXPECT_FALSE(base64url_decode("A+", out));   // '+' is base64, not base64url
  EXPECT_FALSE(base64url_decode("AB", out));   // 'B' leaves non-zero trailing bits
  out.clear();
  EXPECT_TRUE(base64url_decode("AA", out));
  EXPECT_EQ(out, std::string(1, '\0'));
}

TEST(jwt_verify, an_empty_secret_is_refused) {
  EXPECT_FALSE(hs256_verifier::make(""));
  EXPECT_FALSE(session_issuer::make(""));
}

// ---- the request parser with bodies (upgrade_server.hh) --------------------

const std::string post =
    "POST /sessions HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
    "Content-Length: 16\r\n\r\n{\"user\":\"alice\"}";
const std::string next_request = "GET /ws/s1 HTTP/1.1\r\n";

TEST(session_request, reads_a_post_and_its_body_at_every_split_leaving_the_next_request) {
  const std::string input = post + next_request;
  test::guard_page_buffer guard(input.size());
  upgrade_request_parser p;
  for (size_t split = 0; split <= input.size(); ++split) {
    p.reset(8192, 64, max_request_body_bytes);
    size_t a = 0, b = 0;
    std::string first = input.substr(0, split);
    auto status = p.feed(guard.place(first), a);
    if (status == parse_status::need_more) {
      // The first piece's bytes go (the shard recycles its receive buffer):
      // what the parser kept must not point into them.
      first.assign(first.size(), '#');
      guard.place(first);
      status = p.feed(guard.place(std::string_view(input).substr(split)), b);
    }
    ASSERT_EQ(status, parse_status::done) << split;
    EXPECT_EQ(a + b, post.size()) << split;
    EXPECT_EQ(p.failure(), upgrade_request_failure::not_get);
    EXPECT_EQ(p.method(), "POST") << split;
    EXPECT_EQ(p.path(), "/sessions") << split;
    EXPECT_EQ(p.content_length(), 16u);
    EXPECT_TRUE(p.keep_alive());
  }
}

TEST(session_request, a_body_split_over_feeds_keeps_the_header_views) {
  upgrade_request_parser p;
  p.reset(8192, 64, max_request_body_bytes);
  std::string first = post.substr(0, post.size() - 5);  // the header whole, the body not
  size_t consumed = 0;
  ASSERT_EQ(p.feed(first, consumed), parse_status::need_more);
  EXPECT_EQ(consumed, first.size());
  first.assign(first.size(), '#');  // the receive buffer is reused
  ASSERT_EQ(p.feed(post.substr(post.size() - 5), consumed), parse_status::done);
  EXPECT_EQ(consumed, 5u);
  EXPECT_EQ(p.method(), "POST");
  EXPECT_EQ(p.path(), "/sessions");
}

TEST(session_request, bodies_are_bounded_and_framed_by_content_length_only) {
  upgrade_request_parser p;
  auto feed_all = [&](const std::string& text, size_t& consumed) {
    p.reset(8192, 64, max_request_body_bytes);
    return p.feed(text, consumed);
  };
  size_t consumed = 0;
  EXPECT_EQ(
      feed_all("POST /sessions HTTP/1.1\r\nHost: h\r\nContent-Length: 65537\r\n\r\n", consumed),
      parse_status::invalid);
  EXPECT_EQ(p.failure(), upgrade_request_failure::too_large);
  EXPECT_EQ(p.content_length(), 65537u);
  EXPECT_EQ(
      feed_all("POST /sessions HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n\r\n", consumed),
      parse_status::need_more);
  EXPECT_EQ(feed_all("POST /sessions HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
                     consumed),
            parse_status::invalid);
  EXPECT_EQ(p.failure(), upgrade_request_failure::malformed);
  EXPECT_EQ(feed_all("POST /sessions HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                     consumed),
            parse_status::invalid);
  EXPECT_EQ(feed_all("POST /sessions HTTP/1.1\r\nContent-Length: -1\r\n\r\n", consumed),
            parse_status::invalid);
  EXPECT_EQ(feed_all("POST /sessions HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n"
                     "{}",
                     consumed),
            parse_status::done);
  EXPECT_EQ(feed_all("POST /sessions HTTP/1.1\r\nConnection: close\r\n\r\n", consumed),
            parse_status::done);
  EXPECT_FALSE(p.keep_alive());
  EXPECT_EQ(feed_all("POST /sessions HTTP/1.0\r\n\r\n", consumed), parse_status::done);
  EXPECT_FALSE(p.keep_alive());
  // Without a body limit (no --sessions) a body is not read: as before.
  p.reset();
  EXPECT_EQ(p.feed(post, consumed), parse_status::done);
  EXPECT_EQ(consumed, post.size() - 16);
}

TEST(session_request, the_upgrade_carries_its_authorization) {
  const std::string get =
      "GET /ws/s1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Authorization: Bearer a.b.c\r\n\r\n";
  upgrade_request_parser p;
  p.reset(8192, 64, max_request_body_bytes);
  size_t consumed = 0;
  ASSERT_EQ(p.feed(get, consumed), parse_status::done);
  EXPECT_EQ(p.failure(), upgrade_request_failure::none);
  EXPECT_EQ(p.authorization(), "Bearer a.b.c");
  EXPECT_EQ(p.method(), "GET");
  EXPECT_EQ(consumed, get.size());
}

TEST(session_request, append_response_frames_the_body) {
  std::string out;
  append_response(out, 404, "Not Found", "text/plain", "nope", false);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
            "Connection: close\r\n\r\nnope");
}

}  // namespace
}  // namespace horde::proto

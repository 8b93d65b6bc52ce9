#include "proto/http_request.hh"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

#include "proto/http_response.hh"

namespace horde::proto {
namespace {

TEST(HttpRequest, PostWithHeadersAndBody) {
  const std::array<std::string_view, 2> headers = {"Content-Type: application/json",
                                                   "Authorization:  Bearer abc.def  "};
  http_request_spec spec;
  spec.method = "POST";
  spec.target = "/sessions?v=2";
  spec.host = "api.example:8080";
  spec.headers = headers;
  spec.body = R"({"user":"u1"})";
  std::string out = "stale";
  ASSERT_TRUE(build_http_request(spec, out));
  EXPECT_EQ(out,
            "POST /sessions?v=2 HTTP/1.1\r\nHost: api.example:8080\r\n"
            "Content-Type: application/json\r\nAuthorization: Bearer abc.def\r\n"
            "Connection: keep-alive\r\nContent-Length: 13\r\n\r\n{\"user\":\"u1\"}");
}

TEST(HttpRequest, ContentLengthOmittedOnlyForAnEmptyBodyWithoutContentSemantics) {
  http_request_spec spec;
  spec.host = "h";
  spec.keep_alive = false;
  std::string out;
  ASSERT_TRUE(build_http_request(spec, out));
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  spec.method = "POST";
  ASSERT_TRUE(build_http_request(spec, out));
  EXPECT_EQ(out, "POST / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  // A caller's Connection line replaces the default one.
  const std::array<std::string_view, 1> upgrade = {"Connection: Upgrade"};
  spec.method = "GET";
  spec.headers = upgrade;
  ASSERT_TRUE(build_http_request(spec, out));
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n");
}

TEST(HttpRequest, WhatItBuildsParsesBackAsOneRequest) {
  // The bytes frame themselves: a server reading Content-Length takes the
  // body and nothing more (checked with the response parser's framing rules
  // by dressing the request as a response).
  http_request_spec spec;
  spec.method = "PUT";
  spec.host = "h";
  spec.body = "0123456789";
  std::string out;
  ASSERT_TRUE(build_http_request(spec, out));
  const std::string as_response = "HTTP/1.1 200 OK\r\n" + out.substr(out.find("\r\n") + 2);
  http_response_parser parser;
  http_response_limits limits;
  limits.keep = true;
  parser.reset(limits);
  size_t used = 0;
  ASSERT_EQ(parser.feed(as_response + "NEXT", used), parse_status::done);
  EXPECT_EQ(used, as_response.size());
  EXPECT_EQ(parser.body(), "0123456789");
  EXPECT_EQ(parser.header("host"), "h");
}

TEST(HttpRequest, RefusesInjectionAndBadFields) {
  struct bad {
    std::string_view method, target, host, header;
    std::string_view says;
  };
  const std::string_view nul_value("X: a\0b", 6);
  const bad cases[] = {
      {"GET", "/", "h", "X-Token: a\r\nEvil: 1", "control byte"},
      {"GET", "/", "h", "X-Token: a\nb", "control byte"},
      {"GET", "/", "h", nul_value, "control byte"},
      {"GET", "/", "h", "Bad Name: v", "not an RFC 9110 token"},
      {"GET", "/", "h", ": v", "not an RFC 9110 token"},
      {"GET", "/", "h", "NoColon", "has no ':'"},
      {"GET", "/", "h", "content-length: 5", "written by horde"},
      {"GET", "/", "h", "Host: other", "written by horde"},
      {"GET", "/", "h", "Transfer-Encoding: chunked", "written by horde"},
      {"G T", "/", "h", "X: 1", "not a token"},
      {"", "/", "h", "X: 1", "not a token"},
      {"GET", "x", "h", "X: 1", "must start with '/'"},
      {"GET", "/a b", "h", "X: 1", "offset 2"},
      {"GET", "/a\r\nX: 1", "h", "X: 1", "offset 2"},
      {"GET", "/", "", "X: 1", "Host is empty"},
      {"GET", "/", "h\r\nX: 1", "X: 1", "control byte"},
  };
  for (const bad& c : cases) {
    const std::array<std::string_view, 1> headers = {c.header};
    http_request_spec spec;
    spec.method = c.method;
    spec.target = c.target;
    spec.host = c.host;
    spec.headers = headers;
    std::string out = "stale";
    const result<void> built = build_http_request(spec, out);
    ASSERT_FALSE(built) << c.header;
    EXPECT_NE(built.error().message.find(c.says), std::string::npos) << built.error().message;
    EXPECT_EQ(out, "");  // nothing half-written
    EXPECT_FALSE(check_http_request(spec));
  }
  // A tab inside a value is allowed (RFC 9110 5.5).
  const std::array<std::string_view, 1> tab = {"X: a\tb"};
  http_request_spec spec;
  spec.host = "h";
  spec.headers = tab;
  EXPECT_TRUE(check_http_request(spec));
}

TEST(HttpUrl, SplitsSchemeHostPortTarget) {
  struct good {
    std::string_view url, scheme, host;
    uint16_t port;
    std::string_view target, host_header;
  };
  const good cases[] = {
      {"http://example.com", "http", "example.com", 80, "/", "example.com"},
      {"https://example.com", "https", "example.com", 443, "/", "example.com"},
      {"HTTPS://Api.Example:8443/v1/sessions?x=1&y=%20#frag", "https", "Api.Example", 8443,
       "/v1/sessions?x=1&y=%20", "Api.Example:8443"},
      {"http://h:80/", "http", "h", 80, "/", "h"},
      {"http://h:/p", "http", "h", 80, "/p", "h"},
      {"http://h?q=1", "http", "h", 80, "/?q=1", "h"},
      {"http://127.0.0.1:9000/x", "http", "127.0.0.1", 9000, "/x", "127.0.0.1:9000"},
      {"http://[::1]:8080/ws", "http", "::1", 8080, "/ws", "[::1]:8080"},
      {"https://[2001:db8::1]", "https", "2001:db8::1", 443, "/", "[2001:db8::1]"},
      {"http://[::ffff:1.2.3.4]/", "http", "::ffff:1.2.3.4", 80, "/", "[::ffff:1.2.3.4]"},
  };
  for (const good& c : cases) {
    const result<http_url> url = parse_http_url(c.url);
    ASSERT_TRUE(url) << c.url << ": " << url.error().message;
    EXPECT_EQ(url->scheme, c.scheme) << c.url;
    EXPECT_EQ(url->host, c.host) << c.url;
    EXPECT_EQ(url->port, c.port) << c.url;
    EXPECT_EQ(url->target, c.target) << c.url;
    EXPECT_EQ(url->host_header(), c.host_header) << c.url;
    EXPECT_EQ(url->tls(), c.scheme == "https");
  }
}

TEST(HttpUrl, ErrorsNameTheProblem) {
  struct bad {
    std::string_view url, says;
  };
  const bad cases[] = {
      {"example.com/x", "no scheme"},
      {"ws://h/", "not http or https"},
      {"ftp://h/", "not http or https"},
      {"http://", "no host"},
      {"http:///x", "no host"},
      {"http://:80/x", "no host"},
      {"http://user:pw@h/", "user info"},
      {"http://h:0/", "1 to 65535"},
      {"http://h:65536/", "1 to 65535"},
      {"http://h:+80/", "1 to 65535"},
      {"http://h:8o/", "1 to 65535"},
      {"http://h:99999999999999999999/", "1 to 65535"},
      {"http://[::1/", "no closing ']'"},
      {"http://[::1]x/", "':port'"},
      {"http://[]/", "not IPv6"},
      {"http://[1.2.3.4]/", "not IPv6"},
      {"http://[fe80::1%25eth0]/", "zone ids"},
      {"http://::1/", "brackets"},
      {"http://h/a b", "percent-encode"},
      {"http://h\r\n/", "has the byte"},
  };
  for (const bad& c : cases) {
    const result<http_url> url = parse_http_url(c.url);
    ASSERT_FALSE(url) << c.url;
    EXPECT_NE(url.error().message.find(c.says), std::string::npos)
        << c.url << " -> " << url.error().message;
  }
}

}  // namespace
}  // namespace horde::proto

#include "proto/tls_session.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/guard_page.hh"
#include "tests/support/tls_recording_sink.hh"
#include "tests/support/tls_test_peer.hh"
#include "tests/support/tls_test_trust.hh"

namespace horde::proto {
namespace {

using bytes = std::vector<uint8_t>;
using test::as_bytes;
using test::recording_sink;

const test::test_pki& pki() {
  return test::shared_pki();
}
using test::trusting_test_ca;

std::unique_ptr<tls_context> make_context(const tls_options& options) {
  auto made = tls_context::make(options);
  if (!made) {
    ADD_FAILURE() << made.error().message;
    return nullptr;
  }
  return std::move(made.value());
}

test::server_options server_for(tls_version version) {
  test::server_options options;
  if (version == tls_version::tls1_2) options.max_version = TLS1_2_VERSION;
  return options;
}

std::string_view version_name(tls_version version) {
  return version == tls_version::tls1_2 ? "TLSv1.2" : "TLSv1.3";
}

constexpr tls_version both_versions[] = {tls_version::tls1_2, tls_version::tls1_3};

// Our client session against an in-memory OpenSSL server.
struct conversation {
  tls_session client;
  recording_sink sink;
  test::tls_test_conn server;

  conversation(tls_context& context, const test::tls_test_server& s,
               std::string_view host = "localhost")
      : server(s) {
    EXPECT_EQ(client.start(context, host, sink), tls_state::handshaking);
  }

  // Carries bytes both ways until neither side has anything to say.
  void pump() {
    for (int round = 0; round < 50; ++round) {
      const bytes to_server = sink.take_wire();
      server.feed(to_server);
      const bytes to_client = server.take_output();
      if (!to_client.empty()) client.feed(to_client, sink);
      if (to_server.empty() && to_client.empty()) return;
    }
    ADD_FAILURE() << "the conversation never went quiet";
  }

  // Server -> client echo of `text` and client -> server of `reply`.
  void expect_echo(std::string_view text) {
    sink.plaintext.clear();
    server.received.clear();
    server.write(text);
    pump();
    EXPECT_EQ(sink.plaintext, text);
    EXPECT_EQ(client.write_plain(as_bytes(sink.plaintext), sink), tls_state::open);
    pump();
    EXPECT_EQ(server.received, text);
  }
};

TEST(tls_session, handshakes_and_echoes) {
  for (tls_version version : both_versions) {
    SCOPED_TRACE(version_name(version));
    auto context = make_context(trusting_test_ca());
    test::tls_test_server server(pki(), server_for(version));
    conversation c(*context, server);
    c.pump();
    ASSERT_EQ(c.client.state(), tls_state::open) << c.client.failure_text();
    EXPECT_TRUE(c.server.handshake_done());
    EXPECT_EQ(c.client.version(), version_name(version));
    EXPECT_EQ(c.client.alpn(), "http/1.1");
    EXPECT_FALSE(c.client.resumed());
    EXPECT_EQ(c.client.failure(), tls_failure::none);
    EXPECT_EQ(c.client.failure_text(), "");
    EXPECT_EQ(context->counters().full_handshakes, 1u);
    EXPECT_EQ(context->counters().resumed_handshakes, 0u);
    c.expect_echo("hello over TLS");
    // The SNI went out as given.
    EXPECT_STREQ(SSL_get_servername(c.server.ssl(), TLSEXT_NAMETYPE_host_name), "localhost");
  }
}

// The server's flight number `which` (0-based) reaches the client in two
// feeds, split at `split` (clamped to the flight); both feeds come from a
// guard-page buffer. Returns the flight's length.
size_t handshake_with_split(tls_context& context, const test::tls_test_server& server, size_t which,
                            size_t split, bool resumed) {
  conversation c(context, server);
  size_t length = 0;
  for (size_t flight = 0; flight <= which; ++flight) {
    c.server.feed(c.sink.take_wire());
    const bytes bytes_in = c.server.take_output();
    if (flight < which) {
      c.client.feed(bytes_in, c.sink);
      EXPECT_EQ(c.client.state(), tls_state::handshaking);
      continue;
    }
    length = bytes_in.size();
    const size_t at = std::min(split, length);
    test::guard_page_buffer guard(length);
    const tls_state after_first = c.client.feed(guard.place(std::span(bytes_in).first(at)), c.sink);
    if (at < length) {
      EXPECT_EQ(after_first, tls_state::handshaking) << at;
    }
    c.client.feed(guard.place(std::span(bytes_in).subspan(at)), c.sink);
  }
  c.pump();
  EXPECT_EQ(c.client.state(), tls_state::open)
      << "split at " << split << " of flight " << which << ": " << c.client.failure_text();
  EXPECT_EQ(c.client.resumed(), resumed);
  c.expect_echo("after a split flight");
  return length;
}

TEST(tls_session, server_flights_at_every_two_way_split) {
  // A full TLS 1.3 handshake is one server flight (ServerHello ... Finished);
  // a full TLS 1.2 one is two (ServerHello ... ServerHelloDone, then ticket,
  // ChangeCipherSpec, Finished). Resumed, each is one flight.
  for (tls_version version : both_versions) {
    for (bool resumed : {false, true}) {
      SCOPED_TRACE(std::string(version_name(version)) + (resumed ? " resumed" : " full"));
      tls_options options = trusting_test_ca();
      options.resume = resumed;
      auto context = make_context(options);
      test::tls_test_server server(pki(), server_for(version));
      if (resumed) {
        conversation first(*context, server);
        first.pump();
      }
      const size_t flights = version == tls_version::tls1_2 && !resumed ? 2 : 1;
      for (size_t which = 0; which < flights; ++which) {
        size_t length = 1;
        for (size_t split = 0; split <= length; ++split) {
          length = handshake_with_split(*context, server, which, split, resumed);
          if (::testing::Test::HasFailure()) return;
        }
        EXPECT_GT(length, 50u);
      }
    }
  }
}

TEST(tls_session, whole_conversation_byte_by_byte) {
  for (tls_version version : both_versions) {
    SCOPED_TRACE(version_name(version));
    tls_options options = trusting_test_ca();
    auto context = make_context(options);
    test::tls_test_server server(pki(), server_for(version));
    conversation c(*context, server);
    test::guard_page_buffer guard(1);
    size_t fed = 0;
    bool wrote = false;
    for (int round = 0; round < 20; ++round) {
      c.server.feed(c.sink.take_wire());
      if (c.client.state() == tls_state::open && !wrote) {
        c.server.write("one");
        c.server.write("two");
        wrote = true;
      }
      const bytes in = c.server.take_output();
      for (size_t i = 0; i < in.size(); ++i) {
        const tls_state before = c.client.state();
        const tls_state after = c.client.feed(guard.place(std::span(in).subspan(i, 1)), c.sink);
        ++fed;
        ASSERT_NE(after, tls_state::failed) << "byte " << fed << ": " << c.client.failure_text();
        // The handshake ends on the last byte of a flight.
        if (before == tls_state::handshaking && after == tls_state::open) {
          EXPECT_EQ(i, in.size() - 1);
        }
      }
      if (in.empty() && c.sink.wire.empty()) break;
    }
    ASSERT_EQ(c.client.state(), tls_state::open);
    EXPECT_EQ(c.sink.plaintext, "onetwo");
    EXPECT_EQ(context->counters().sessions_received, version == tls_version::tls1_3 ? 2u : 1u);
    c.expect_echo("and the rest whole");
  }
}

// Plaintext comes out as records complete, so a feed may yield what earlier
// feeds brought in: the bound is on the running totals, and a feed yields at
// most what it brought plus one record OpenSSL was holding.
constexpr size_t max_record = 16384 + 256;  // RFC 8446 5.2: plaintext + expansion

TEST(tls_session, records_at_every_split_never_yield_more_plaintext_than_fed) {
  const std::string expected = "first record" + std::string(300, 'x') + "third";
  for (tls_version version : both_versions) {
    SCOPED_TRACE(version_name(version));
    auto context = make_context(trusting_test_ca());
    test::tls_test_server server(pki(), server_for(version));
    // Sessions cannot rewind, so each split gets its own conversation; its
    // records have the same length every time.
    size_t length = 1;
    for (size_t split = 0; split <= length; ++split) {
      conversation c(*context, server);
      c.pump();
      ASSERT_EQ(c.client.state(), tls_state::open);
      c.server.write("first record");
      c.server.write(std::string(300, 'x'));
      c.server.write("third");
      const bytes in = c.server.take_output();
      length = in.size();
      test::guard_page_buffer guard(in.size());
      const size_t at = std::min(split, in.size());
      c.client.feed(guard.place(std::span(in).first(at)), c.sink);
      EXPECT_LE(c.sink.plaintext.size(), at);
      EXPECT_EQ(c.client.feed(guard.place(std::span(in).subspan(at)), c.sink), tls_state::open);
      ASSERT_EQ(c.sink.plaintext, expected) << "split at " << split;
      EXPECT_LE(c.sink.plaintext.size(), in.size());
    }
  }
}

TEST(tls_session, large_plaintext_both_ways_in_small_feeds) {
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  conversation c(*context, server);
  c.pump();
  ASSERT_EQ(c.client.state(), tls_state::open);

  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = char(i * 131 + (i >> 9));
  EXPECT_EQ(c.client.write_plain(as_bytes(big), c.sink), tls_state::open);
  c.server.feed(c.sink.take_wire());
  EXPECT_EQ(c.server.received, big);

  c.server.write(big);
  const bytes in = c.server.take_output();
  for (size_t at = 0; at < in.size(); at += 1000) {
    const size_t n = std::min<size_t>(1000, in.size() - at);
    const size_t before = c.sink.plaintext.size();
    ASSERT_EQ(c.client.feed(std::span(in).subspan(at, n), c.sink), tls_state::open);
    ASSERT_LE(c.sink.plaintext.size(), at + n);
    ASSERT_LE(c.sink.plaintext.size() - before, n + max_record);
  }
  EXPECT_EQ(c.sink.plaintext, big);
  EXPECT_LE(c.sink.largest_plaintext_call, 16384u);
}

TEST(tls_session, wrong_ca_fails_verification_with_a_reason) {
  tls_options options;
  options.ca_file = pki().other_ca_file;
  auto context = make_context(options);
  test::tls_test_server server(pki());
  conversation c(*context, server);
  c.pump();
  EXPECT_EQ(c.client.state(), tls_state::failed);
  EXPECT_EQ(c.client.failure(), tls_failure::verify_failed);
  EXPECT_EQ(c.client.failure_text(), "unable to get local issuer certificate");
  EXPECT_TRUE(c.server.failed) << "the client sent an alert";
  EXPECT_EQ(context->counters().full_handshakes, 0u);
}

TEST(tls_session, system_store_does_not_trust_the_test_ca) {
  if (!std::filesystem::exists("/etc/ssl/certs")) GTEST_SKIP() << "no /etc/ssl/certs";
  auto context = make_context(tls_options{});
  ASSERT_NE(context, nullptr);
  test::tls_test_server server(pki());
  conversation c(*context, server);
  c.pump();
  EXPECT_EQ(c.client.failure(), tls_failure::verify_failed);
  EXPECT_EQ(c.client.failure_text(), "unable to get local issuer certificate");
}

TEST(tls_session, wrong_host_name_fails_verification) {
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  conversation c(*context, server, "other.example");
  c.pump();
  EXPECT_EQ(c.client.failure(), tls_failure::verify_failed);
  EXPECT_EQ(c.client.failure_text(), "hostname mismatch");
}

TEST(tls_session, ip_literals_are_verified_and_sent_without_sni) {
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  for (const char* host : {"127.0.0.1", "::1"}) {
    SCOPED_TRACE(host);
    conversation c(*context, server, host);
    c.pump();
    EXPECT_EQ(c.client.state(), tls_state::open) << c.client.failure_text();
    EXPECT_EQ(SSL_get_servername(c.server.ssl(), TLSEXT_NAMETYPE_host_name), nullptr);
  }
  conversation wrong(*context, server, "10.1.2.3");
  wrong.pump();
  EXPECT_EQ(wrong.client.failure(), tls_failure::verify_failed);
  EXPECT_EQ(wrong.client.failure_text(), "IP address mismatch");
}

TEST(tls_session, expired_certificate_fails_verification) {
  auto context = make_context(trusting_test_ca());
  test::server_options expired;
  expired.expired_cert = true;
  test::tls_test_server server(pki(), expired);
  conversation c(*context, server);
  c.pump();
  EXPECT_EQ(c.client.failure(), tls_failure::verify_failed);
  EXPECT_EQ(c.client.failure_text(), "certificate has expired");
}

TEST(tls_session, insecure_accepts_any_certificate_and_name) {
  tls_options options;
  options.ca_file = pki().other_ca_file;  // ignored
  options.insecure = true;
  auto context = make_context(options);
  test::server_options expired;
  expired.expired_cert = true;
  test::tls_test_server server(pki(), expired);
  conversation c(*context, server, "nobody.example");
  c.pump();
  ASSERT_EQ(c.client.state(), tls_state::open) << c.client.failure_text();
  c.expect_echo("anything goes");
}

TEST(tls_session, verification_needs_a_host_name) {
  auto context = make_context(trusting_test_ca());
  tls_session session;
  recording_sink sink;
  EXPECT_EQ(session.start(*context, "", sink), tls_state::failed);
  EXPECT_EQ(session.failure(), tls_failure::local);
  EXPECT_TRUE(sink.wire.empty());
  EXPECT_EQ(session.start(*context, std::string(300, 'a'), sink), tls_state::failed);
  EXPECT_EQ(session.failure(), tls_failure::local);
}

// A closed first connection, then a second that resumes its session.
TEST(tls_session, resumes_sessions) {
  for (tls_version version : both_versions) {
    SCOPED_TRACE(version_name(version));
    auto context = make_context(trusting_test_ca());
    test::tls_test_server server(pki(), server_for(version));
    {
      conversation first(*context, server);
      first.pump();
      ASSERT_EQ(first.client.state(), tls_state::open);
      EXPECT_FALSE(first.client.resumed());
      EXPECT_EQ(first.client.shutdown(first.sink), tls_state::closing);
      first.pump();
      EXPECT_TRUE(first.server.close_notify_received);
      first.server.shutdown();
      first.pump();
      EXPECT_EQ(first.client.state(), tls_state::closed);
    }
    // OpenSSL servers send two TLS 1.3 tickets after a full handshake.
    const size_t tickets = version == tls_version::tls1_3 ? 2 : 1;
    EXPECT_EQ(context->counters().sessions_received, tickets);
    EXPECT_EQ(context->cached_sessions(), tickets);

    conversation second(*context, server);
    second.pump();
    ASSERT_EQ(second.client.state(), tls_state::open) << second.client.failure_text();
    EXPECT_TRUE(second.client.resumed());
    EXPECT_EQ(SSL_session_reused(second.server.ssl()), 1);
    EXPECT_EQ(second.client.alpn(), "http/1.1");
    second.expect_echo("resumed");

    conversation third(*context, server);
    third.pump();
    EXPECT_TRUE(third.client.resumed());
    const tls_counters& counters = context->counters();
    EXPECT_EQ(counters.full_handshakes, 1u);
    EXPECT_EQ(counters.resumed_handshakes, 2u);
    EXPECT_EQ(counters.resumptions_offered, 2u);
    EXPECT_EQ(counters.resumptions_declined, 0u);
  }
}

TEST(tls_session, tls13_tickets_are_used_once) {
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  conversation first(*context, server);
  first.pump();
  ASSERT_EQ(context->cached_sessions(), 2u);
  // Two connections started before either finishes: each takes a ticket.
  conversation second(*context, server);
  EXPECT_EQ(context->cached_sessions(), 1u);
  conversation third(*context, server);
  EXPECT_EQ(context->cached_sessions(), 0u);
  conversation fourth(*context, server);  // none left: a full handshake
  for (conversation* c : {&second, &third, &fourth})
    c->pump();
  EXPECT_TRUE(second.client.resumed());
  EXPECT_TRUE(third.client.resumed());
  EXPECT_FALSE(fourth.client.resumed());
  EXPECT_EQ(context->counters().resumptions_offered, 2u);
}

TEST(tls_session, a_dropped_connection_keeps_its_session_resumable) {
  for (tls_version version : both_versions) {
    SCOPED_TRACE(version_name(version));
    auto context = make_context(trusting_test_ca());
    test::tls_test_server server(pki(), server_for(version));
    {
      conversation first(*context, server);
      first.pump();
      ASSERT_EQ(first.client.state(), tls_state::open);
      first.client.reset();  // no close_notify: the TCP connection just went
    }
    conversation second(*context, server);
    second.pump();
    EXPECT_TRUE(second.client.resumed());
  }
}

TEST(tls_session, no_resume_does_full_handshakes) {
  tls_options options = trusting_test_ca();
  options.resume = false;
  auto context = make_context(options);
  test::tls_test_server server(pki());
  for (int i = 0; i < 3; ++i) {
    conversation c(*context, server);
    c.pump();
    ASSERT_EQ(c.client.state(), tls_state::open);
    EXPECT_FALSE(c.client.resumed());
    c.client.shutdown(c.sink);
    c.pump();
  }
  EXPECT_EQ(context->counters().full_handshakes, 3u);
  EXPECT_EQ(context->counters().resumptions_offered, 0u);
  EXPECT_EQ(context->cached_sessions(), 0u);
}

TEST(tls_session, sessions_are_offered_only_to_their_host) {
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  {
    conversation first(*context, server, "localhost");
    first.pump();
  }
  conversation other(*context, server, "horde.test");
  other.pump();
  EXPECT_FALSE(other.client.resumed());
  conversation same(*context, server, "localhost");
  same.pump();
  EXPECT_TRUE(same.client.resumed());
}

TEST(tls_session, a_declined_resumption_is_counted) {
  auto context = make_context(trusting_test_ca());
  {
    test::tls_test_server server(pki());
    conversation first(*context, server);
    first.pump();
  }
  test::tls_test_server restarted(pki());  // new ticket keys: old tickets mean nothing
  conversation second(*context, restarted);
  second.pump();
  ASSERT_EQ(second.client.state(), tls_state::open);
  EXPECT_FALSE(second.client.resumed());
  EXPECT_EQ(context->counters().resumptions_offered, 1u);
  EXPECT_EQ(context->counters().resumptions_declined, 1u);
  EXPECT_EQ(context->counters().full_handshakes, 2u);
}

TEST(tls_session, close_notify_from_the_client_first) {
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  conversation c(*context, server);
  c.pump();
  EXPECT_EQ(c.client.shutdown(c.sink), tls_state::closing);
  EXPECT_EQ(c.client.write_plain(as_bytes("too late"), c.sink), tls_state::closing);
  EXPECT_EQ(c.client.shutdown(c.sink), tls_state::closing);
  c.pump();
  EXPECT_TRUE(c.server.close_notify_received);
  EXPECT_TRUE(c.server.received.empty());
  // The server may still speak before its own close_notify.
  c.server.write("last words");
  c.server.shutdown();
  c.pump();
  EXPECT_EQ(c.sink.plaintext, "last words");
  EXPECT_EQ(c.client.state(), tls_state::closed);
  EXPECT_EQ(c.client.failure(), tls_failure::none);
  // A closed session ignores whatever else comes.
  EXPECT_EQ(c.client.feed(as_bytes("junk after the end"), c.sink), tls_state::closed);
  EXPECT_TRUE(c.sink.wire.empty());
}

TEST(tls_session, close_notify_from_the_server_is_answered) {
  for (tls_version version : both_versions) {
    SCOPED_TRACE(version_name(version));
    auto context = make_context(trusting_test_ca());
    test::tls_test_server server(pki(), server_for(version));
    conversation c(*context, server);
    c.pump();
    c.server.shutdown();
    c.client.feed(c.server.take_output(), c.sink);
    EXPECT_EQ(c.client.state(), tls_state::closed);
    EXPECT_FALSE(c.sink.wire.empty()) << "our close_notify";
    c.server.feed(c.sink.take_wire());
    EXPECT_TRUE(c.server.close_notify_received);
    EXPECT_EQ(c.client.shutdown(c.sink), tls_state::closed);
    EXPECT_TRUE(c.sink.wire.empty());
  }
}

TEST(tls_session, garbage_instead_of_a_server_hello_fails_as_protocol_error) {
  auto context = make_context(trusting_test_ca());
  const std::string_view http = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  tls_session session;
  recording_sink sink;
  session.start(*context, "localhost", sink);
  sink.wire.clear();
  test::guard_page_buffer guard(http.size());
  EXPECT_EQ(session.feed(guard.place(as_bytes(http)), sink), tls_state::failed);
  EXPECT_EQ(session.failure(), tls_failure::protocol_error);
  EXPECT_EQ(session.failure_text(), "wrong version number");
  // Failed stays failed and silent.
  sink.wire.clear();
  EXPECT_EQ(session.feed(as_bytes(http), sink), tls_state::failed);
  EXPECT_EQ(session.write_plain(as_bytes("x"), sink), tls_state::failed);
  EXPECT_EQ(session.shutdown(sink), tls_state::failed);
  EXPECT_TRUE(sink.wire.empty());
  EXPECT_TRUE(sink.plaintext.empty());
  session.reset();
  EXPECT_EQ(session.state(), tls_state::closed);
  EXPECT_EQ(session.failure(), tls_failure::none);
}

TEST(tls_session, every_first_byte_then_noise_never_opens_or_crashes) {
  auto context = make_context(trusting_test_ca());
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int first = 0; first < 256; ++first) {
    bytes noise(600);
    noise[0] = uint8_t(first);
    for (size_t i = 1; i < noise.size(); ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      // A valid-looking record header half the time, so the noise gets past it.
      noise[i] = (first & 1) && i < 5 ? uint8_t("\x16\x03\x03\x02\x00"[i]) : uint8_t(x);
    }
    tls_session session;
    recording_sink sink;
    session.start(*context, "localhost", sink);
    test::guard_page_buffer guard(noise.size());
    const tls_state state = session.feed(guard.place(noise), sink);
    EXPECT_TRUE(state == tls_state::failed || state == tls_state::handshaking) << first;
    if (state == tls_state::failed) {
      EXPECT_EQ(session.failure(), tls_failure::protocol_error) << session.failure_text();
    }
    EXPECT_TRUE(sink.plaintext.empty());
  }
}

TEST(tls_session, a_corrupted_record_fails_the_session) {
  for (tls_version version : both_versions) {
    SCOPED_TRACE(version_name(version));
    auto context = make_context(trusting_test_ca());
    test::tls_test_server server(pki(), server_for(version));
    conversation c(*context, server);
    c.pump();
    ASSERT_EQ(c.client.state(), tls_state::open);
    c.server.write("a record that will not survive the trip");
    bytes in = c.server.take_output();
    in[in.size() - 20] ^= 0x40;
    EXPECT_EQ(c.client.feed(in, c.sink), tls_state::failed);
    EXPECT_EQ(c.client.failure(), tls_failure::protocol_error);
    EXPECT_EQ(c.client.failure_text(), "decryption failed or bad record mac");
    EXPECT_TRUE(c.sink.plaintext.empty());
    EXPECT_FALSE(c.sink.wire.empty()) << "an alert for the server";
  }
}

TEST(tls_session, a_server_alert_is_reported_with_its_description) {
  tls_options options = trusting_test_ca();
  options.max_version = tls_version::tls1_2;
  auto context = make_context(options);
  test::server_options only_13;
  only_13.min_version = TLS1_3_VERSION;
  test::tls_test_server server(pki(), only_13);
  conversation c(*context, server);
  c.pump();
  EXPECT_EQ(c.client.failure(), tls_failure::peer_alert);
  EXPECT_EQ(c.client.failure_text(), "protocol version");
}

TEST(tls_session, close_notify_during_the_handshake_is_a_peer_alert) {
  auto context = make_context(trusting_test_ca());
  tls_session session;
  recording_sink sink;
  session.start(*context, "localhost", sink);
  const bytes close_notify = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
  EXPECT_EQ(session.feed(close_notify, sink), tls_state::failed);
  EXPECT_EQ(session.failure(), tls_failure::peer_alert);
  EXPECT_EQ(session.failure_text(), "close notify");
}

TEST(tls_session, client_certificates_for_mtls) {
  test::server_options wants_cert;
  wants_cert.require_client_cert = true;
  test::tls_test_server server(pki(), wants_cert);
  for (bool combined : {false, true}) {
    SCOPED_TRACE(combined ? "key in the certificate file" : "separate key file");
    tls_options options = trusting_test_ca();
    options.cert_file = combined ? pki().client_combined_file : pki().client_cert_file;
    if (!combined) options.key_file = pki().client_key_file;
    auto context = make_context(options);
    conversation c(*context, server);
    c.pump();
    ASSERT_EQ(c.client.state(), tls_state::open) << c.client.failure_text();
    test::openssl_ptr<X509> peer(SSL_get1_peer_certificate(c.server.ssl()));
    ASSERT_NE(peer, nullptr);
    EXPECT_EQ(X509_cmp(peer.get(), pki().client_cert.get()), 0);
    c.expect_echo("mutual");
  }
  // Without one, a TLS 1.3 server says so after our Finished: the session
  // opened, then fails on the alert.
  auto context = make_context(trusting_test_ca());
  conversation c(*context, server);
  c.pump();
  EXPECT_EQ(c.client.failure(), tls_failure::peer_alert);
  EXPECT_EQ(c.client.failure_text(), "certificate required");
}

TEST(tls_session, writes_nothing_before_the_handshake_ends) {
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  conversation c(*context, server);
  const size_t hello = c.sink.wire.size();
  EXPECT_GT(hello, 0u);
  EXPECT_EQ(c.client.write_plain(as_bytes("early"), c.sink), tls_state::handshaking);
  EXPECT_EQ(c.client.shutdown(c.sink), tls_state::handshaking);
  EXPECT_EQ(c.sink.wire.size(), hello);
  tls_session never_started;
  EXPECT_EQ(never_started.state(), tls_state::closed);
  EXPECT_EQ(never_started.write_plain(as_bytes("x"), c.sink), tls_state::closed);
  EXPECT_EQ(never_started.feed(as_bytes("x"), c.sink), tls_state::closed);
}

// Connection slots reuse their session: start() drops what was there.
TEST(tls_session, starts_again_after_any_state) {
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  tls_session session;
  recording_sink sink;
  session.start(*context, "localhost", sink);  // abandoned while handshaking
  for (int i = 0; i < 3; ++i) {
    sink.wire.clear();
    test::tls_test_conn peer(server);
    EXPECT_EQ(session.start(*context, "localhost", sink), tls_state::handshaking);
    for (int round = 0; round < 10; ++round) {
      peer.feed(sink.take_wire());
      session.feed(peer.take_output(), sink);
    }
    ASSERT_EQ(session.state(), tls_state::open) << session.failure_text();
    if (i == 1) session.feed(as_bytes("garbage that fails the session"), sink);
  }
  EXPECT_EQ(context->counters().full_handshakes + context->counters().resumed_handshakes, 3u);
  session.reset();
  EXPECT_EQ(session.state(), tls_state::closed);
  EXPECT_EQ(session.version(), "");
  EXPECT_FALSE(session.resumed());
}

// The WebSocket layer answers from inside on_plaintext (a pong, a close).
TEST(tls_session, write_plain_and_shutdown_from_inside_on_plaintext) {
  struct echoing_sink final : tls_sink {
    tls_session* session = nullptr;
    bytes wire;
    std::string seen;
    void on_plaintext(std::span<const uint8_t> data) override {
      seen.append(data.begin(), data.end());
      session->write_plain(data, *this);
      if (seen.find("bye") != std::string::npos) session->shutdown(*this);
    }
    void write(std::span<const uint8_t> data) override {
      wire.insert(wire.end(), data.begin(), data.end());
    }
  };
  auto context = make_context(trusting_test_ca());
  test::tls_test_server server(pki());
  conversation c(*context, server);
  c.pump();
  ASSERT_EQ(c.client.state(), tls_state::open);
  echoing_sink echo;
  echo.session = &c.client;
  c.server.write("ping");
  c.server.write("bye");
  c.client.feed(c.server.take_output(), echo);
  EXPECT_EQ(c.client.state(), tls_state::closing);
  c.server.feed(echo.wire);
  EXPECT_EQ(c.server.received, "pingbye");
  EXPECT_TRUE(c.server.close_notify_received);
}

TEST(tls_session, names_of_states_and_failures) {
  EXPECT_EQ(to_string(tls_state::closing), "closing");
  EXPECT_EQ(to_string(tls_failure::verify_failed), "verify_failed");
  EXPECT_EQ(to_string(tls_failure::peer_alert), "peer_alert");
}

}  // namespace
}  // namespace horde::proto

// proto::tls_session on the server side (accept), against our own client
// side in memory: the server's code paths are OpenSSL's, ours are the BIO,
// the context setup and the state machine, which is what is tested here.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/tls_session.hh"
#include "tests/support/tls_recording_sink.hh"
#include "tests/support/tls_test_peer.hh"

namespace horde::proto {
namespace {

using bytes = std::vector<uint8_t>;
using test::as_bytes;
using test::recording_sink;

struct fixture_files {
  test::test_pki pki;
  std::string server_pem;  // certificate and key in one file
  std::string server_cert, server_key;

  fixture_files() {
    server_pem = pki.dir.path() + "/server-and-key.pem";
    server_cert = pki.dir.path() + "/server.pem";
    server_key = pki.dir.path() + "/server-key.pem";
    test::write_pem(server_pem, pki.server_cert.get(), pki.server_key.get());
    test::write_pem(server_cert, pki.server_cert.get(), nullptr);
    test::write_pem(server_key, nullptr, pki.server_key.get());
  }
};

const fixture_files& files() {
  static const fixture_files instance;
  return instance;
}

std::unique_ptr<tls_context> client_context(tls_version max = tls_version::tls1_3) {
  tls_options options;
  options.ca_file = files().pki.ca_file;
  options.max_version = max;
  auto made = tls_context::make(options);
  EXPECT_TRUE(made) << made.error().message;
  return made ? std::move(made.value()) : nullptr;
}

std::unique_ptr<tls_context> server_context(std::vector<uint8_t> keys = {}) {
  tls_server_options options;
  options.cert_file = files().server_pem;
  options.ticket_keys = std::move(keys);
  auto made = tls_context::make_server(options);
  EXPECT_TRUE(made) << made.error().message;
  return made ? std::move(made.value()) : nullptr;
}

struct pair_of_sessions {
  tls_session client, server;
  recording_sink client_sink, server_sink;

  pair_of_sessions(tls_context& client_ctx, tls_context& server_ctx) {
    EXPECT_EQ(server.accept(server_ctx), tls_state::handshaking);
    EXPECT_TRUE(server_sink.wire.empty());
    EXPECT_EQ(client.start(client_ctx, "localhost", client_sink), tls_state::handshaking);
  }

  // Carries bytes both ways until neither side has anything to say; the
  // client's bytes reach the server cut at `split` (when smaller).
  void pump(size_t split = SIZE_MAX) {
    for (int round = 0; round < 50; ++round) {
      const bytes to_server = client_sink.take_wire();
      const size_t at = std::min(split, to_server.size());
      server.feed(std::span<const uint8_t>(to_server).first(at), server_sink);
      server.feed(std::span<const uint8_t>(to_server).subspan(at), server_sink);
      const bytes to_client = server_sink.take_wire();
      if (!to_client.empty()) client.feed(to_client, client_sink);
      if (to_server.empty() && to_client.empty()) return;
    }
    ADD_FAILURE() << "the conversation never went quiet";
  }

  void expect_echo(std::string_view text) {
    client_sink.plaintext.clear();
    server_sink.plaintext.clear();
    EXPECT_EQ(client.write_plain(as_bytes(text), client_sink), tls_state::open);
    pump();
    EXPECT_EQ(server_sink.plaintext, text);
    EXPECT_EQ(server.write_plain(as_bytes(server_sink.plaintext), server_sink), tls_state::open);
    pump();
    EXPECT_EQ(client_sink.plaintext, text);
  }
};

TEST(tls_server_session, handshakes_and_echoes_with_both_versions) {
  for (tls_version version : {tls_version::tls1_2, tls_version::tls1_3}) {
    auto client_ctx = client_context(version);
    auto server_ctx = server_context();
    pair_of_sessions s(*client_ctx, *server_ctx);
    s.pump();
    ASSERT_EQ(s.client.state(), tls_state::open) << s.client.failure_text();
    ASSERT_EQ(s.server.state(), tls_state::open) << s.server.failure_text();
    EXPECT_EQ(s.server.alpn(), "http/1.1");
    EXPECT_EQ(s.server.version(), version == tls_version::tls1_2 ? "TLSv1.2" : "TLSv1.3");
    EXPECT_EQ(server_ctx->counters().full_handshakes, 1u);
    s.expect_echo("hello from both sides");
  }
}

TEST(tls_server_session, client_flights_at_every_split_point) {
  auto client_ctx = client_context();
  auto server_ctx = server_context();
  // The longest client flight (the ClientHello) bounds the split points.
  size_t longest = 0;
  {
    pair_of_sessions probe(*client_ctx, *server_ctx);
    longest = probe.client_sink.wire.size();
  }
  ASSERT_GT(longest, 100u);
  for (size_t split = 0; split <= longest; ++split) {
    pair_of_sessions s(*client_ctx, *server_ctx);
    s.pump(split);
    ASSERT_EQ(s.server.state(), tls_state::open)
        << "split " << split << ": " << s.server.failure_text();
    ASSERT_EQ(s.client.state(), tls_state::open) << "split " << split;
  }
}

TEST(tls_server_session, plaintext_byte_by_byte) {
  auto client_ctx = client_context();
  auto server_ctx = server_context();
  pair_of_sessions s(*client_ctx, *server_ctx);
  s.pump();
  const std::string text(3000, 'x');
  ASSERT_EQ(s.client.write_plain(as_bytes(text), s.client_sink), tls_state::open);
  const bytes wire = s.client_sink.take_wire();
  for (uint8_t byte : wire)
    s.server.feed(std::span<const uint8_t>(&byte, 1), s.server_sink);
  EXPECT_EQ(s.server_sink.plaintext, text);
}

TEST(tls_server_session, contexts_with_the_same_ticket_keys_resume_each_others_sessions) {
  for (tls_version version : {tls_version::tls1_2, tls_version::tls1_3}) {
    const auto keys = make_ticket_keys();
    ASSERT_EQ(keys.size(), 80u);
    auto client_ctx = client_context(version);
    auto first = server_context(keys);
    auto second = server_context(keys);
    auto stranger = server_context();  // its own random keys
    {
      pair_of_sessions s(*client_ctx, *first);
      s.pump();
      s.expect_echo("ticket please");  // TLS 1.3 tickets come after the handshake
      EXPECT_FALSE(s.server.resumed());
    }
    {
      pair_of_sessions s(*client_ctx, *second);
      s.pump();
      ASSERT_EQ(s.client.state(), tls_state::open);
      EXPECT_TRUE(s.client.resumed());
      EXPECT_TRUE(s.server.resumed());
      s.expect_echo("resumed");
    }
    {
      pair_of_sessions s(*client_ctx, *stranger);
      s.pump();
      ASSERT_EQ(s.client.state(), tls_state::open);
      EXPECT_FALSE(s.server.resumed());
    }
    EXPECT_EQ(second->counters().resumed_handshakes, 1u);
  }
}

TEST(tls_server_session, close_notify_is_answered_both_ways) {
  auto client_ctx = client_context();
  auto server_ctx = server_context();
  pair_of_sessions s(*client_ctx, *server_ctx);
  s.pump();
  EXPECT_EQ(s.client.shutdown(s.client_sink), tls_state::closing);
  s.pump();
  EXPECT_EQ(s.server.state(), tls_state::closed);
  EXPECT_EQ(s.client.state(), tls_state::closed);

  pair_of_sessions t(*client_ctx, *server_ctx);
  t.pump();
  EXPECT_EQ(t.server.shutdown(t.server_sink), tls_state::closing);
  t.pump();
  EXPECT_EQ(t.client.state(), tls_state::closed);
  EXPECT_EQ(t.server.state(), tls_state::closed);
}

TEST(tls_server_session, garbage_instead_of_a_client_hello_is_a_protocol_error) {
  auto server_ctx = server_context();
  tls_session server;
  recording_sink sink;
  ASSERT_EQ(server.accept(*server_ctx), tls_state::handshaking);
  const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(server.feed(as_bytes(garbage), sink), tls_state::failed);
  EXPECT_EQ(server.failure(), tls_failure::protocol_error);
  EXPECT_FALSE(server.failure_text().empty());
  EXPECT_EQ(server.feed(as_bytes(garbage), sink), tls_state::failed);  // ignored from now on
}

TEST(tls_server_session, every_truncated_client_hello_then_noise_never_crashes) {
  auto client_ctx = client_context();
  auto server_ctx = server_context();
  pair_of_sessions probe(*client_ctx, *server_ctx);
  const bytes hello = probe.client_sink.take_wire();
  for (size_t cut = 0; cut < hello.size(); cut += 7) {
    tls_session server;
    recording_sink sink;
    server.accept(*server_ctx);
    server.feed(std::span<const uint8_t>(hello).first(cut), sink);
    const bytes noise(64, uint8_t(cut));
    const auto state = server.feed(noise, sink);
    EXPECT_NE(state, tls_state::open) << "cut " << cut;
  }
}

TEST(tls_server_session, roles_cannot_be_mixed_up) {
  auto client_ctx = client_context();
  auto server_ctx = server_context();
  tls_session session;
  recording_sink sink;
  EXPECT_EQ(session.start(*server_ctx, "localhost", sink), tls_state::failed);
  EXPECT_EQ(session.failure(), tls_failure::local);
  EXPECT_EQ(session.accept(*client_ctx), tls_state::failed);
  EXPECT_EQ(session.failure(), tls_failure::local);
}

TEST(tls_server_session, setup_errors_name_the_file) {
  tls_server_options options;
  EXPECT_FALSE(tls_context::make_server(options));
  options.cert_file = "/nonexistent/cert.pem";
  auto made = tls_context::make_server(options);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("/nonexistent/cert.pem"), std::string::npos);
  options.cert_file = files().server_cert;
  options.key_file = files().pki.client_key_file;  // not this certificate's key
  EXPECT_FALSE(tls_context::make_server(options));
  options.key_file = files().server_key;
  EXPECT_TRUE(tls_context::make_server(options));
  options.ticket_keys = {1, 2, 3};
  EXPECT_FALSE(tls_context::make_server(options));
}

}  // namespace
}  // namespace horde::proto

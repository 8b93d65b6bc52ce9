// core::tls_transport in memory: a client transport and a server transport
// (two slots each) talking through their wire buffers, as two shards would
// through io_uring. What is tested is the routing: plaintext waits until the
// handshake is done, sealing from inside on_plaintext, slots kept apart.
#include "core/tls_transport.hh"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/tls_recording_sink.hh"
#include "tests/support/tls_test_peer.hh"

namespace horde::core {
namespace {

struct fixture_files {
  test::test_pki pki;
  std::string server_pem;
  fixture_files() : server_pem(pki.dir.path() + "/server-and-key.pem") {
    test::write_pem(server_pem, pki.server_cert.get(), pki.server_key.get());
  }
};

const fixture_files& files() {
  static const fixture_files instance;
  return instance;
}

std::vector<uint8_t> take(out_buffer& out) {
  if (out.empty()) return {};
  const auto bytes = out.start_send();
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  out.finish_send(uint32_t(bytes.size()));
  return copy;
}

// Collects each slot's plaintext; with `echo`, seals it straight back from
// inside on_plaintext, as the engines do with their answers.
struct plaintext_by_slot final : tls_transport::plaintext_sink {
  tls_transport* echo = nullptr;
  std::vector<std::string> received = std::vector<std::string>(2);
  out_buffer replies[2];

  void on_plaintext(uint32_t slot, std::span<const uint8_t> bytes) noexcept override {
    received[slot].append(bytes.begin(), bytes.end());
    if (echo == nullptr) return;
    replies[slot].append(bytes);
    EXPECT_TRUE(echo->seal(slot, replies[slot]));
  }
};

struct link {
  std::unique_ptr<tls_transport> client, server;
  plaintext_by_slot at_client, at_server;

  link() {
    proto::tls_options options;
    options.ca_file = files().pki.ca_file;
    auto c = tls_transport::client(options, 2);
    proto::tls_server_options server_options;
    server_options.cert_file = files().server_pem;
    auto s = tls_transport::server(server_options, 2);
    EXPECT_TRUE(c && s);
    client = std::move(*c);
    server = std::move(*s);
    at_server.echo = server.get();
  }

  void pump(uint32_t slot) {
    for (int round = 0; round < 20; ++round) {
      const auto up = take(client->wire(slot));
      if (!up.empty()) server->feed(slot, up, at_server);
      const auto down = take(server->wire(slot));
      if (!down.empty()) client->feed(slot, down, at_client);
      if (up.empty() && down.empty()) return;
    }
    ADD_FAILURE() << "never went quiet";
  }
};

TEST(tls_transport, plaintext_waits_for_the_handshake_then_goes_sealed) {
  link l;
  ASSERT_TRUE(l.server->accept(1));
  ASSERT_TRUE(l.client->connect(1, "localhost"));
  EXPECT_FALSE(l.client->wire(1).empty());  // the ClientHello
  out_buffer plain;
  plain.append(test::as_bytes("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(l.client->seal(1, plain));
  EXPECT_EQ(plain.size(), 18u);  // not open yet: waits
  l.pump(1);
  ASSERT_EQ(l.client->session(1).state(), proto::tls_state::open);
  EXPECT_TRUE(l.client->seal(1, plain));
  EXPECT_TRUE(plain.empty());
  l.pump(1);
  EXPECT_EQ(l.at_server.received[1], "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(l.at_client.received[1], "GET / HTTP/1.1\r\n\r\n");  // echoed from on_plaintext
  EXPECT_TRUE(l.at_server.received[0].empty());
}

TEST(tls_transport, slots_are_separate_and_close_notify_ends_a_session) {
  link l;
  for (uint32_t slot : {0u, 1u}) {
    ASSERT_TRUE(l.server->accept(slot));
    ASSERT_TRUE(l.client->connect(slot, "localhost"));
    l.pump(slot);
  }
  out_buffer plain;
  plain.append(test::as_bytes("zero"));
  ASSERT_TRUE(l.client->seal(0, plain));
  l.pump(0);
  EXPECT_EQ(l.at_server.received[0], "zero");
  EXPECT_EQ(l.at_server.received[1], "");
  l.client->close_notify(1);
  l.pump(1);
  EXPECT_EQ(l.server->session(1).state(), proto::tls_state::closed);
  EXPECT_EQ(l.server->session(0).state(), proto::tls_state::open);
  l.client->release(1);
  EXPECT_EQ(l.client->session(1).state(), proto::tls_state::closed);
  EXPECT_TRUE(l.client->wire(1).empty());
}

TEST(tls_transport, a_wrong_name_fails_verification_and_stops_sealing) {
  link l;
  ASSERT_TRUE(l.server->accept(0));
  ASSERT_TRUE(l.client->connect(0, "not-this-server.example"));
  l.pump(0);
  EXPECT_EQ(l.client->session(0).failure(), proto::tls_failure::verify_failed);
  EXPECT_EQ(l.client->session(0).failure_text(), "hostname mismatch");
  out_buffer plain;
  plain.append(test::as_bytes("never"));
  EXPECT_FALSE(l.client->seal(0, plain));
}

}  // namespace
}  // namespace horde::core

// `horde serve --compression accept` (permessage-deflate on the server side,
// proto/deflate_accept.hh): a client no one here wrote (Python `websockets`,
// tests/peers/python_deflate_client.py) echoes byte for byte through it under
// every offer it can make, an offer the server cannot meet is declined
// without failing the connection, and `horde run --compression` agrees with
// it on the terms each side asked for, every echo compressed both ways.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

using test::horde_binary;
using test::horde_run;
using test::start_peer;

const std::string source_dir = HORDE_SOURCE_DIR;

// "listening ws://127.0.0.1:PORT/ ..." -> "ws://127.0.0.1:PORT/".
std::string url_of(const test::peer_server& server) {
  return test::served_url(server.port);
}

test::peer_server deflate_server(std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {horde_binary, "serve", "--listen",      "127.0.0.1:0",
                                   "--shards",   "2",     "--compression", "accept"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return start_peer(argv);
}

// Stops the server (SIGTERM) and reads "compression: permessage-deflate on
// N connections; ..." from its totals: N, or -1 when the line never came.
long long stop_and_read_compressed(test::peer_server& server) {
  server.process->signal(SIGTERM);
  long long connections = -1;
  while (auto line = server.process->read_line(10000)) {
    long long n = 0;
    if (std::sscanf(line->c_str(), "compression: permessage-deflate on %lld", &n) == 1) {
      connections = n;
    }
  }
  return connections;
}

struct offer_case {
  const char* name;
  std::vector<std::string> client;  // python_deflate_client.py options
  const char* answer;               // the 101's Sec-WebSocket-Extensions
};

void PrintTo(const offer_case& c, std::ostream* out) {
  *out << c.name;
}

class ServeCompressionOffer : public testing::TestWithParam<offer_case> {};

TEST_P(ServeCompressionOffer, PythonWebsocketsEchoesByteForByte) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  const offer_case& c = GetParam();
  auto server = deflate_server();
  const std::string url = url_of(server);
  ASSERT_FALSE(url.empty()) << server.port;
  std::vector<std::string> argv = {HORDE_PYTHON,
                                   source_dir + "/tests/peers/python_deflate_client.py", url};
  argv.insert(argv.end(), c.client.begin(), c.client.end());
  const auto outcome = test::run_process(argv, 20000);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  const auto report = nlohmann::json::parse(outcome.out);
  EXPECT_EQ(report["extensions"], c.answer);
  EXPECT_EQ(report["mismatched"], 0);
  EXPECT_EQ(report["sent"], 23);
  EXPECT_EQ(stop_and_read_compressed(server), std::string(c.answer).empty() ? 0 : 1);
}

INSTANTIATE_TEST_SUITE_P(
    Offers, ServeCompressionOffer,
    testing::Values(
        offer_case{"bare", {}, "permessage-deflate"},
        offer_case{"client_window_ours_to_choose",
                   {"--client-max-window-bits", "offer"},
                   "permessage-deflate"},
        offer_case{"every_parameter",
                   {"--server-max-window-bits", "10", "--client-max-window-bits", "9",
                    "--server-no-context-takeover", "--client-no-context-takeover"},
                   "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                   "server_max_window_bits=10; client_max_window_bits=9"},
        offer_case{"server_window_15_answered",
                   {"--server-max-window-bits", "15"},
                   "permessage-deflate; server_max_window_bits=15"},
        // zlib cannot compress with 256 bytes: declined, plain WebSocket.
        offer_case{"server_window_8_declined", {"--server-max-window-bits", "8"}, ""}),
    [](const auto& info) { return std::string(info.param.name); });

// horde's own client against horde's own server: what each side asked for
// is agreed, and every echo went compressed both ways.
TEST(ServeCompression, HordeRunAndHordeServeAgreeOnEachSidesTerms) {
  struct side {
    std::vector<std::string> server, client;
    int client_bits, server_bits, client_fresh, server_fresh;
  };
  const std::vector<side> sides = {
      {{}, {}, 15, 15, 0, 0},
      {{},
       {"--compression-no-context-takeover", "both", "--compression-window-bits", "10"},
       10,
       10,
       6,
       6},
      {{"--compression-no-context-takeover", "both", "--compression-window-bits", "11"},
       {},
       11,
       11,
       6,
       6},
  };
  for (const side& s : sides) {
    auto server = deflate_server(s.server);
    const std::string url = url_of(server);
    ASSERT_FALSE(url.empty()) << server.port;
    std::vector<std::string> args = {
        url,       "-c", "6",      "--rate", "40/s", "--duration",    "600ms",
        "--drain", "2s", "--text", "--size", "2KiB", "--compression", "require"};
    args.insert(args.end(), s.client.begin(), s.client.end());
    const auto run = horde_run(args, "serve_compression");
    test::expect_every_message_echoed(run, 6);
    const auto& r = run.result;
    const auto& c = r["compression"];
    EXPECT_EQ(c["negotiated"], 6) << c.dump();
    EXPECT_EQ(c["received"]["messages"], r["messages"]["received"]) << "every echo compressed";
    EXPECT_EQ(c["client_max_window_bits_mean"], s.client_bits) << c.dump();
    EXPECT_EQ(c["server_max_window_bits_mean"], s.server_bits) << c.dump();
    EXPECT_EQ(c["client_no_context_takeover"], s.client_fresh) << c.dump();
    EXPECT_EQ(c["server_no_context_takeover"], s.server_fresh) << c.dump();
    EXPECT_GT(c["received"]["ratio"], 2.0) << "the server's echoes compress";
    EXPECT_EQ(stop_and_read_compressed(server), 6);
  }
}

// Without --compression accept the server answers no offer: horde run's
// offer falls back to plain WebSocket. Terms without accept are refused.
TEST(ServeCompression, OffUnlessAskedAndTermsNeedAccept) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0"});
  const std::string url = url_of(server);
  ASSERT_FALSE(url.empty()) << server.port;
  const auto run =
      horde_run({url, "-c", "4", "--rate", "20/s", "--duration", "500ms", "--compression", "offer"},
                "serve_compression_off");
  test::expect_every_message_echoed(run, 4);
  EXPECT_EQ(run.result["compression"]["declined"], 4);
  const auto refused =
      test::run_process({horde_binary, "serve", "--compression-window-bits", "10"}, 10000);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("add --compression accept"), std::string::npos) << refused.err;
}

// `horde run` with no URL starts its own server: one that accepts what the
// run offers, so `--compression require` works out of the box.
TEST(ServeCompression, TheEmbeddedServerAcceptsWhatTheRunOffers) {
  const auto run = horde_run(
      {"-c", "4", "--rate", "20/s", "--duration", "500ms", "--text", "--compression", "require"},
      "serve_compression_embedded");
  test::expect_every_message_echoed(run, 4);
  EXPECT_EQ(run.result["compression"]["negotiated"], 4) << run.result["compression"].dump();
  EXPECT_EQ(run.result["compression"]["received"]["messages"], run.result["messages"]["received"]);
}

}  // namespace
}  // namespace horde

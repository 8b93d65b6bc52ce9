// permessage-deflate (RFC 7692) against WebSocket stacks no one here wrote:
// Node `ws` with perMessageDeflate (tests/peers/node_deflate_server.js) and
// Python `websockets` (compression on by default), each echoing byte for
// byte under every negotiation variant asked from either side; and a raw
// server that sends what a client must refuse (tests/peers/hostile_server.py).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

using test::horde_run;
using test::run_outcome;
using test::start_peer;

const std::string source_dir = HORDE_SOURCE_DIR;

bool node_ws_installed() {
  const std::string module = source_dir + "/tests/peers/node_modules/ws/package.json";
  return access(module.c_str(), R_OK) == 0;
}

test::peer_server node_peer(const std::vector<std::string>& options) {
  std::vector<std::string> argv = {"/usr/bin/node",
                                   source_dir + "/tests/peers/node_deflate_server.js"};
  argv.insert(argv.end(), options.begin(), options.end());
  return start_peer(argv);
}

test::peer_server python_peer(const std::vector<std::string>& options) {
  std::vector<std::string> argv = {HORDE_PYTHON, source_dir + "/tests/peers/python_ws_server.py"};
  argv.insert(argv.end(), options.begin(), options.end());
  return start_peer(argv);
}

// Random bytes (they do not compress), written once for --payload file:.
std::string random_payload_file() {
  static const std::string path = [] {
    const std::string p = testing::TempDir() + "/horde_random_payload_" + std::to_string(getpid());
    std::mt19937 rng(42);
    std::ofstream out(p, std::ios::binary);
    for (int i = 0; i < 3000; ++i)
      out.put(char(rng()));
    return p;
  }();
  return path;
}

// A short echo run with compression offered; extra flags shape the offer.
run_outcome deflate_run(const std::string& port, std::vector<std::string> extra,
                        const std::string& name) {
  std::vector<std::string> args = {"ws://127.0.0.1:" + port + "/",
                                   "-c",
                                   "4",
                                   "--rate",
                                   "40/s",
                                   "--duration",
                                   "600ms",
                                   "--drain",
                                   "2s",
                                   "--compression",
                                   "require"};
  args.insert(args.end(), extra.begin(), extra.end());
  return horde_run(args, name);
}

// Every message echoed byte for byte, compressed both ways, nothing failed.
void expect_compressed_echo(const run_outcome& run, const std::string& what) {
  SCOPED_TRACE(what);
  test::expect_every_message_echoed(run, 4);
  const auto& r = run.result;
  EXPECT_EQ(r["messages"]["corrupted"], 0);
  ASSERT_TRUE(r.contains("compression")) << r.dump();
  const auto& c = r["compression"];
  EXPECT_EQ(c["negotiated"], 4);
  EXPECT_EQ(c["sent"]["messages"], r["messages"]["sent"]);
  EXPECT_EQ(c["received"]["messages"], r["messages"]["received"]) << "every echo came compressed";
  EXPECT_EQ(c["received"]["bytes_after"], r["messages"]["bytes_received"]);
  EXPECT_EQ(c["inflate_errors"], 0);
}

// One negotiation variant: the peer's options, horde's flags, and what the
// report must say was agreed (window bits; no context takeover each way).
struct variant {
  std::string name;
  std::vector<std::string> node;    // node_deflate_server.js options
  std::vector<std::string> python;  // python_ws_server.py options
  std::vector<std::string> horde;   // horde's flags
  double client_bits, server_bits;
  bool client_fresh, server_fresh;
};

std::vector<variant> variants() {
  std::vector<variant> out = {
      {"defaults", {}, {"--deflate-server-max-window-bits", "15"}, {}, 15, 15, false, false},
      {"server_keeps_no_context",
       {"serverNoContextTakeover=true"},
       {"--deflate-server-no-context-takeover"},
       {},
       15,
       15,
       false,
       true},
      {"server_tells_us_to_keep_none",
       {"clientNoContextTakeover=true"},
       {"--deflate-client-no-context-takeover"},
       {},
       15,
       15,
       true,
       false},
      {"we_keep_none",
       {},
       {},
       {"--compression-no-context-takeover", "client"},
       15,
       15,
       true,
       false},
      {"we_ask_the_server",
       {},
       {},
       {"--compression-no-context-takeover", "server"},
       15,
       15,
       false,
       true},
      {"neither_keeps", {}, {}, {"--compression-no-context-takeover", "both"}, 15, 15, true, true},
  };
  for (int bits = 9; bits <= 15; ++bits) {
    const std::string n = std::to_string(bits);
    out.push_back({"server_chooses_" + n,
                   {"serverMaxWindowBits=" + n, "clientMaxWindowBits=" + n},
                   {"--deflate-server-max-window-bits", n, "--deflate-client-max-window-bits", n},
                   {},
                   double(bits),
                   double(bits),
                   false,
                   false});
    out.push_back({"we_ask_" + n,
                   {},
                   {},
                   {"--compression-window-bits", n},
                   double(bits),
                   double(bits),
                   false,
                   false});
  }
  return out;
}

// `cap`: the window a server narrows both sides to unless told otherwise
// (websockets: 12).
void expect_agreed(const run_outcome& run, const variant& v, double cap = 15) {
  const auto& c = run.result["compression"];
  EXPECT_EQ(c["client_max_window_bits_mean"], std::min(v.client_bits, cap)) << v.name;
  EXPECT_EQ(c["server_max_window_bits_mean"], std::min(v.server_bits, cap)) << v.name;
  EXPECT_EQ(c["client_no_context_takeover"], v.client_fresh ? 4 : 0) << v.name;
  EXPECT_EQ(c["server_no_context_takeover"], v.server_fresh ? 4 : 0) << v.name;
}

void PrintTo(const variant& v, std::ostream* out) {
  *out << v.name;
}

class CompressionVariant : public testing::TestWithParam<variant> {};

// Text that compresses (2 KiB: more than the smallest windows) and random
// binary that does not, each echoed byte for byte through Node `ws`.
TEST_P(CompressionVariant, NodeWsEchoesByteForByte) {
  if (!node_ws_installed()) GTEST_SKIP() << "node ws not installed: run .ci/install-deps";
  const variant& v = GetParam();
  auto server = node_peer(v.node);
  ASSERT_FALSE(server.port.empty());
  std::vector<std::string> text = v.horde, binary = v.horde;
  text.insert(text.end(), {"--text", "--size", "2KiB"});
  binary.insert(binary.end(), {"--payload", "file:" + random_payload_file()});
  const auto compressible = deflate_run(server.port, text, "node_text_" + v.name);
  expect_compressed_echo(compressible, v.name + " text");
  expect_agreed(compressible, v);
  EXPECT_GT(compressible.result["compression"]["sent"]["ratio"], 2.0) << "text compresses";
  expect_compressed_echo(deflate_run(server.port, binary, "node_binary_" + v.name),
                         v.name + " random binary");
}

TEST_P(CompressionVariant, PythonWebsocketsEchoesByteForByte) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  const variant& v = GetParam();
  // websockets sends each echo in 700-byte fragments: compressed messages
  // in several frames, RSV1 on the first only.
  std::vector<std::string> options = v.python;
  options.insert(options.end(), {"--fragment", "700"});
  auto server = python_peer(options);
  ASSERT_FALSE(server.port.empty());
  std::vector<std::string> text = v.horde, binary = v.horde;
  text.insert(text.end(), {"--text", "--size", "2KiB"});
  binary.insert(binary.end(), {"--payload", "file:" + random_payload_file()});
  const auto compressible = deflate_run(server.port, text, "python_text_" + v.name);
  expect_compressed_echo(compressible, v.name + " text");
  expect_agreed(compressible, v, v.python.empty() ? 12 : 15);
  expect_compressed_echo(deflate_run(server.port, binary, "python_binary_" + v.name),
                         v.name + " random binary");
}

INSTANTIATE_TEST_SUITE_P(Negotiation, CompressionVariant, testing::ValuesIn(variants()),
                         [](const auto& info) { return info.param.name; });

// Messages larger than the largest window (64 KiB against 32 KiB), and
// random bytes without context, which deflate cannot shrink.
TEST(Compression, MessagesBiggerThanTheWindowAndIncompressibleOnes) {
  if (!node_ws_installed()) GTEST_SKIP() << "node ws not installed: run .ci/install-deps";
  auto server = node_peer({});
  ASSERT_FALSE(server.port.empty());
  expect_compressed_echo(deflate_run(server.port, {"--size", "64KiB"}, "node_big"), "64 KiB");
  const auto noise = deflate_run(
      server.port,
      {"--payload", "file:" + random_payload_file(), "--compression-no-context-takeover", "both"},
      "node_noise");
  expect_compressed_echo(noise, "random, no context");
  EXPECT_LT(noise.result["compression"]["sent"]["ratio"], 1.0) << "random bytes grow a little";
}

// --compression offer against a server without the extension: plain
// WebSocket, counted as declined; require fails each connection instead.
TEST(Compression, OfferFallsBackAndRequireFailsWhenTheServerDeclines) {
  if (!node_ws_installed()) GTEST_SKIP() << "node ws not installed: run .ci/install-deps";
  auto server = node_peer({"off"});
  ASSERT_FALSE(server.port.empty());
  auto offered = horde_run({"ws://127.0.0.1:" + server.port + "/", "-c", "4", "--rate", "20/s",
                            "--duration", "500ms", "--compression", "offer"},
                           "node_declined_offer");
  test::expect_every_message_echoed(offered, 4);
  EXPECT_EQ(offered.result["compression"]["declined"], 4);
  EXPECT_EQ(offered.result["compression"]["negotiated"], 0);
  auto required = deflate_run(server.port, {}, "node_declined_require");
  EXPECT_EQ(required.result["connections"]["failures"]["upgrade_compression_declined"], 4)
      << required.result["connections"].dump();
}

// What a client must refuse, from a raw server (hostile_server.py): each a
// counted failure on its connection, never a crash.
struct refusal {
  const char* mode;
  const char* reason;
  const char* compression;  // the --compression flag
};

void PrintTo(const refusal& r, std::ostream* out) {
  *out << r.mode;
}

class CompressionRefusal : public testing::TestWithParam<refusal> {};

TEST_P(CompressionRefusal, IsCountedUnderItsReason) {
  const refusal& r = GetParam();
  // The path chooses the misbehaviour.
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/hostile_server.py"});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run({"ws://127.0.0.1:" + server.port + "/" + r.mode, "-c", "3", "--duration",
                        "1s", "--upgrade-timeout", "1s", "--compression", r.compression},
                       std::string("refusal_") + r.mode);
  ASSERT_FALSE(run.process.timed_out);
  ASSERT_TRUE(run.result.contains("connections")) << run.process.err;
  EXPECT_EQ(run.result["connections"]["failures"][r.reason], 3)
      << r.mode << ": " << run.result["connections"]["failures"].dump();
}

INSTANTIATE_TEST_SUITE_P(
    RawServer, CompressionRefusal,
    testing::Values(refusal{"rsv_bits", "protocol_unnegotiated_compression", "off"},
                    refusal{"deflate_unasked", "upgrade_bad_extension", "off"},
                    refusal{"deflate_bad_window", "upgrade_bad_extension", "offer"},
                    refusal{"deflate_garbage", "protocol_bad_deflate", "offer"},
                    refusal{"deflate_bomb", "protocol_message_too_big", "offer"},
                    refusal{"deflate_rsv1_continuation", "protocol_reserved_bits", "offer"}),
    [](const auto& info) { return std::string(info.param.mode); });

}  // namespace
}  // namespace horde

// `horde run wss://...` against TLS peers nobody here wrote — HAProxy
// terminating TLS in front of a plain `horde serve`, Python `websockets`
// serving wss:// itself — and against `horde serve --tls-cert`. The CA and
// certificates are made by the test (tests/support/tls_test_peer.hh) in a
// temporary directory; no key is ever committed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/horde_cli.hh"
#include "tests/support/tls_test_peer.hh"

namespace horde {
namespace {

const std::string source_dir = HORDE_SOURCE_DIR;
using test::horde_binary;
using test::horde_run;
using test::start_peer;

// One PKI for the file: a CA, a server certificate for localhost and
// 127.0.0.1 (with its key in one PEM, as HAProxy and Python want it), and a
// CA that signed nothing here.
struct tls_files {
  test::test_pki pki;
  std::string server_pem;

  tls_files() : server_pem(pki.dir.path() + "/server-and-key.pem") {
    test::write_pem(server_pem, pki.server_cert.get(), pki.server_key.get());
  }
};

const tls_files& files() {
  static const tls_files instance;
  return instance;
}

// A port that was free a moment ago (HAProxy cannot tell us the one the
// kernel picked for it).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

bool accepts_connections(int port, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string haproxy_binary() {
  const char* given = std::getenv("HORDE_HAPROXY");
  return given != nullptr ? given : "/usr/sbin/haproxy";
}

// The port in horde serve's first line: "listening ws://127.0.0.1:PORT/ (...)".
std::string served_port(const std::string& first_line) {
  const size_t colon = first_line.find("127.0.0.1:");
  if (colon == std::string::npos) return {};
  const size_t start = colon + 10;
  return first_line.substr(start, first_line.find('/', start) - start);
}

// HAProxy terminating TLS (tickets on, its defaults) in front of a plain
// `horde serve`, both started once for the suite.
class HaproxyTls : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access(haproxy_binary().c_str(), X_OK) != 0) return;
    backend = new test::peer_server(start_peer(
        {horde_binary, "serve", "--listen", "127.0.0.1:0", "--max-connections", "1000"}));
    const std::string backend_port = served_port(backend->port);
    if (backend_port.empty()) return;
    for (int attempt = 0; attempt < 3 && port < 0; ++attempt) {
      const int candidate = free_port();
      const std::string config = files().pki.dir.path() + "/haproxy.cfg";
      std::ofstream(config) << "global\n"
                               "  maxconn 4096\n"
                               "defaults\n"
                               "  mode http\n"
                               "  timeout connect 5s\n"
                               "  timeout client 30s\n"
                               "  timeout server 30s\n"
                               "  timeout tunnel 30s\n"
                               "frontend wss\n"
                               "  bind 127.0.0.1:"
                            << candidate << " ssl crt " << files().server_pem
                            << "\n"
                               "  default_backend horde\n"
                               "backend horde\n"
                               "  server serve 127.0.0.1:"
                            << backend_port << "\n";
      proxy = new test::child_process({haproxy_binary(), "-db", "-f", config});
      if (accepts_connections(candidate, 5000)) {
        port = candidate;
      } else {
        delete proxy;
        proxy = nullptr;
      }
    }
  }
  static void TearDownTestSuite() {
    delete proxy;
    delete backend;
    proxy = nullptr;
    backend = nullptr;
  }
  void SetUp() override {
    if (access(haproxy_binary().c_str(), X_OK) != 0) {
      GTEST_SKIP() << "haproxy not found at " << haproxy_binary()
                   << " (Debian package haproxy; .ci/install-deps installs it)";
    }
    ASSERT_GT(port, 0) << "HAProxy did not start";
  }
  static std::string url() { return "wss://localhost:" + std::to_string(port) + "/"; }

  static inline test::peer_server* backend = nullptr;
  static inline test::child_process* proxy = nullptr;
  static inline int port = -1;
};

TEST_F(HaproxyTls, EchoesAndResumesSessions) {
  auto run = horde_run({url(), "-c", "200", "--connect-rate", "400/s", "--rate", "5/s",
                        "--duration", "3s", "--ca", files().pki.ca_file},
                       "haproxy_echo");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err << run.process.out;
  const auto& r = run.result;
  EXPECT_EQ(r["connections"]["opened"], 200);
  EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"].dump();
  EXPECT_GT(r["messages"]["sent"], 0);
  EXPECT_EQ(r["messages"]["answered"], r["messages"]["sent"]);
  const auto& tls = r["tls"];
  EXPECT_EQ(tls["verified"], true);
  EXPECT_EQ(uint64_t(tls["full_handshakes"]) + uint64_t(tls["resumed_handshakes"]), 200u);
  EXPECT_GT(tls["resumed_handshakes"], 0) << tls.dump();
  EXPECT_EQ(r["latency"]["tls_handshake"]["count"], 200);
  EXPECT_NE(run.process.out.find("  tls   "), std::string::npos) << run.process.out;
}

TEST_F(HaproxyTls, NoResumeMeansOnlyFullHandshakes) {
  auto run = horde_run({url(), "-c", "50", "--connect-rate", "200/s", "--rate", "0", "--duration",
                        "1s", "--ca", files().pki.ca_file, "--no-tls-resume"},
                       "haproxy_no_resume");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["opened"], 50);
  EXPECT_EQ(run.result["tls"]["full_handshakes"], 50);
  EXPECT_EQ(run.result["tls"]["resumed_handshakes"], 0);
}

// Every connection fails verification; the report names the reason in OpenSSL's words.
void expect_verify_failures(const test::run_outcome& run, const std::string& words) {
  ASSERT_FALSE(run.result.is_null()) << run.process.err;
  EXPECT_EQ(run.process.exit_code, 1) << "nothing worked, so the run fails";
  EXPECT_NE(run.process.out.find("check        FAIL  no connection opened"), std::string::npos);
  const auto& r = run.result;
  EXPECT_EQ(r["connections"]["opened"], 0);
  EXPECT_EQ(r["connections"]["failed"], 5);
  EXPECT_EQ(r["connections"]["failures"]["tls_verify_failed"], 5) << r["connections"].dump();
  ASSERT_EQ(r["tls"]["failures"].size(), 1u) << r["tls"].dump();
  EXPECT_EQ(r["tls"]["failures"][0]["reason"], "tls_verify_failed");
  EXPECT_EQ(r["tls"]["failures"][0]["text"], words);
  EXPECT_EQ(r["tls"]["failures"][0]["count"], 5);
  EXPECT_NE(run.process.out.find("tls_verify_failed 5: " + words), std::string::npos)
      << run.process.out;
}

TEST_F(HaproxyTls, WrongCaFailsVerification) {
  auto run = horde_run({url(), "-c", "5", "--duration", "1s", "--ca", files().pki.other_ca_file},
                       "haproxy_wrong_ca");
  expect_verify_failures(run, "unable to get local issuer certificate");
}

TEST_F(HaproxyTls, WrongHostNameFailsVerification) {
  auto run = horde_run({url(), "-c", "5", "--duration", "1s", "--ca", files().pki.ca_file, "--sni",
                        "not-this-server.example"},
                       "haproxy_wrong_name");
  expect_verify_failures(run, "hostname mismatch");
}

TEST_F(HaproxyTls, InsecureAcceptsTheWrongCaAndSaysSo) {
  auto run =
      horde_run({"wss://127.0.0.1:" + std::to_string(port) + "/", "-c", "20", "--rate", "5/s",
                 "--duration", "2s", "--sni", "not-this-server.example", "--insecure"},
                "haproxy_insecure");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  EXPECT_EQ(run.result["connections"]["opened"], 20);
  EXPECT_EQ(run.result["connections"]["failed"], 0);
  EXPECT_EQ(run.result["messages"]["answered"], run.result["messages"]["sent"]);
  EXPECT_EQ(run.result["tls"]["insecure"], true);
  EXPECT_NE(run.process.out.find("TLS WITHOUT VERIFICATION (--insecure)"), std::string::npos)
      << run.process.out;
}

TEST(TlsRun, PythonWebsocketsServesWss) {
  if (!test::python_has_websockets())
    GTEST_SKIP() << HORDE_PYTHON << " lacks the websockets module (python3-websockets)";
  auto server = start_peer({HORDE_PYTHON, source_dir + "/tests/peers/python_ws_server.py",
                            "--tls-cert", files().server_pem});
  ASSERT_FALSE(server.port.empty());
  auto run = horde_run(
      {"wss://localhost:" + server.port + "/", "-c", "50", "--connect-rate", "200/s", "--rate",
       "10/s", "--size", "1KiB", "--duration", "2s", "--ca", files().pki.ca_file},
      "python_wss");
  test::expect_every_message_echoed(run, 50);
}

TEST(TlsRun, HordeServeTerminatesTls) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--max-connections",
                            "1000", "--tls-cert", files().server_pem});
  ASSERT_NE(server.port.find("listening wss://"), std::string::npos) << server.port;
  const std::string port = served_port(server.port);
  auto run = horde_run(
      {"wss://localhost:" + port + "/", "-c", "100", "--connect-rate", "500/s", "--rate", "10/s",
       "--text", "--ping-interval", "500ms", "--duration", "2s", "--ca", files().pki.ca_file},
      "serve_tls");
  ASSERT_TRUE(passed_or_starved(run)) << run.process.err;
  const auto& r = run.result;
  EXPECT_EQ(r["connections"]["attempted"], 100);
  EXPECT_EQ(r["connections"]["opened"], 100);
  EXPECT_EQ(r["connections"]["failed"], 0) << r["connections"].dump();
  EXPECT_EQ(r["connections"]["closed_clean"], 100);
  EXPECT_GT(r["messages"]["pings_sent"], 0);
  EXPECT_EQ(r["messages"]["pongs_received"], r["messages"]["pings_sent"]);
  EXPECT_EQ(r["messages"]["answered"], r["messages"]["sent"]);
  EXPECT_EQ(r["messages"]["received"], r["messages"]["sent"]);
  EXPECT_EQ(uint64_t(r["tls"]["full_handshakes"]) + uint64_t(r["tls"]["resumed_handshakes"]), 100u);
  EXPECT_GT(r["tls"]["resumed_handshakes"], 0);
}

// The server counts every failed handshake once, with its reason in
// OpenSSL's words: clients speaking plain ws:// to the TLS port, and clients
// that refuse its certificate (they trust another CA).
TEST(TlsRun, HordeServeCountsTlsFailuresByReason) {
  auto server = start_peer({horde_binary, "serve", "--listen", "127.0.0.1:0", "--tls-cert",
                            files().server_pem, "--duration", "4s"});
  ASSERT_NE(server.port.find("listening wss://"), std::string::npos) << server.port;
  const std::string port = served_port(server.port);
  auto plain = horde_run({"ws://127.0.0.1:" + port + "/", "-c", "3", "--duration", "1s"}, "plain");
  EXPECT_EQ(plain.result["connections"]["failed"], 3);
  auto distrusting = horde_run({"wss://localhost:" + port + "/", "-c", "2", "--duration", "1s",
                                "--ca", files().pki.other_ca_file},
                               "distrusting");
  EXPECT_EQ(distrusting.result["connections"]["failed"], 2);
  std::string out;
  while (auto line = server.process->read_line(15000))
    out += *line + "\n";
  EXPECT_NE(out.find("tls: handshakes full 0 resumed 0 failed 5"), std::string::npos) << out;
  EXPECT_NE(out.find("tls_protocol_error 3: http request"), std::string::npos) << out;
  EXPECT_NE(out.find("tls_peer_alert 2: "), std::string::npos) << out;
}

TEST(TlsRun, BadTlsFlagsAreRefusedBeforeConnecting) {
  auto missing = horde_run({"wss://localhost:1/", "--ca", "/nonexistent/ca.pem"}, "bad_ca");
  EXPECT_EQ(missing.process.exit_code, 2);
  EXPECT_NE(missing.process.err.find("/nonexistent/ca.pem"), std::string::npos)
      << missing.process.err;
  auto both = horde_run({"wss://localhost:1/", "--ca", files().pki.ca_file, "--insecure"},
                        "ca_and_insecure");
  EXPECT_EQ(both.process.exit_code, 2);
  auto serve = test::run_process({horde_binary, "serve", "--listen", "127.0.0.1:0", "--tls-cert",
                                  "/nonexistent/cert.pem", "--duration", "1s"},
                                 10000);
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_NE(serve.err.find("/nonexistent/cert.pem"), std::string::npos) << serve.err;
}

}  // namespace
}  // namespace horde

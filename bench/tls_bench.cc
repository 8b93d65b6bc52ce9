// Costs of proto/tls_session in memory, one thread, against an OpenSSL
// server (tests/support/tls_test_peer.hh) in the same thread:
//  - handshakes per second, full and resumed, TLS 1.3 and 1.2, with a P-256
//    and an RSA-2048 server key: the pair's rate, and the client's alone (the
//    time spent inside tls_session calls), best of 3 rounds;
//  - bytes an idle client connection holds after its handshake and one
//    message each way, over 1,000 connections, with and without
//    SSL_MODE_RELEASE_BUFFERS, and the same for a plain OpenSSL client over a
//    BIO_s_mem pair for comparison.
// Memory is what OpenSSL asked for, counted through CRYPTO_set_mem_functions
// (exact, and blind to which malloc is linked: this binary gets mimalloc),
// plus malloc_usable_size to show the allocator's rounding. Figures only:
// it never passes or fails on them.
#include <fmt/core.h>
#include <malloc.h>
#include <openssl/crypto.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "proto/tls_session.hh"
#include "tests/support/tls_test_peer.hh"

namespace {

using namespace horde;
using clock_type = std::chrono::steady_clock;

// Who an OpenSSL allocation is charged to: set around client-side calls.
enum owner : uint32_t { server_or_setup = 0, client = 1 };
owner current_owner = server_or_setup;

struct usage {
  int64_t bytes = 0;         // asked for
  int64_t usable_bytes = 0;  // what malloc handed out
  int64_t allocations = 0;
};
usage charged[2];

struct alignas(16) block_header {
  size_t size;
  owner who;
};

void* counted_malloc(size_t n, const char*, int) {
  auto* h = static_cast<block_header*>(std::malloc(n + sizeof(block_header)));
  if (h == nullptr) return nullptr;
  h->size = n;
  h->who = current_owner;
  charged[h->who].bytes += int64_t(n);
  charged[h->who].usable_bytes += int64_t(malloc_usable_size(h));
  ++charged[h->who].allocations;
  return h + 1;
}

void counted_free(void* p, const char*, int) {
  if (p == nullptr) return;
  auto* h = static_cast<block_header*>(p) - 1;
  charged[h->who].bytes -= int64_t(h->size);
  charged[h->who].usable_bytes -= int64_t(malloc_usable_size(h));
  --charged[h->who].allocations;
  std::free(h);
}

void* counted_realloc(void* p, size_t n, const char* file, int line) {
  if (p == nullptr) return counted_malloc(n, file, line);
  if (n == 0) {
    counted_free(p, file, line);
    return nullptr;
  }
  auto* h = static_cast<block_header*>(p) - 1;
  const owner who = h->who;
  const int64_t old_size = int64_t(h->size);
  const int64_t old_usable = int64_t(malloc_usable_size(h));
  auto* moved = static_cast<block_header*>(std::realloc(h, n + sizeof(block_header)));
  if (moved == nullptr) return nullptr;
  moved->size = n;
  charged[who].bytes += int64_t(n) - old_size;
  charged[who].usable_bytes += int64_t(malloc_usable_size(moved)) - old_usable;
  return moved + 1;
}

// Charges what a client-side call allocates to the client, and times it.
struct client_scope {
  double& seconds;
  clock_type::time_point start = clock_type::now();
  explicit client_scope(double& s) : seconds(s) { current_owner = client; }
  ~client_scope() {
    current_owner = server_or_setup;
    seconds += std::chrono::duration<double>(clock_type::now() - start).count();
  }
};

struct wire_sink final : proto::tls_sink {
  std::vector<uint8_t> wire;
  size_t plaintext = 0;
  void on_plaintext(std::span<const uint8_t> data) override { plaintext += data.size(); }
  void write(std::span<const uint8_t> data) override {
    wire.insert(wire.end(), data.begin(), data.end());
  }
};

// A client connection of ours, with the time spent in it.
struct our_client {
  proto::tls_session session;
  wire_sink sink;
  double seconds = 0;

  void start(proto::tls_context& context) {
    client_scope s(seconds);
    session.start(context, "localhost", sink);
  }
  void feed(const std::vector<uint8_t>& in) {
    client_scope s(seconds);
    session.feed(in, sink);
  }
  void write(std::string_view text) {
    client_scope s(seconds);
    session.write_plain({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, sink);
  }
  void reset() {
    client_scope s(seconds);
    session.reset();
  }
  std::vector<uint8_t> take_wire() {
    std::vector<uint8_t> out;
    out.swap(sink.wire);
    return out;
  }
  bool open() const { return session.state() == proto::tls_state::open; }
};

// The same over a BIO_s_mem pair, driven the way OpenSSL's docs suggest.
struct mem_bio_client {
  test::openssl_ptr<SSL> ssl;
  double seconds = 0;

  explicit mem_bio_client(SSL_CTX* ctx) {
    client_scope s(seconds);
    ssl.reset(SSL_new(ctx));
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl.get(), in, out);
    SSL_set_connect_state(ssl.get());
    SSL_set_tlsext_host_name(ssl.get(), "localhost");
    SSL_set1_host(ssl.get(), "localhost");
    SSL_do_handshake(ssl.get());
  }
  void feed(const std::vector<uint8_t>& in) {
    client_scope s(seconds);
    BIO_write(SSL_get_rbio(ssl.get()), in.data(), int(in.size()));
    if (!SSL_is_init_finished(ssl.get()) && SSL_do_handshake(ssl.get()) != 1) return;
    char buffer[16384];
    size_t n = 0;
    while (SSL_read_ex(ssl.get(), buffer, sizeof buffer, &n) == 1) {
    }
  }
  void write(std::string_view text) {
    client_scope s(seconds);
    size_t n = 0;
    SSL_write_ex(ssl.get(), text.data(), text.size(), &n);
  }
  std::vector<uint8_t> take_wire() {
    client_scope s(seconds);
    BIO* out = SSL_get_wbio(ssl.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(out, &data);
    std::vector<uint8_t> bytes(data, data + n);
    (void)BIO_reset(out);
    return bytes;
  }
  bool open() const { return SSL_is_init_finished(ssl.get()) == 1; }
};

// Handshake, tickets, one message each way; the server side is then freed.
template <class Client>
void converse(Client& c, const test::tls_test_server& server) {
  test::tls_test_conn s(server);
  for (int round = 0; round < 20; ++round) {
    const auto to_server = c.take_wire();
    s.feed(to_server);
    auto to_client = s.take_output();
    if (!to_client.empty()) c.feed(to_client);
    if (to_server.empty() && to_client.empty()) break;
  }
  if (!c.open()) {
    fmt::print(stderr, "tls_bench: a handshake failed\n");
    std::exit(1);
  }
  c.write("hello, server");
  s.feed(c.take_wire());
  s.write("hello, client");
  c.feed(s.take_output());
}

struct rate {
  double pair_per_second = 0;
  double client_per_second = 0;
};

rate handshake_rate(const test::test_pki& pki, proto::tls_version version, bool resume,
                    bool insecure, int count) {
  proto::tls_options options;
  options.ca_file = pki.ca_file;
  options.insecure = insecure;
  options.resume = resume;
  options.min_version = options.max_version = version;
  auto context = std::move(proto::tls_context::make(options).value());
  test::tls_test_server server(pki);
  rate best;
  for (int round = 0; round < 3; ++round) {
    double client_seconds = 0;
    const auto start = clock_type::now();
    for (int i = 0; i < count; ++i) {
      our_client c;
      c.start(*context);
      converse(c, server);
      c.reset();  // no close_notify: resumable all the same
      client_seconds += c.seconds;
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    best.pair_per_second = std::max(best.pair_per_second, count / seconds);
    best.client_per_second = std::max(best.client_per_second, count / client_seconds);
  }
  const auto& n = context->counters();
  if (resume && n.resumed_handshakes < n.full_handshakes) {
    fmt::print(stderr, "tls_bench: expected resumed handshakes, got {} full, {} resumed\n",
               n.full_handshakes, n.resumed_handshakes);
  }
  return best;
}

struct idle_cost {
  double bytes = 0, usable_bytes = 0, allocations = 0;
};

// make() returns a std::unique_ptr to a new client (sessions cannot move).
template <class MakeClient>
idle_cost idle_memory(const test::tls_test_server& server, int count, MakeClient make) {
  for (int i = 0; i < 20; ++i) {  // OpenSSL's one-time caches land outside the figure
    auto c = make();
    converse(*c, server);
  }
  const usage before = charged[client];
  std::vector<decltype(make())> idle;
  idle.reserve(size_t(count));
  for (int i = 0; i < count; ++i) {
    idle.push_back(make());
    converse(*idle.back(), server);
  }
  const usage after = charged[client];
  return {double(after.bytes - before.bytes) / count,
          double(after.usable_bytes - before.usable_bytes) / count,
          double(after.allocations - before.allocations) / count};
}

void print_rate(const char* name, rate r) {
  fmt::print("  {:<50} {:>6.0f} /s pair {:>8.0f} /s client alone ({:.3f} ms)\n", name,
             r.pair_per_second, r.client_per_second, 1000.0 / r.client_per_second);
}

void print_idle(const char* name, idle_cost c) {
  fmt::print("  {:<60} {:>6.0f} B ({:>7.0f} B usable) in {:>5.1f} allocations\n", name, c.bytes,
             c.usable_bytes, c.allocations);
}

}  // namespace

int main() {
  // Before OpenSSL allocates anything.
  if (CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free) != 1) {
    fmt::print(stderr, "tls_bench: cannot hook OpenSSL's allocator; memory figures are off\n");
  }
  fmt::print("horde TLS client (proto/tls_session), {}, in memory, one thread\n",
             OpenSSL_version(OPENSSL_VERSION));

  const test::test_pki ec_pki(test::key_kind::ec_p256);
  const test::test_pki rsa_pki(test::key_kind::rsa_2048);
  using proto::tls_version;

  fmt::print("handshakes (client + server in one thread; best of 3):\n");
  for (const auto* pki : {&ec_pki, &rsa_pki}) {
    const char* key = pki == &ec_pki ? "P-256" : "RSA-2048";
    for (tls_version v : {tls_version::tls1_3, tls_version::tls1_2}) {
      const char* version = v == tls_version::tls1_3 ? "TLS 1.3" : "TLS 1.2";
      print_rate(fmt::format("{} {} full", version, key).c_str(),
                 handshake_rate(*pki, v, false, false, 300));
      print_rate(fmt::format("{} {} resumed", version, key).c_str(),
                 handshake_rate(*pki, v, true, false, 1000));
    }
    print_rate(fmt::format("TLS 1.3 {} full, insecure (no chain check)", key).c_str(),
               handshake_rate(*pki, tls_version::tls1_3, false, true, 300));
  }

  constexpr int idle_count = 1000;
  fmt::print("idle client after handshake + one message each way ({} connections):\n", idle_count);
  test::tls_test_server server(ec_pki);
  for (bool release : {true, false}) {
    for (bool resume : {false, true}) {
      proto::tls_options options;
      options.ca_file = ec_pki.ca_file;
      options.release_buffers = release;
      options.resume = resume;
      auto context = std::move(proto::tls_context::make(options).value());
      print_idle(fmt::format("tls_session, {}, {}", resume ? "resumed" : "full",
                             release ? "RELEASE_BUFFERS" : "buffers kept")
                     .c_str(),
                 idle_memory(server, idle_count, [&] {
                   auto c = std::make_unique<our_client>();
                   c->start(*context);
                   return c;
                 }));
    }
  }
  for (bool release : {true, false}) {
    test::openssl_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_load_verify_locations(ctx.get(), ec_pki.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>("\x08http/1.1"), 9);
    if (release) SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
    print_idle(fmt::format("reference: OpenSSL over BIO_s_mem, full, {}",
                           release ? "RELEASE_BUFFERS" : "buffers kept")
                   .c_str(),
               idle_memory(server, idle_count,
                           [&] { return std::make_unique<mem_bio_client>(ctx.get()); }));
  }
  return 0;
}

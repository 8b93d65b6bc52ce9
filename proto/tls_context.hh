// A shard's TLS client configuration: one SSL_CTX, the session cache its
// connections resume from, and handshake counters. One per shard thread and
// used only from it (the cache and counters are plain fields).
//
// Verification is on unless `insecure`: the server's chain must reach a CA
// in `ca_file`, or in the system store (OpenSSL's default paths, which Debian
// points at /etc/ssl/certs from ca-certificates), and its certificate must
// name the host the session was started with (tls_session.hh). TLS 1.2 and
// 1.3; ALPN offers "http/1.1" (RFC 8441's h2 WebSocket is not ours);
// renegotiation is refused.
//
// Resumption (RFC 8446 2.2, RFC 5077): the new-session callback keeps the
// sessions servers hand out, newest last, at most max_cached_sessions, each
// tagged with the host it came from. A new connection to that host is offered
// the newest. A TLS 1.3 ticket is taken out when offered (clients SHOULD NOT
// reuse one, RFC 8446 C.4, and servers with anti-replay refuse a second use);
// a TLS 1.2 session stays and serves every later connection. OpenSSL servers
// send two tickets after a full handshake and one after a resumed one, so a
// steady stream of connections keeps the cache fed.
#pragma once

#include <openssl/types.h>  // SSL, SSL_CTX

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

// Declared as <openssl/ssl.h> and <openssl/bio.h> declare them, so users of
// this header need not include those.
typedef struct ssl_session_st SSL_SESSION;
typedef struct bio_method_st BIO_METHOD;

namespace horde::proto {

enum class tls_version : uint8_t { tls1_2, tls1_3 };

struct tls_options {
  // PEM file of the CAs to trust instead of the system store; "" for the store.
  std::string ca_file;
  // Accept any certificate for any name: no chain or name check at all (and
  // no CPU spent on one). For test beds with self-signed servers.
  bool insecure = false;
  // A client certificate chain and its key (PEM), for servers that ask (mTLS).
  std::string cert_file;
  std::string key_file;  // "": the key is in cert_file
  tls_version min_version = tls_version::tls1_2;
  tls_version max_version = tls_version::tls1_3;
  // Offer the sessions of earlier connections (false: every handshake is full).
  bool resume = true;
  size_t max_cached_sessions = 8;
  // SSL_MODE_RELEASE_BUFFERS: an idle connection keeps no record buffers
  // (18 KB instead of 51 KB after a full handshake; bench/tls_bench.cc).
  bool release_buffers = true;
};

// The server side (`horde serve --tls-cert --tls-key`): one certificate, no
// client certificates asked for, ALPN http/1.1 when the client offers it.
// Resumption by tickets only (stateless: no server-side session cache, so no
// lock and no memory per session); every context made with the same
// ticket_keys accepts the others' tickets, which is how the shards of one
// server resume each other's sessions without sharing anything mutable.
struct tls_server_options {
  std::string cert_file;  // PEM chain, leaf first
  std::string key_file;   // "": the key is in cert_file
  // 80 bytes (key name 16, HMAC key 32, AES key 32: SSL_CTX_set_tlsext_ticket_keys);
  // empty: OpenSSL's own random keys, valid in this context only.
  std::vector<uint8_t> ticket_keys;
  bool release_buffers = true;
};

// Random ticket keys for tls_server_options::ticket_keys.
std::vector<uint8_t> make_ticket_keys();

struct tls_counters {
  uint64_t full_handshakes = 0;
  uint64_t resumed_handshakes = 0;
  uint64_t resumptions_offered = 0;   // connections started with a cached session
  uint64_t resumptions_declined = 0;  // of those, ones the server answered with a full handshake
  uint64_t sessions_received = 0;     // sessions and tickets servers sent
};

class tls_context {
 public:
  // Cold path: the error names the file or setting that failed and OpenSSL's reason.
  static result<std::unique_ptr<tls_context>> make(const tls_options& options);
  // A server context (proto/tls_server_context.cc); sessions made from it
  // are started with tls_session::accept.
  static result<std::unique_ptr<tls_context>> make_server(const tls_server_options& options);
  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  const tls_options& options() const noexcept { return _options; }
  bool server() const noexcept { return _server; }
  const tls_counters& counters() const noexcept { return _counters; }
  size_t cached_sessions() const noexcept { return _sessions.size(); }

 private:
  friend class tls_session;

  // Sessions are told apart by host; a shard talks to a few hosts, and past
  // this many new hosts get no resumption rather than unbounded memory.
  static constexpr size_t max_hosts = 64;

  struct cached_session {
    SSL_SESSION* session;
    const std::string* host;  // one of _hosts
  };

  tls_context() = default;
  // SSL_CTX_sess_set_new_cb: returns 1 when it kept the session.
  static int on_new_session(SSL* ssl, SSL_SESSION* session) noexcept;
  // A stable pointer for `host`, or nullptr once max_hosts are known.
  const std::string* intern_host(std::string_view host) noexcept;
  // A reference to the newest usable session for `host` (the caller frees
  // it), or nullptr.
  SSL_SESSION* take_session(const std::string* host) noexcept;
  // Takes ownership of `session`.
  void keep_session(SSL_SESSION* session, const std::string* host) noexcept;

  SSL_CTX* _ctx = nullptr;
  BIO_METHOD* _bio_method = nullptr;  // tls_session's ciphertext BIO
  tls_options _options;
  tls_counters _counters;
  std::vector<cached_session> _sessions;  // oldest first; capacity reserved
  std::vector<std::string> _hosts;        // capacity max_hosts reserved: pointers stay valid
  bool _server = false;
};

}  // namespace horde::proto

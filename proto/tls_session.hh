// One TLS connection with no socket, client side (start) or server side
// (accept): feed() takes the
// ciphertext io_uring received, the plaintext inside goes to
// tls_sink::on_plaintext, and every byte TLS wants on the wire (ClientHello,
// Finished, alerts, close_notify, key updates, our records) goes to
// tls_sink::write during the call that caused it. Nothing blocks and nothing
// is buffered between calls by us: the session's BIO reads straight from the
// span being fed and writes straight to the sink.
//
// Why not BIO_s_mem: a memory BIO keeps the largest buffer it ever held (its
// BUF_MEM never shrinks), so every idle connection would carry its biggest
// server flight and write, and every byte would be copied once more.
// bench/tls_bench.cc prints both costs side by side.
//
// Invariants: a session in handshaking, open or closing state owns an SSL
// (and through it the BIO). Plaintext is handed on as each record completes
// and never held: the total delivered never exceeds the ciphertext fed (a
// record only adds bytes; compression is off), and one feed yields at most
// its own bytes plus the one partial record OpenSSL kept from earlier feeds
// (16 KiB). Once closed or failed a session ignores input until reset/start.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proto/tls_context.hh"

namespace horde::proto {

enum class tls_state : uint8_t {
  handshaking,  // ClientHello sent, waiting for the server
  open,         // application data flows both ways
  closing,      // we sent close_notify; reading until the server's
  closed,       // close_notify both ways, or no connection (before start, after reset)
  failed,       // see failure() and failure_text()
};

enum class tls_failure : uint8_t {
  none,
  verify_failed,   // the chain or the name did not verify: "certificate has expired", ...
  peer_alert,      // the server sent a fatal alert: "handshake failure", "protocol version", ...
  protocol_error,  // the server's bytes broke TLS and we sent an alert: "wrong version number", ...
  local,           // our side: memory ran out, a host name we cannot use, OpenSSL internal
};

std::string_view to_string(tls_state state) noexcept;
std::string_view to_string(tls_failure failure) noexcept;

// Receives a session's output. Called only from inside start/feed/write_plain/
// shutdown. write_plain and shutdown may be called from on_plaintext; feed,
// start and reset may not (checked: they abort).
class tls_sink {
 public:
  // Decrypted application data, in order; at most one record (16 KiB) a call.
  virtual void on_plaintext(std::span<const uint8_t> bytes) = 0;
  // Ciphertext to put on the wire, in order.
  virtual void write(std::span<const uint8_t> bytes) = 0;

 protected:
  ~tls_sink() = default;
};

class tls_session {
 public:
  tls_session() = default;
  tls_session(const tls_session&) = delete;  // the BIO points at the session
  tls_session& operator=(const tls_session&) = delete;
  ~tls_session() { reset(); }

  // Begins a handshake with `host` (a DNS name, or an IPv4/IPv6 literal
  // without brackets): sent as SNI when a name, and what the certificate must
  // match unless the context is insecure. Offers the context's newest session
  // for that host. Writes the ClientHello; returns handshaking, or failed
  // (local). `context` must outlive the connection.
  tls_state start(tls_context& context, std::string_view host, tls_sink& sink) noexcept;

  // The server side: waits for a ClientHello (nothing written yet). Returns
  // handshaking, or failed (local). `context` is a server context
  // (tls_context::make_server) and must outlive the connection.
  tls_state accept(tls_context& context) noexcept;

  // Ciphertext from the peer, consumed whole unless the session closes or
  // fails part way (the rest is ignored). Returns the state after it.
  tls_state feed(std::span<const uint8_t> ciphertext, tls_sink& sink) noexcept;

  // Encrypts `plaintext` when open; in any other state writes nothing and
  // returns that state.
  tls_state write_plain(std::span<const uint8_t> plaintext, tls_sink& sink) noexcept;

  // Sends close_notify when open (then closing, or closed when the server's
  // close_notify comes); in any other state does nothing. A session answers
  // the server's close_notify by itself.
  tls_state shutdown(tls_sink& sink) noexcept;

  // Frees the connection and returns to closed. A connection that did not
  // fail leaves its session resumable even without close_notify (RFC 5246
  // 7.2.1 and RFC 8446 6.1 no longer tie resumption to a clean close).
  void reset() noexcept;

  tls_state state() const noexcept { return _state; }
  tls_failure failure() const noexcept { return _failure; }
  // A static text naming the failure (OpenSSL's words, ours for local ones); "" when none.
  std::string_view failure_text() const noexcept {
    return _reason == nullptr ? std::string_view() : std::string_view(_reason);
  }
  // Once open: whether the handshake resumed a session, the ALPN protocol the
  // server chose ("" when none) and the version ("TLSv1.3").
  bool resumed() const noexcept;
  std::string_view alpn() const noexcept;
  std::string_view version() const noexcept;

 private:
  friend class tls_context;
  friend struct tls_bio;

  // The BIO method every session's BIO uses; one per context.
  static BIO_METHOD* new_bio_method() noexcept;

  bool begin(tls_context& context) noexcept;
  bool advance_handshake() noexcept;
  void read_records() noexcept;
  void fail_from_openssl(int ssl_error) noexcept;
  void fail(tls_failure failure, const char* reason) noexcept;

  SSL* _ssl = nullptr;
  // The call in progress: where the BIO reads ciphertext and writes to.
  tls_sink* _sink = nullptr;
  const uint8_t* _input = nullptr;
  size_t _input_left = 0;
  const char* _reason = nullptr;
  tls_state _state = tls_state::closed;
  tls_failure _failure = tls_failure::none;
  bool _offered_session = false;
};

static_assert(sizeof(tls_session) <= 48, "a session lives in every connection slot");

}  // namespace horde::proto

#include "proto/tls_session.hh"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace horde::proto {

namespace {

[[noreturn]] void die(const char* what) noexcept {
  std::fprintf(stderr, "horde: bug in tls_session: %s\n", what);
  std::abort();
}

constexpr size_t max_record_plaintext = 16384;  // RFC 8446 5.1, RFC 5246 6.2.1
constexpr size_t max_host_length = 253;         // RFC 1035 2.3.4, as text

// SSL_alert_desc_string_long, with the TLS 1.3 (RFC 8446 6.2) and RFC 7507
// alerts OpenSSL 3.0 calls "unknown".
const char* alert_description(int alert) noexcept {
  switch (alert) {
    case 86:
      return "inappropriate fallback";
    case 109:
      return "missing extension";
    case 116:
      return "certificate required";
    default:
      return SSL_alert_desc_string_long(alert);
  }
}

bool is_ip_literal(const char* host) noexcept {
  unsigned char address[16];
  return inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1;
}

// Points the session's BIO at the sink for one call and back at the caller's
// (if this call is nested inside its on_plaintext) after it.
class sink_scope {
 public:
  sink_scope(tls_sink*& slot, tls_sink& sink) noexcept : _slot(slot), _saved(slot) {
    slot = &sink;
    // SSL_get_error reads the thread's error queue: stale entries from
    // another connection would be taken for this one's.
    ERR_clear_error();
  }
  ~sink_scope() { _slot = _saved; }
  sink_scope(const sink_scope&) = delete;
  sink_scope& operator=(const sink_scope&) = delete;

 private:
  tls_sink*& _slot;
  tls_sink* _saved;
};

}  // namespace

// The session's BIO: one object for both directions, reading the span being
// fed and writing to the sink of the call in progress. Never at EOF (the
// caller learns that from the TCP connection) and never blocked on write.
struct tls_bio {
  static tls_session& session(BIO* bio) noexcept {
    return *static_cast<tls_session*>(BIO_get_data(bio));
  }

  static int write(BIO* bio, const char* data, size_t length, size_t* written) noexcept {
    BIO_clear_retry_flags(bio);
    tls_session& s = session(bio);
    if (s._sink == nullptr) die("OpenSSL wrote outside a call");
    s._sink->write({reinterpret_cast<const uint8_t*>(data), length});
    *written = length;
    return 1;
  }

  static int read(BIO* bio, char* out, size_t length, size_t* read) noexcept {
    BIO_clear_retry_flags(bio);
    tls_session& s = session(bio);
    if (s._input_left == 0) {
      BIO_set_retry_read(bio);
      *read = 0;
      return 0;
    }
    const size_t n = length < s._input_left ? length : s._input_left;
    std::memcpy(out, s._input, n);
    s._input += n;
    s._input_left -= n;
    *read = n;
    return 1;
  }

  static long ctrl(BIO* bio, int command, long, void*) noexcept {
    switch (command) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_PENDING:
        return long(session(bio)._input_left);
      default:
        return 0;  // WPENDING, EOF and the rest: nothing buffered, never at EOF
    }
  }

  static int create(BIO* bio) noexcept {
    BIO_set_init(bio, 1);
    return 1;
  }
};

BIO_METHOD* tls_session::new_bio_method() noexcept {
  BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "horde tls_session");
  if (m == nullptr) return nullptr;
  if (BIO_meth_set_write_ex(m, tls_bio::write) != 1 ||
      BIO_meth_set_read_ex(m, tls_bio::read) != 1 || BIO_meth_set_ctrl(m, tls_bio::ctrl) != 1 ||
      BIO_meth_set_create(m, tls_bio::create) != 1) {
    BIO_meth_free(m);
    return nullptr;
  }
  return m;
}

std::string_view to_string(tls_state state) noexcept {
  switch (state) {
    case tls_state::handshaking:
      return "handshaking";
    case tls_state::open:
      return "open";
    case tls_state::closing:
      return "closing";
    case tls_state::closed:
      return "closed";
    case tls_state::failed:
      return "failed";
  }
  return "?";
}

std::string_view to_string(tls_failure failure) noexcept {
  switch (failure) {
    case tls_failure::none:
      return "none";
    case tls_failure::verify_failed:
      return "verify_failed";
    case tls_failure::peer_alert:
      return "peer_alert";
    case tls_failure::protocol_error:
      return "protocol_error";
    case tls_failure::local:
      return "local";
  }
  return "?";
}

tls_state tls_session::start(tls_context& context, std::string_view host, tls_sink& sink) noexcept {
  reset();
  ERR_clear_error();
  char name[max_host_length + 1];
  if (host.size() > max_host_length || host.find('\0') != host.npos) {
    fail(tls_failure::local, "host name too long or not text");
    return _state;
  }
  std::memcpy(name, host.data(), host.size());
  name[host.size()] = '\0';
  const bool verify = !context._options.insecure;
  if (verify && host.empty()) {
    fail(tls_failure::local, "no host name to verify the certificate against");
    return _state;
  }

  if (context._server) {
    fail(tls_failure::local, "a server context cannot start a client session");
    return _state;
  }
  if (!begin(context)) return _state;
  SSL_set_connect_state(_ssl);

  bool configured = true;
  if (is_ip_literal(name)) {
    // RFC 6066 3: no SNI for an address; the certificate must carry it as an
    // iPAddress name (RFC 6125 appendix B.2).
    if (verify) configured = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(_ssl), name) == 1;
  } else if (!host.empty()) {
    configured = SSL_set_tlsext_host_name(_ssl, name) == 1;
    if (verify && configured) {
      SSL_set_hostflags(_ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      configured = SSL_set1_host(_ssl, name) == 1;
    }
  }
  if (!configured) {
    fail(tls_failure::local, "OpenSSL refused the host name");
    ERR_clear_error();
    return _state;
  }

  if (context._options.resume) {
    const std::string* key = context.intern_host(host);
    SSL_set_app_data(_ssl, const_cast<std::string*>(key));  // read back by on_new_session
    if (SSL_SESSION* cached = key == nullptr ? nullptr : context.take_session(key)) {
      _offered_session = SSL_set_session(_ssl, cached) == 1;
      SSL_SESSION_free(cached);
      if (_offered_session) ++context._counters.resumptions_offered;
    }
  }

  sink_scope scope(_sink, sink);
  advance_handshake();  // writes the ClientHello
  return _state;
}

tls_state tls_session::accept(tls_context& context) noexcept {
  reset();
  ERR_clear_error();
  if (!context._server) {
    fail(tls_failure::local, "a client context cannot accept a session");
    return _state;
  }
  if (begin(context)) SSL_set_accept_state(_ssl);
  return _state;
}

// A new SSL from `context` with our BIO for both directions: handshaking, or
// failed (local) when memory ran out.
bool tls_session::begin(tls_context& context) noexcept {
  _ssl = SSL_new(context._ctx);
  BIO* bio = _ssl == nullptr ? nullptr : BIO_new(context._bio_method);
  if (bio == nullptr) {
    fail(tls_failure::local, "out of memory");
    return false;
  }
  BIO_set_data(bio, this);
  SSL_set_bio(_ssl, bio, bio);  // the SSL takes our one reference, for both directions
  _state = tls_state::handshaking;
  return true;
}

tls_state tls_session::feed(std::span<const uint8_t> ciphertext, tls_sink& sink) noexcept {
  if (_state == tls_state::closed || _state == tls_state::failed) return _state;
  if (_input != nullptr) die("feed called from inside its own sink");
  sink_scope scope(_sink, sink);
  static constexpr uint8_t nothing = 0;  // non-null even for an empty feed: marks "in feed"
  _input = ciphertext.empty() ? &nothing : ciphertext.data();
  _input_left = ciphertext.size();
  if (_state != tls_state::handshaking || advance_handshake()) read_records();
  _input = nullptr;
  _input_left = 0;
  return _state;
}

tls_state tls_session::write_plain(std::span<const uint8_t> plaintext, tls_sink& sink) noexcept {
  if (_state != tls_state::open || plaintext.empty()) return _state;
  sink_scope scope(_sink, sink);
  size_t written = 0;
  // The BIO takes every byte at once, so SSL_write never stops part way.
  if (SSL_write_ex(_ssl, plaintext.data(), plaintext.size(), &written) != 1) {
    fail_from_openssl(SSL_get_error(_ssl, 0));
  }
  return _state;
}

tls_state tls_session::shutdown(tls_sink& sink) noexcept {
  if (_state != tls_state::open) return _state;
  sink_scope scope(_sink, sink);
  const int r = SSL_shutdown(_ssl);
  if (r == 1) {
    _state = tls_state::closed;
  } else if (r == 0) {
    _state = tls_state::closing;
  } else {
    fail_from_openssl(SSL_get_error(_ssl, r));
  }
  return _state;
}

void tls_session::reset() noexcept {
  if (_sink != nullptr) die("reset or start called from inside the session's sink");
  if (_ssl != nullptr) {
    // Without this, SSL_free marks the session not resumable (OpenSSL's
    // ssl_clear_bad_session), and the ticket in the context with it.
    if (_state == tls_state::open || _state == tls_state::closing) {
      SSL_set_shutdown(_ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    }
    SSL_free(_ssl);  // and the BIO
    _ssl = nullptr;
  }
  _input = nullptr;
  _input_left = 0;
  _reason = nullptr;
  _state = tls_state::closed;
  _failure = tls_failure::none;
  _offered_session = false;
}

bool tls_session::resumed() const noexcept {
  return _ssl != nullptr && SSL_session_reused(_ssl) == 1;
}

std::string_view tls_session::alpn() const noexcept {
  if (_ssl == nullptr) return {};
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(_ssl, &data, &length);
  return {reinterpret_cast<const char*>(data), length};
}

std::string_view tls_session::version() const noexcept {
  return _ssl == nullptr ? std::string_view() : std::string_view(SSL_get_version(_ssl));
}

// True when the handshake finished (and the bytes after it are records).
bool tls_session::advance_handshake() noexcept {
  const int r = SSL_do_handshake(_ssl);
  if (r == 1) {
    _state = tls_state::open;
    auto& counters =
        static_cast<tls_context*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(_ssl)))->_counters;
    if (SSL_session_reused(_ssl) == 1) {
      ++counters.resumed_handshakes;
    } else {
      ++counters.full_handshakes;
      if (_offered_session) ++counters.resumptions_declined;
    }
    return true;
  }
  const int error = SSL_get_error(_ssl, r);
  if (error != SSL_ERROR_WANT_READ) fail_from_openssl(error);
  return false;
}

// Decrypts until the input is spent or the session ends. TLS 1.3 tickets and
// key updates are records too: SSL_read handles them (the tickets reach
// on_new_session) and goes on to the next.
void tls_session::read_records() noexcept {
  uint8_t plaintext[max_record_plaintext];
  while (_state == tls_state::open || _state == tls_state::closing) {
    size_t n = 0;
    if (SSL_read_ex(_ssl, plaintext, sizeof plaintext, &n) == 1) {
      _sink->on_plaintext({plaintext, n});
      continue;
    }
    const int error = SSL_get_error(_ssl, 0);
    if (error == SSL_ERROR_WANT_READ) return;
    if (error == SSL_ERROR_ZERO_RETURN) {
      // The server's close_notify: answer it unless ours went already.
      if ((SSL_get_shutdown(_ssl) & SSL_SENT_SHUTDOWN) == 0) SSL_shutdown(_ssl);
      ERR_clear_error();
      _state = tls_state::closed;
      return;
    }
    fail_from_openssl(error);
  }
}

void tls_session::fail(tls_failure failure, const char* reason) noexcept {
  _state = tls_state::failed;
  _failure = failure;
  _reason = reason;
}

// Names what went wrong from SSL_get_error and the error queue, then empties
// the queue. Every reason string is static in OpenSSL (its string tables,
// X509_verify_cert_error_string, SSL_alert_desc_string_long) or here.
void tls_session::fail_from_openssl(int ssl_error) noexcept {
  // OpenSSL queues the low-level cause first ("cipher operation failed") and
  // its TLS-level verdict last ("decryption failed or bad record mac"): the
  // verdict is what a person needs, and what carries a received alert.
  unsigned long first = 0, last_ssl = 0;
  while (const unsigned long e = ERR_get_error()) {
    if (first == 0) first = e;
    if (ERR_GET_LIB(e) == ERR_LIB_SSL) last_ssl = e;
  }
  const unsigned long e = last_ssl != 0 ? last_ssl : first;
  const int reason = ERR_GET_REASON(e);
  const long verify = SSL_get_verify_result(_ssl);
  if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    // close_notify before the handshake ended: the server gave up on us.
    fail(tls_failure::peer_alert, alert_description(SSL_AD_CLOSE_NOTIFY));
  } else if (ssl_error != SSL_ERROR_SSL) {
    fail(tls_failure::local, ssl_error == SSL_ERROR_SYSCALL ? "I/O error in the session's BIO"
                                                            : "unexpected OpenSSL state");
  } else if (verify != X509_V_OK) {
    // Only a verifying context fails on these (insecure never builds a chain).
    fail(tls_failure::verify_failed, X509_verify_cert_error_string(verify));
  } else if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET &&
             reason < SSL_AD_REASON_OFFSET + 256) {
    // OpenSSL records a received alert as SSL_AD_REASON_OFFSET + its description.
    fail(tls_failure::peer_alert, alert_description(reason - SSL_AD_REASON_OFFSET));
  } else if (e == 0) {
    fail(tls_failure::local, "OpenSSL failed without a reason");
  } else {
    const char* text = ERR_reason_error_string(e);
    const bool ours = reason == ERR_R_MALLOC_FAILURE || reason == ERR_R_INTERNAL_ERROR;
    fail(ours ? tls_failure::local : tls_failure::protocol_error,
         text != nullptr ? text : "TLS protocol error");
  }
  ERR_clear_error();
}

}  // namespace horde::proto

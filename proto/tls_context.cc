#include "proto/tls_context.hh"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <ctime>

#include "proto/tls_session.hh"

namespace horde::proto {

namespace {

// Everything on the thread's OpenSSL error queue, oldest first, then empties it.
std::string drain_openssl_errors() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(e, line, sizeof line);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text.empty() ? std::string("no detail from OpenSSL") : text;
}

error_info setup_error(std::string what) {
  return make_error("TLS: " + what + ": " + drain_openssl_errors());
}

int wire_version(tls_version v) {
  return v == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// `insecure`: replaces X509_verify_cert, so no chain is built or checked.
int accept_any_chain(X509_STORE_CTX*, void*) {
  return 1;
}

bool expired(const SSL_SESSION* session, time_t now) {
  return SSL_SESSION_get_time(session) + SSL_SESSION_get_timeout(session) <= now;
}

}  // namespace

result<std::unique_ptr<tls_context>> tls_context::make(const tls_options& o) {
  if (o.min_version > o.max_version) {
    return make_error("TLS: the minimum version is above the maximum");
  }
  if (!o.key_file.empty() && o.cert_file.empty()) {
    return make_error("TLS: a client key was given without a client certificate");
  }
  ERR_clear_error();
  std::unique_ptr<tls_context> c(new tls_context());
  c->_options = o;
  c->_ctx = SSL_CTX_new(TLS_client_method());
  if (c->_ctx == nullptr) return setup_error("SSL_CTX_new failed");
  SSL_CTX* ctx = c->_ctx;
  SSL_CTX_set_app_data(ctx, c.get());

  if (SSL_CTX_set_min_proto_version(ctx, wire_version(o.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, wire_version(o.max_version)) != 1) {
    return setup_error("cannot set the protocol versions");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | (o.resume ? 0 : SSL_OP_NO_TICKET));
  if (o.release_buffers) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

  static constexpr unsigned char alpn[] = "\x08http/1.1";
  if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {  // 0 is success here
    return setup_error("cannot set ALPN");
  }

  if (o.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, accept_any_chain, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (o.ca_file.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        return setup_error("cannot load the system CA store (is ca-certificates installed?)");
      }
    } else if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) {
      return setup_error("cannot load CA file '" + o.ca_file + "'");
    }
  }

  if (!o.cert_file.empty()) {
    const std::string& key = o.key_file.empty() ? o.cert_file : o.key_file;
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
      return setup_error("cannot load client certificate '" + o.cert_file + "'");
    }
    // Also refuses a key that does not match the certificate ("key values mismatch").
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return setup_error("cannot load client key '" + key + "'");
    }
  }

  if (o.resume && o.max_cached_sessions > 0) {
    // NO_INTERNAL_STORE: OpenSSL's own client cache is keyed by session id,
    // which TLS 1.3 tickets lack; ours is keyed by host.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    c->_sessions.reserve(o.max_cached_sessions);
    c->_hosts.reserve(max_hosts);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }

  c->_bio_method = tls_session::new_bio_method();
  if (c->_bio_method == nullptr) return setup_error("cannot create the session BIO method");
  return result<std::unique_ptr<tls_context>>(std::move(c));
}

tls_context::~tls_context() {
  for (const cached_session& s : _sessions)
    SSL_SESSION_free(s.session);
  SSL_CTX_free(_ctx);
  BIO_meth_free(_bio_method);
}

const std::string* tls_context::intern_host(std::string_view host) noexcept {
  for (const std::string& known : _hosts) {
    if (known == host) return &known;
  }
  if (_hosts.size() == max_hosts) return nullptr;
  return &_hosts.emplace_back(host);  // within the reserved capacity: no reallocation
}

SSL_SESSION* tls_context::take_session(const std::string* host) noexcept {
  const time_t now = time(nullptr);
  for (size_t i = _sessions.size(); i-- > 0;) {
    SSL_SESSION* s = _sessions[i].session;
    if (_sessions[i].host != host) continue;
    if (expired(s, now) || SSL_SESSION_is_resumable(s) != 1) {
      SSL_SESSION_free(s);
      _sessions.erase(_sessions.begin() + ptrdiff_t(i));
      continue;
    }
    if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION) {
      _sessions.erase(_sessions.begin() +
                      ptrdiff_t(i));  // single use: the caller gets our reference
    } else {
      SSL_SESSION_up_ref(s);
    }
    return s;
  }
  return nullptr;
}

void tls_context::keep_session(SSL_SESSION* session, const std::string* host) noexcept {
  if (_sessions.size() == _options.max_cached_sessions) {
    SSL_SESSION_free(_sessions.front().session);
    _sessions.erase(_sessions.begin());
  }
  _sessions.push_back({session, host});  // capacity reserved in make()
}

int tls_context::on_new_session(SSL* ssl, SSL_SESSION* session) noexcept {
  auto* c = static_cast<tls_context*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto* host = static_cast<const std::string*>(SSL_get_app_data(ssl));
  ++c->_counters.sessions_received;
  if (host == nullptr || SSL_SESSION_is_resumable(session) != 1) return 0;
  c->keep_session(session, host);
  return 1;
}

}  // namespace horde::proto

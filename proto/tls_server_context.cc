// tls_context::make_server: the reference server's TLS configuration
// (tls_context.hh says what it offers). Kept apart from the client's setup in
// tls_context.cc: they share the class and the session BIO, nothing else.
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "proto/tls_context.hh"
#include "proto/tls_session.hh"

namespace horde::proto {

namespace {

// SSL_CTX_set_tlsext_ticket_keys wants exactly this: key name, HMAC key, AES key.
constexpr size_t ticket_keys_size = 16 + 32 + 32;

std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  const char* text = e != 0 ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return text != nullptr ? text : "no detail from OpenSSL";
}

error_info server_setup_error(const std::string& what) {
  return make_error("TLS server: " + what + ": " + openssl_reason());
}

// ALPN (RFC 7301): http/1.1 when offered; otherwise no ALPN at all rather
// than a fatal no_application_protocol alert, as clients without ALPN expect.
int select_http11(SSL*, const unsigned char** out, unsigned char* out_length,
                  const unsigned char* in, unsigned int in_length, void*) {
  static constexpr unsigned char ours[] = "\x08http/1.1";
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, ours, sizeof ours - 1, in, in_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::vector<uint8_t> make_ticket_keys() {
  std::vector<uint8_t> keys(ticket_keys_size);
  if (RAND_bytes(keys.data(), int(keys.size())) != 1) keys.clear();  // OpenSSL's own keys then
  return keys;
}

result<std::unique_ptr<tls_context>> tls_context::make_server(const tls_server_options& o) {
  if (o.cert_file.empty()) return make_error("TLS server: no certificate file given");
  if (!o.ticket_keys.empty() && o.ticket_keys.size() != ticket_keys_size) {
    return make_error("TLS server: ticket keys must be 80 bytes");
  }
  ERR_clear_error();
  std::unique_ptr<tls_context> c(new tls_context());
  c->_server = true;
  c->_ctx = SSL_CTX_new(TLS_server_method());
  if (c->_ctx == nullptr) return server_setup_error("SSL_CTX_new failed");
  SSL_CTX* ctx = c->_ctx;
  SSL_CTX_set_app_data(ctx, c.get());
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return server_setup_error("cannot set the protocol versions");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  if (o.release_buffers) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  const std::string& key = o.key_file.empty() ? o.cert_file : o.key_file;
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
    return server_setup_error("cannot load certificate '" + o.cert_file + "'");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return server_setup_error("cannot load key '" + key + "'");
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_http11, nullptr);
  // Tickets only: a stateful cache would be a locked table holding every
  // session, per context, for sessions other shards could not resume anyway.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (!o.ticket_keys.empty() &&
      SSL_CTX_set_tlsext_ticket_keys(ctx, const_cast<uint8_t*>(o.ticket_keys.data()),
                                     long(o.ticket_keys.size())) != 1) {
    return server_setup_error("cannot set the ticket keys");
  }
  c->_bio_method = tls_session::new_bio_method();
  if (c->_bio_method == nullptr) return server_setup_error("cannot create the session BIO method");
  return result<std::unique_ptr<tls_context>>(std::move(c));
}

}  // namespace horde::proto

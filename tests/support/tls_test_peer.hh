// TLS test fixtures made at run time with the OpenSSL API, so no key file is
// ever committed: a CA, certificates it signs (server, expired server,
// client), a CA that signed nothing here, and PEM files of them in a fresh
// temporary directory; and an in-memory OpenSSL *server* (SSL_accept side,
// its own memory BIOs) to talk to proto/tls_session. Also used by
// bench/tls_bench.cc.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace horde::test {

struct openssl_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
};
template <class T>
using openssl_ptr = std::unique_ptr<T, openssl_free>;

[[noreturn]] inline void openssl_fatal(const char* what) {
  ERR_print_errors_fp(stderr);
  throw std::runtime_error(std::string("test TLS setup: ") + what);
}

enum class key_kind { ec_p256, rsa_2048 };

inline openssl_ptr<EVP_PKEY> make_key(key_kind kind) {
  EVP_PKEY* key = kind == key_kind::ec_p256
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048));
  if (key == nullptr) openssl_fatal("key generation");
  return openssl_ptr<EVP_PKEY>(key);
}

struct cert_spec {
  std::string common_name;
  std::string subject_alt_names;  // "DNS:localhost,IP:127.0.0.1", or "" for none
  bool ca = false;
  bool client = false;              // extendedKeyUsage clientAuth (else serverAuth)
  long not_before_seconds = -3600;  // from now
  long not_after_seconds = 86400;   // from now
};

// A certificate for `key`, signed by issuer_key (self-signed when issuer is null).
inline openssl_ptr<X509> make_cert(const cert_spec& spec, EVP_PKEY* key, X509* issuer,
                                   EVP_PKEY* issuer_key) {
  static long serial = 1;
  openssl_ptr<X509> cert(X509_new());
  if (!cert) openssl_fatal("X509_new");
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before_seconds);
  X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after_seconds);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("horde tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);

  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &v3, nid, value.c_str());
    if (ext == nullptr || X509_add_ext(x, ext, -1) != 1) openssl_fatal("certificate extension");
    X509_EXTENSION_free(ext);
  };
  add(NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add(NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    add(NID_basic_constraints, "critical,CA:TRUE");
    add(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add(NID_basic_constraints, "critical,CA:FALSE");
    add(NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add(NID_ext_key_usage, spec.client ? "clientAuth" : "serverAuth");
  }
  if (!spec.subject_alt_names.empty()) add(NID_subject_alt_name, spec.subject_alt_names);
  if (X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    openssl_fatal("X509_sign");
  }
  return cert;
}

// A directory under /tmp removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    char pattern[] = "/tmp/horde-tls-XXXXXX";
    if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp");
    _path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(_path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return _path; }

 private:
  std::string _path;
};

inline void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  BIO* out = BIO_new_file(path.c_str(), "w");
  if (out == nullptr) openssl_fatal("BIO_new_file");
  bool ok = true;
  if (cert != nullptr) ok = ok && PEM_write_bio_X509(out, cert) == 1;
  if (key != nullptr) {
    ok = ok && PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  }
  BIO_free(out);
  if (!ok) openssl_fatal("PEM write");
}

// Names the server certificates answer to.
inline constexpr const char* server_names = "DNS:localhost,DNS:horde.test,IP:127.0.0.1,IP:::1";

struct test_pki {
  openssl_ptr<EVP_PKEY> ca_key, server_key, client_key, other_ca_key;
  openssl_ptr<X509> ca_cert, server_cert, expired_server_cert, client_cert, other_ca_cert;
  temp_dir dir;
  std::string ca_file, other_ca_file, client_cert_file, client_key_file, client_combined_file;

  explicit test_pki(key_kind server_key_kind = key_kind::ec_p256) {
    ca_key = make_key(key_kind::ec_p256);
    ca_cert = make_cert({"horde test CA", "", true}, ca_key.get(), nullptr, nullptr);
    server_key = make_key(server_key_kind);
    server_cert =
        make_cert({"localhost", server_names}, server_key.get(), ca_cert.get(), ca_key.get());
    cert_spec expired{"localhost", server_names};
    expired.not_before_seconds = -2 * 86400;
    expired.not_after_seconds = -86400;
    expired_server_cert = make_cert(expired, server_key.get(), ca_cert.get(), ca_key.get());
    client_key = make_key(key_kind::ec_p256);
    cert_spec client{"horde client", "", false, true};
    client_cert = make_cert(client, client_key.get(), ca_cert.get(), ca_key.get());
    other_ca_key = make_key(key_kind::ec_p256);
    other_ca_cert = make_cert({"another test CA", "", true}, other_ca_key.get(), nullptr, nullptr);

    ca_file = dir.path() + "/ca.pem";
    other_ca_file = dir.path() + "/other-ca.pem";
    client_cert_file = dir.path() + "/client.pem";
    client_key_file = dir.path() + "/client-key.pem";
    client_combined_file = dir.path() + "/client-and-key.pem";
    write_pem(ca_file, ca_cert.get(), nullptr);
    write_pem(other_ca_file, other_ca_cert.get(), nullptr);
    write_pem(client_cert_file, client_cert.get(), nullptr);
    write_pem(client_key_file, nullptr, client_key.get());
    write_pem(client_combined_file, client_cert.get(), client_key.get());
  }
};

struct server_options {
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  bool expired_cert = false;
  bool require_client_cert = false;
  bool session_cache = true;  // TLS 1.2 session ids kept by the server
  bool tickets = true;
};

// An OpenSSL server context for the test PKI; accepts ALPN http/1.1.
class tls_test_server {
 public:
  explicit tls_test_server(const test_pki& pki, server_options options = {}) {
    _ctx.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX* ctx = _ctx.get();
    if (ctx == nullptr) openssl_fatal("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, options.min_version);
    SSL_CTX_set_max_proto_version(ctx, options.max_version);
    X509* cert = options.expired_cert ? pki.expired_server_cert.get() : pki.server_cert.get();
    if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, pki.server_key.get()) != 1) {
      openssl_fatal("server certificate");
    }
    if (options.require_client_cert) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), pki.ca_cert.get());
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    if (!options.session_cache) SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (!options.tickets) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("horde"), 5);
    SSL_CTX_set_alpn_select_cb(ctx, select_http11, nullptr);
  }
  SSL_CTX* ctx() const { return _ctx.get(); }

 private:
  // The same choice as proto/tls_server_context.cc makes, written again on
  // purpose: this peer stands apart from the server code it is used to check.
  static int select_http11(SSL*, const unsigned char** out, unsigned char* out_length,
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

  openssl_ptr<SSL_CTX> _ctx;
};

// One accepted connection: ciphertext in with feed(), out with take_output().
class tls_test_conn {
 public:
  explicit tls_test_conn(const tls_test_server& server) {
    _ssl.reset(SSL_new(server.ctx()));
    if (!_ssl) openssl_fatal("SSL_new");
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);  // empty means "want read", not EOF
    SSL_set_bio(_ssl.get(), in, out);
    SSL_set_accept_state(_ssl.get());
  }

  SSL* ssl() const { return _ssl.get(); }
  bool handshake_done() const { return SSL_is_init_finished(_ssl.get()) == 1; }

  // Takes ciphertext from the client and does what it can with it.
  void feed(std::span<const uint8_t> bytes) {
    if (!bytes.empty()) BIO_write(SSL_get_rbio(_ssl.get()), bytes.data(), int(bytes.size()));
    advance();
  }
  void advance() {
    if (failed) return;
    ERR_clear_error();  // the client's errors share this thread's queue
    if (!handshake_done()) {
      const int r = SSL_do_handshake(_ssl.get());
      if (r != 1) {
        note_error(SSL_get_error(_ssl.get(), r));
        return;
      }
    }
    for (;;) {
      char buffer[16384];
      size_t n = 0;
      if (SSL_read_ex(_ssl.get(), buffer, sizeof buffer, &n) == 1) {
        received.append(buffer, n);
        continue;
      }
      const int error = SSL_get_error(_ssl.get(), 0);
      if (error == SSL_ERROR_ZERO_RETURN)
        close_notify_received = true;
      else
        note_error(error);
      return;
    }
  }
  void write(std::string_view plaintext) {
    ERR_clear_error();
    size_t written = 0;
    if (SSL_write_ex(_ssl.get(), plaintext.data(), plaintext.size(), &written) != 1) {
      openssl_fatal("server SSL_write");
    }
  }
  // Sends close_notify; returns SSL_shutdown's answer.
  int shutdown() {
    ERR_clear_error();
    return SSL_shutdown(_ssl.get());
  }

  std::vector<uint8_t> take_output() {
    BIO* out = SSL_get_wbio(_ssl.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(out, &data);
    std::vector<uint8_t> bytes(data, data + n);
    (void)BIO_reset(out);
    return bytes;
  }

  std::string received;
  bool close_notify_received = false;
  bool failed = false;
  std::string error;  // OpenSSL's reason when failed

 private:
  void note_error(int ssl_error) {
    if (ssl_error == SSL_ERROR_WANT_READ) return;
    failed = true;
    const unsigned long e = ERR_peek_error();
    const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
    error = reason != nullptr ? reason : "ssl error " + std::to_string(ssl_error);
    ERR_clear_error();
  }

  openssl_ptr<SSL> _ssl;
};

}  // namespace horde::test

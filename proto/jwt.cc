#include "proto/jwt.hh"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace horde::proto {

// HMAC-SHA256 (RFC 2104) as two SHA-256 states that have already absorbed
// key^ipad and key^opad. Each signature copies them onto the stack: no
// allocation, no lock, and nothing shared is written, so threads need no
// context of their own. The EVP routes in OpenSSL 3.0 were each worse here,
// HMAC alone over a 150-byte input on one core: HMAC() fetches the digest by
// name every call (~0.7M/s); EVP_MAC_CTX_dup of a keyed template allocates
// per call (~1.5-2.3M/s); re-initialising an EVP_MAC_CTX is nearly as fast
// (~3-4M/s) but needs one per thread. The midstates: ~3.5-5M/s. SHA256_CTX
// is deprecated in 3.0, not removed, and runs the same assembly as the
// default provider; should it go, EVP_MAC_CTX_dup is the drop-in.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct jwt_signer::hmac_state {
  SHA256_CTX inner;
  SHA256_CTX outer;
};
#pragma GCC diagnostic pop

namespace {

constexpr char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

error_info key_error(jwt_algorithm algorithm, std::string what) {
  return make_error("JWT " + std::string(jwt_algorithm_name(algorithm)) + ": " + what);
}

// make() signed once with the key already, so only memory can run out here.
[[noreturn]] void signing_failed() {
  std::fprintf(stderr, "horde: proto/jwt.cc: JWT signing failed after the key was accepted: %s\n",
               drain_openssl_errors().c_str());
  std::abort();
}

// PEM_read_bio_PrivateKey's passphrase callback: an encrypted key would
// otherwise make OpenSSL prompt on the terminal in the middle of a run.
int refuse_passphrase(char*, int, int, void*) {
  return -1;
}

bool is_json_integer(std::string_view v) noexcept {
  const size_t digits = v.size() - (v.starts_with('-') ? 1 : 0);
  if (digits == 0) return false;
  const std::string_view d = v.substr(v.size() - digits);
  // "-0" would come back as 0: not the text the user wrote, so it stays a string.
  if (d[0] == '0') return d.size() == 1 && digits == v.size();
  int64_t parsed;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
  return ec == std::errc() && end == v.data() + v.size();
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // bytes copied as they are, appended together
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = uint8_t(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else {
      const char escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      out.append(escape, sizeof escape);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

}  // namespace

result<jwt_algorithm> parse_jwt_algorithm(std::string_view name) {
  if (name == "HS256") return jwt_algorithm::hs256;
  if (name == "RS256") return jwt_algorithm::rs256;
  if (name == "ES256") return jwt_algorithm::es256;
  return make_error("unknown JWT algorithm '" + std::string(name) +
                    "': expected HS256, RS256 or ES256");
}

std::string_view jwt_algorithm_name(jwt_algorithm algorithm) noexcept {
  switch (algorithm) {
    case jwt_algorithm::hs256:
      return "HS256";
    case jwt_algorithm::rs256:
      return "RS256";
    case jwt_algorithm::es256:
      return "ES256";
  }
  return "?";
}

void encode_claims(std::string& out, std::span<const jwt_claim_view> claims) {
  out += '{';
  for (size_t i = 0; i < claims.size(); ++i) {
    const jwt_claim_view& c = claims[i];
    if (i > 0) out += ',';
    append_json_string(out, c.name);
    out += ':';
    const bool literal = c.type == jwt_value_type::infer &&
                         (c.value == "true" || c.value == "false" || is_json_integer(c.value));
    if (literal) {
      out += c.value;
    } else {
      append_json_string(out, c.value);
    }
  }
  out += '}';
}

void base64url_encode(const uint8_t* in, size_t n, char* out) noexcept {
  const char* a = base64url_alphabet;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8 | in[i + 2];
    *out++ = a[v >> 18];
    *out++ = a[(v >> 12) & 63];
    *out++ = a[(v >> 6) & 63];
    *out++ = a[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t(in[i]) << 16;
    *out++ = a[v >> 18];
    *out++ = a[(v >> 12) & 63];
  } else if (n - i == 2) {
    const uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8;
    *out++ = a[v >> 18];
    *out++ = a[(v >> 12) & 63];
    *out++ = a[(v >> 6) & 63];
  }
}

void base64url_append(std::string& out, std::string_view bytes) {
  const size_t at = out.size();
  out.resize(at + base64url_length(bytes.size()));
  base64url_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out.data() + at);
}

result<jwt_signer> jwt_signer::make(jwt_algorithm algorithm, std::string_view secret_or_pem) {
  jwt_signer s;
  s._algorithm = algorithm;
  base64url_append(
      s._header, R"({"alg":")" + std::string(jwt_algorithm_name(algorithm)) + R"(","typ":"JWT"})");

  if (algorithm == jwt_algorithm::hs256) {
    // Empty is refused: it is nearly always an unset variable, and a server
    // would answer every connection with 401. RFC 7518 3.2 asks for 32 bytes
    // or more, but the server's secret is what it is, so shorter is accepted.
    if (secret_or_pem.empty()) return key_error(algorithm, "the secret is empty");
    uint8_t key[SHA256_CBLOCK] = {};  // zero-padded to the block (RFC 2104 2)
    if (secret_or_pem.size() > sizeof key) {
      SHA256(reinterpret_cast<const uint8_t*>(secret_or_pem.data()), secret_or_pem.size(), key);
    } else {
      std::memcpy(key, secret_or_pem.data(), secret_or_pem.size());
    }
    uint8_t ipad[SHA256_CBLOCK], opad[SHA256_CBLOCK];
    for (size_t i = 0; i < sizeof key; ++i) {
      ipad[i] = key[i] ^ 0x36;
      opad[i] = key[i] ^ 0x5c;
    }
    auto state = std::make_shared<hmac_state>();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    SHA256_Init(&state->inner);
    SHA256_Update(&state->inner, ipad, sizeof ipad);
    SHA256_Init(&state->outer);
    SHA256_Update(&state->outer, opad, sizeof opad);
#pragma GCC diagnostic pop
    s._hmac = std::move(state);
    return s;
  }

  if (secret_or_pem.empty()) return key_error(algorithm, "the PEM text is empty");
  ERR_clear_error();
  BIO* bio = BIO_new_mem_buf(secret_or_pem.data(), int(secret_or_pem.size()));
  if (bio == nullptr) return key_error(algorithm, "BIO_new_mem_buf: " + drain_openssl_errors());
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio, nullptr, refuse_passphrase, nullptr);
  BIO_free(bio);
  if (raw == nullptr) {
    return key_error(algorithm,
                     "no usable private key in the PEM text (expected an unencrypted "
                     "'-----BEGIN PRIVATE KEY-----' block): " +
                         drain_openssl_errors());
  }
  s._key = std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);

  if (algorithm == jwt_algorithm::rs256) {
    if (!EVP_PKEY_is_a(raw, "RSA")) {
      return key_error(algorithm,
                       std::string("the key is ") + EVP_PKEY_get0_type_name(raw) + ", not RSA");
    }
    const int bits = EVP_PKEY_get_bits(raw);
    // RFC 7518 3.3: "a key of size 2048 bits or larger MUST be used".
    if (bits < 2048) {
      return key_error(algorithm, "the RSA key has " + std::to_string(bits) +
                                      " bits; RS256 needs 2048 or more (RFC 7518 3.3)");
    }
    // The signature is built on the stack (sign_pkey); 8192 bits is already
    // far past what any server asks for.
    if (bits > 8192) {
      return key_error(algorithm, "the RSA key has " + std::to_string(bits) +
                                      " bits; at most 8192 are supported");
    }
  } else {
    if (!EVP_PKEY_is_a(raw, "EC")) {
      return key_error(algorithm, std::string("the key is ") + EVP_PKEY_get0_type_name(raw) +
                                      ", not EC (P-256)");
    }
    char group[64] = {};
    size_t group_length = 0;
    if (EVP_PKEY_get_group_name(raw, group, sizeof group, &group_length) != 1) {
      return key_error(algorithm, "cannot read the EC key's curve: " + drain_openssl_errors());
    }
    // ES256 is ECDSA over P-256 only (RFC 7518 3.4); OpenSSL names it prime256v1.
    if (std::string_view(group) != SN_X9_62_prime256v1) {
      return key_error(algorithm, "the EC key is on curve " + std::string(group) +
                                      "; ES256 needs P-256 (prime256v1)");
    }
  }
  s._max_signature = size_t(EVP_PKEY_get_size(raw));
  // One signature now: a key OpenSSL cannot sign with fails here, with a
  // message, instead of aborting mid-run; and the key's provider cache is
  // filled before threads share it.
  std::string probe(s._header);
  if (!s.sign_pkey(probe, 0)) {
    return key_error(algorithm, "OpenSSL cannot sign with this key: " + drain_openssl_errors());
  }
  return s;
}

void jwt_signer::sign(std::string& out, std::string_view claims_json) const {
  const size_t from = out.size();
  out.reserve(from + _header.size() + 2 + base64url_length(claims_json.size()) +
              base64url_length(_max_signature > 32 ? _max_signature : 32));
  out += _header;
  out += '.';
  base64url_append(out, claims_json);
  if (_algorithm == jwt_algorithm::hs256) {
    sign_hs256(out, from);
  } else {
    if (!sign_pkey(out, from)) signing_failed();
  }
}

std::string jwt_signer::sign(std::string_view claims_json) const {
  std::string token;
  sign(token, claims_json);
  return token;
}

// out[from..] is the signing input (header.claims); both append .signature.
void jwt_signer::sign_hs256(std::string& out, size_t from) const {
  uint8_t mac[SHA256_DIGEST_LENGTH];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  SHA256_CTX h = _hmac->inner;
  SHA256_Update(&h, out.data() + from, out.size() - from);
  SHA256_Final(mac, &h);
  h = _hmac->outer;
  SHA256_Update(&h, mac, sizeof mac);
  SHA256_Final(mac, &h);
#pragma GCC diagnostic pop
  char encoded[base64url_length(sizeof mac)];
  base64url_encode(mac, sizeof mac, encoded);
  out += '.';
  out.append(encoded, sizeof encoded);
}

bool jwt_signer::sign_pkey(std::string& out, size_t from) const {
  // A context per call over the shared key: EVP_PKEY is safe to sign with
  // from several threads at once, an EVP_MD_CTX is not.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  uint8_t der[8192 / 8];  // RSA: the modulus size; ECDSA: a DER Ecdsa-Sig-Value, 72 at most
  size_t length = sizeof der;
  const bool signed_ok =
      ctx != nullptr &&
      EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, _key.get(), nullptr) == 1 &&
      EVP_DigestSign(ctx, der, &length, reinterpret_cast<const uint8_t*>(out.data() + from),
                     out.size() - from) == 1;
  EVP_MD_CTX_free(ctx);
  if (!signed_ok) return false;
  if (_algorithm == jwt_algorithm::rs256) {
    out += '.';
    base64url_append(out, std::string_view(reinterpret_cast<const char*>(der), length));
    return true;
  }
  // JOSE wants R and S as two 32-byte big-endian integers (RFC 7518 3.4);
  // OpenSSL gives DER, where each is minimal and may carry a sign byte.
  const uint8_t* p = der;
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, long(length));
  if (sig == nullptr) return false;
  uint8_t raw[64];
  const bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
                  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  if (!ok) return false;
  char encoded[base64url_length(sizeof raw)];
  base64url_encode(raw, sizeof raw, encoded);
  out += '.';
  out.append(encoded, sizeof encoded);
  return true;
}

}  // namespace horde::proto

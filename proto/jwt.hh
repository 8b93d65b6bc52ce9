// Local JWT minting (RFC 7519, JWS compact serialization RFC 7515 7.1) for
// servers that authenticate each connection with a bearer token: the client
// mints one token per connection instead of replaying a single captured one,
// so per-token state on the server (revocation lists, jti caches, expiry) is
// exercised as real clients would.
//
// I/O-free: the key arrives as bytes (HS256) or PEM text (RS256, ES256); the
// caller reads files. A jwt_signer is made once per run and shared by every
// shard thread: sign() is const and safe to call concurrently (HS256 copies
// precomputed HMAC states onto the stack; RS256 and ES256 use a fresh
// EVP_MD_CTX per call over the shared, reference-counted EVP_PKEY, which
// openssl-threads(7) allows: an object nobody modifies may be shared, and
// threads sign through contexts of their own).
#pragma once

#include <openssl/types.h>  // EVP_PKEY

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hh"

namespace horde::proto {

enum class jwt_algorithm : uint8_t { hs256, rs256, es256 };

// "HS256", "RS256" or "ES256" (case-sensitive, as in the JOSE header).
result<jwt_algorithm> parse_jwt_algorithm(std::string_view name);
std::string_view jwt_algorithm_name(jwt_algorithm algorithm) noexcept;

// How a claim's value is written into the claims object.
enum class jwt_value_type : uint8_t {
  // A decimal integer that fits int64 (optional '-', no leading zeros) is a
  // JSON number, "true"/"false" are booleans, anything else a string. So a
  // template's "{now+3600}" becomes the number `exp` must be (RFC 7519 4.1.4).
  infer,
  // Always a JSON string: for ids that merely look numeric (`sub`, `jti`).
  string,
};

// One claim as a template renders it: views into the caller's buffers, so a
// claims object is built per connection without allocating beyond `out`.
struct jwt_claim_view {
  std::string_view name;
  std::string_view value;
  jwt_value_type type = jwt_value_type::infer;
};

// The owning form, for claims parsed from the command line or a plan.
struct jwt_claim {
  std::string name;
  std::string value;
  jwt_value_type type = jwt_value_type::infer;

  operator jwt_claim_view() const noexcept { return {name, value, type}; }
};

// Appends the JSON object {"name":value,...} in the given order. Names and
// string values are escaped (quote, backslash, bytes below 0x20 as \u00XX);
// other bytes are copied, so non-ASCII text must already be UTF-8.
void encode_claims(std::string& out, std::span<const jwt_claim_view> claims);

// base64url without padding (RFC 7515 2, RFC 4648 5).
constexpr size_t base64url_length(size_t n) noexcept {
  return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}
// out must hold base64url_length(n) characters.
void base64url_encode(const uint8_t* in, size_t n, char* out) noexcept;
void base64url_append(std::string& out, std::string_view bytes);

class jwt_signer {
 public:
  // HS256: `secret_or_pem` is the shared secret's bytes (not empty).
  // RS256: a PEM RSA private key ("BEGIN PRIVATE KEY" or "BEGIN RSA PRIVATE
  // KEY"), 2048 to 8192 bits. ES256: a PEM P-256 EC private key. Encrypted
  // PEM is refused (nobody is there to type a passphrase). Cold path: the
  // error names what was wrong and OpenSSL's reason.
  static result<jwt_signer> make(jwt_algorithm algorithm, std::string_view secret_or_pem);

  jwt_algorithm algorithm() const noexcept { return _algorithm; }
  // base64url of {"alg":"...","typ":"JWT"}: every token's first segment.
  std::string_view encoded_header() const noexcept { return _header; }

  // Appends header.claims.signature, each base64url; `claims_json` is used as
  // given (encode_claims makes one). ES256 signatures are JOSE's raw R||S
  // (RFC 7518 3.4), not DER. Thread-safe. A signing failure after make()
  // accepted the key can only be OpenSSL running out of memory: it aborts.
  void sign(std::string& out, std::string_view claims_json) const;
  std::string sign(std::string_view claims_json) const;

 private:
  struct hmac_state;  // jwt.cc: keeps OpenSSL's deprecated SHA256_CTX out of this header

  jwt_signer() = default;
  void sign_hs256(std::string& out, size_t from) const;
  // false: OpenSSL refused (its error queue says why); out is then unchanged past the input.
  bool sign_pkey(std::string& out, size_t from) const;

  // Both shared, read-only after make(), by every copy and thread.
  std::shared_ptr<const hmac_state> _hmac;  // HS256
  std::shared_ptr<EVP_PKEY> _key;           // RS256, ES256
  size_t _max_signature = 0;                // EVP_PKEY_get_size: DER ECDSA or the RSA modulus
  std::string _header;
  jwt_algorithm _algorithm = jwt_algorithm::hs256;
};

}  // namespace horde::proto

#include "proto/jwt_verify.hh"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

#include "proto/jwt.hh"

namespace horde::proto {
namespace {

// The value of a base64url character, or -1.
int sextet(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// exp as written: an integer or a decimal (RFC 7519 2, NumericDate).
bool numeric_date(std::string_view text, double& out) noexcept {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string_view to_string(jwt_check check) noexcept {
  switch (check) {
    case jwt_check::ok:
      return "ok";
    case jwt_check::malformed:
      return "malformed";
    case jwt_check::bad_algorithm:
      return "bad_algorithm";
    case jwt_check::bad_signature:
      return "bad_signature";
    case jwt_check::expired:
      return "expired";
    case jwt_check::no_expiry:
      return "no_expiry";
  }
  return "unknown";
}

bool base64url_decode(std::string_view in, std::string& out) {
  if (in.size() % 4 == 1) return false;
  uint32_t bits = 0;
  int held = 0;
  for (char c : in) {
    const int v = sextet(c);
    if (v < 0) return false;
    bits = (bits << 6) | uint32_t(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out += char((bits >> held) & 0xff);
    }
  }
  // What is left over must be the zero padding bits of the last character.
  return (bits & ((1u << held) - 1)) == 0;
}

result<hs256_verifier> hs256_verifier::make(std::string_view secret) {
  if (secret.empty()) return make_error("JWT HS256: the secret is empty");
  hs256_verifier v;
  v._secret.assign(secret);
  auto alg = json_pointer::parse("/alg");
  auto exp = json_pointer::parse("/exp");
  if (!alg || !exp) return make_error("JWT HS256: cannot compile the claim pointers");
  v._alg = std::move(*alg);
  v._exp = std::move(*exp);
  return v;
}

jwt_check hs256_verifier::check(std::string_view token, int64_t now_s, json_reader& json,
                                std::string& claims) const {
  claims.clear();
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return jwt_check::malformed;
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return jwt_check::malformed;
  }
  const std::string_view header64 = token.substr(0, first);
  const std::string_view claims64 = token.substr(first + 1, second - first - 1);
  const std::string_view signature64 = token.substr(second + 1);
  if (header64.empty() || claims64.empty()) return jwt_check::malformed;

  // The header first: nothing else is trusted until it names HS256.
  std::string header;
  if (!base64url_decode(header64, header)) return jwt_check::malformed;
  const json_scalar alg = json.get(header, _alg);
  if (alg.kind == json_value_kind::invalid_json) return jwt_check::malformed;
  if (alg.kind != json_value_kind::string || alg.text != "HS256") return jwt_check::bad_algorithm;
  if (!base64url_decode(claims64, claims)) return jwt_check::malformed;

  // HMAC-SHA256 over "header.claims" as sent, compared as base64url text:
  // 32 bytes encode one way only (the 43rd character's low bits are zero).
  uint8_t mac[32];
  unsigned mac_length = 0;
  if (HMAC(EVP_sha256(), _secret.data(), int(_secret.size()),
           reinterpret_cast<const uint8_t*>(token.data()), second, mac, &mac_length) == nullptr ||
      mac_length != sizeof mac) {
    return jwt_check::bad_signature;
  }
  char expected[base64url_length(sizeof mac)];
  base64url_encode(mac, sizeof mac, expected);
  if (signature64.size() != sizeof expected ||
      CRYPTO_memcmp(expected, signature64.data(), sizeof expected) != 0) {
    return jwt_check::bad_signature;
  }

  const json_scalar exp = json.get(claims, _exp);
  if (exp.kind == json_value_kind::invalid_json) return jwt_check::malformed;
  double when = 0;
  if (exp.kind != json_value_kind::number || !numeric_date(exp.text, when)) {
    return jwt_check::no_expiry;
  }
  // RFC 7519 4.1.4: the token must not be accepted on or after exp.
  if (!(when > double(now_s))) return jwt_check::expired;
  return jwt_check::ok;
}

}  // namespace horde::proto

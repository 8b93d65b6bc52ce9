// Checking HS256 JWTs (RFC 7519 7.2, JWS compact serialization RFC 7515
// 5.2) on the server side of horde's reference server: the signature is
// recomputed with the shared secret and compared in constant time, the
// header must name HS256 (so "alg":"none" and RS256-with-the-secret-as-key
// tricks are refused before any signature is looked at), and exp must be in
// the future.
//
// I/O-free and allocation-light: the caller hands in a json_reader and a
// buffer for the decoded claims (one of each per shard thread), so check()
// is const and a verifier is shared by every shard.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hh"
#include "proto/json_fields.hh"

namespace horde::proto {

enum class jwt_check : uint8_t {
  ok,
  malformed,      // not three base64url segments, or a header or claims that are not JSON objects
  bad_algorithm,  // the header's alg is not "HS256"
  bad_signature,  // not this secret's signature over header.claims
  expired,        // exp is not after now
  no_expiry,      // no numeric exp claim: a token that never expires is refused
};

std::string_view to_string(jwt_check check) noexcept;

// Appends the bytes of base64url text without padding (RFC 4648 5); false
// (out then holds a partial result) on a character outside the alphabet, a
// length that no encoding has (n % 4 == 1) or non-zero trailing bits.
bool base64url_decode(std::string_view in, std::string& out);

class hs256_verifier {
 public:
  // `secret`: the shared key's bytes (not empty).
  static result<hs256_verifier> make(std::string_view secret);

  // ok: `token` carries this secret's HS256 signature and an exp after
  // now_s. claims gets the decoded claims object (JSON) whatever the result
  // once the token splits into segments, so the caller can read more claims
  // with `json`.
  jwt_check check(std::string_view token, int64_t now_s, json_reader& json,
                  std::string& claims) const;

 private:
  hs256_verifier() = default;

  std::string _secret;
  json_pointer _alg, _exp;
};

}  // namespace horde::proto

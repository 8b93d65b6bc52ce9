// The session service of `horde serve --sessions SECRET`, I/O-free: which
// requests it answers, the 201 it answers POST /sessions with (a session id
// and an HS256 JWT for it), and whether an upgrade's Authorization header
// carries a token this server issued, still valid, for the session its path
// names. The shard (core/server_shard.cc) reads the request and sends.
//
// One issuer per shard thread: it keeps a JSON reader and scratch buffers
// reused for every request, so answering allocates nothing after the first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hh"
#include "proto/json_fields.hh"
#include "proto/jwt.hh"
#include "proto/jwt_verify.hh"

namespace horde::proto {

// What the session service does with a complete request.
enum class session_route : uint8_t {
  issue,      // POST /sessions (a query string allowed): 201 with a new session
  upgrade,    // GET: the WebSocket upgrade, which needs a Bearer token
  not_found,  // anything else: 404, and the connection closes
};

session_route route_session_request(std::string_view method, std::string_view path) noexcept;

enum class session_auth : uint8_t {
  ok,
  missing,        // no "Authorization: Bearer <token>"
  malformed,      // the token is not a JWT
  bad_algorithm,  // not HS256
  bad_signature,  // not signed with this server's secret
  expired,        // exp passed, or no exp
  wrong_session,  // the path is /ws/<sid> and the token is for another sid
};

std::string_view to_string(session_auth auth) noexcept;

class session_issuer {
 public:
  // Tokens live `lifetime_s` seconds from their issue (exp = now + lifetime).
  static result<session_issuer> make(std::string_view secret, int64_t lifetime_s = 3600);

  // Appends the whole 201 answer for session `session_id` ("s17") issued at
  // now_s (Unix seconds): Content-Type application/json, Connection
  // keep-alive (or close), body {"session_id":"s17","token":"<JWT>"} with
  // claims sub and sid = the id, exp = now_s + lifetime. The id must need no
  // JSON escaping (the shard makes "s" and digits).
  void issue(std::string& out, std::string_view session_id, int64_t now_s, bool keep_alive);

  // `authorization` is the header's value ("" when absent); `path` the
  // request target. ok when it is "Bearer <JWT>" (the scheme in any case,
  // RFC 9110 11.1) that hs256_verifier accepts at now_s and, when the path
  // is /ws/<sid>[/...|?...], whose sid claim is that sid.
  session_auth authorize(std::string_view authorization, std::string_view path, int64_t now_s);

 private:
  session_issuer(jwt_signer signer, hs256_verifier verifier, json_pointer sid, int64_t lifetime)
      : _signer(std::move(signer)),
        _verifier(std::move(verifier)),
        _sid(std::move(sid)),
        _lifetime(lifetime) {}

  jwt_signer _signer;
  hs256_verifier _verifier;
  json_pointer _sid;
  int64_t _lifetime;
  json_reader _json;
  std::string _claims, _token, _body, _exp;  // scratch, reused
};

}  // namespace horde::proto

#include "proto/session_issuer.hh"

#include "proto/http_token.hh"
#include "proto/upgrade_server.hh"

namespace horde::proto {

session_route route_session_request(std::string_view method, std::string_view path) noexcept {
  if (method == "GET") return session_route::upgrade;
  const std::string_view resource = path.substr(0, path.find('?'));
  if (method == "POST" && resource == "/sessions") return session_route::issue;
  return session_route::not_found;
}

std::string_view to_string(session_auth auth) noexcept {
  switch (auth) {
    case session_auth::ok:
      return "ok";
    case session_auth::missing:
      return "missing";
    case session_auth::malformed:
      return "malformed";
    case session_auth::bad_algorithm:
      return "bad_algorithm";
    case session_auth::bad_signature:
      return "bad_signature";
    case session_auth::expired:
      return "expired";
    case session_auth::wrong_session:
      return "wrong_session";
  }
  return "unknown";
}

result<session_issuer> session_issuer::make(std::string_view secret, int64_t lifetime_s) {
  auto signer = jwt_signer::make(jwt_algorithm::hs256, secret);
  if (!signer) return signer.error();
  auto verifier = hs256_verifier::make(secret);
  if (!verifier) return verifier.error();
  auto sid = json_pointer::parse("/sid");
  if (!sid) return sid.error();
  return session_issuer(std::move(*signer), std::move(*verifier), std::move(*sid), lifetime_s);
}

void session_issuer::issue(std::string& out, std::string_view session_id, int64_t now_s,
                           bool keep_alive) {
  _exp = std::to_string(now_s + _lifetime);
  const jwt_claim_view claims[] = {{"sub", session_id, jwt_value_type::string},
                                   {"sid", session_id, jwt_value_type::string},
                                   {"exp", _exp, jwt_value_type::infer}};
  _claims.clear();
  encode_claims(_claims, claims);
  _token.clear();
  _signer.sign(_token, _claims);
  _body = "{\"session_id\":\"";
  _body += session_id;
  _body += "\",\"token\":\"";
  _body += _token;
  _body += "\"}";
  append_response(out, 201, "Created", "application/json", _body, keep_alive);
}

session_auth session_issuer::authorize(std::string_view authorization, std::string_view path,
                                       int64_t now_s) {
  authorization = trim_spaces(authorization);
  const size_t space = authorization.find(' ');
  if (space == std::string_view::npos ||
      !equals_ignore_case(authorization.substr(0, space), "bearer")) {
    return session_auth::missing;
  }
  const std::string_view token = trim_spaces(authorization.substr(space + 1));
  switch (_verifier.check(token, now_s, _json, _claims)) {
    case jwt_check::ok:
      break;
    case jwt_check::malformed:
      return session_auth::malformed;
    case jwt_check::bad_algorithm:
      return session_auth::bad_algorithm;
    case jwt_check::bad_signature:
      return session_auth::bad_signature;
    case jwt_check::expired:
    case jwt_check::no_expiry:
      return session_auth::expired;
  }
  constexpr std::string_view prefix = "/ws/";
  if (!path.starts_with(prefix)) return session_auth::ok;
  std::string_view sid = path.substr(prefix.size());
  sid = sid.substr(0, sid.find_first_of("/?"));
  const json_scalar claimed = _json.get(_claims, _sid);
  if (claimed.kind != json_value_kind::string || claimed.text != sid) {
    return session_auth::wrong_session;
  }
  return session_auth::ok;
}

}  // namespace horde::proto

// Secrets a user passes to horde (Authorization and Cookie header values,
// JWTs in a URL or a header) stay out of the report, the JSON and the logs
// unless --show-secrets: results are shared, pasted into tickets and kept.
#pragma once

#include <string>
#include <string_view>

namespace horde::app {

// True for headers whose value is a credential (Authorization,
// Proxy-Authorization, Cookie, Set-Cookie; any case).
bool is_secret_header(std::string_view name) noexcept;

// The value with its credential hidden: a scheme word ("Bearer", "Basic") is
// kept, the rest becomes "[redacted]".
std::string redact_header_value(std::string_view name, std::string_view value);

// The text with every JWT-shaped token (three base64url parts, the first
// starting "eyJ") replaced by "eyJ...[redacted]", and every query parameter
// named token, access_token, jwt, auth, password or key given "[redacted]".
std::string redact_text(std::string_view text);

}  // namespace horde::app

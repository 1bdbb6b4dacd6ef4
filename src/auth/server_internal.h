// Internal to src/auth/: what the authorization server's files share.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_server.h"

namespace vesta::auth::internal {

// client_assertion_type of a private_key_jwt client assertion (RFC 7523 §2.2).
inline constexpr std::string_view kJwtBearer =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// https://www.rfc-editor.org/rfc/rfc6749#section-5.2: an error of the token endpoint.
AuthAnswer OAuthError(int status, std::string_view error, std::string_view description);

// application/x-www-form-urlencoded (also a query string; base/strings.h, ParseFormPairs) as a
// map: the first of a repeated name kept (RFC 6749 §3.2 allows no repeats); nullopt on a bad
// %-escape.
std::optional<std::map<std::string, std::string>> ParseForm(std::string_view body);

// The value of `name` in `form`, or "".
std::string FormValue(const std::map<std::string, std::string>& form, const char* name);

// `items` as a JSON array of strings appended to `out`.
void AppendStrings(std::string* out, const std::vector<std::string>& items);

// The value of cookie `name` in the Cookie header, or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace vesta::auth::internal

// Internal to src/auth/: what the authorization server's files share.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_server.h"

namespace vesta::auth::internal {

// https://www.rfc-editor.org/rfc/rfc6749#section-5.2: an error of the token endpoint.
AuthAnswer OAuthError(int status, std::string_view error, std::string_view description);

// application/x-www-form-urlencoded (also a query string): name=value pairs, the first of a
// repeated name kept; nullopt on a bad %-escape.
std::optional<std::map<std::string, std::string>> ParseForm(std::string_view body);

// The value of `name` in `form`, or "".
std::string FormValue(const std::map<std::string, std::string>& form, const char* name);

// `items` as a JSON array of strings appended to `out`.
void AppendStrings(std::string* out, const std::vector<std::string>& items);

// `text` with &, <, >, " and ' escaped for HTML.
std::string Html(std::string_view text);

// `text` percent-encoded for a URL query value (RFC 3986 unreserved characters kept).
std::string UrlEncode(std::string_view text);

// The value of cookie `name` in the Cookie header, or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace vesta::auth::internal

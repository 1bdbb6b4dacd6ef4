// base64url without padding, as JOSE uses it (RFC 7515 §2, "Base64url Encoding"):
// https://www.rfc-editor.org/rfc/rfc4648#section-5 with the trailing '=' omitted.
//
//   std::string s = Base64UrlEncode("\xfb\xff");        // "-_8"
//   ASSIGN_OR_RETURN(std::string bytes, Base64UrlDecode(s));
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace vesta::crypto {

// `bytes` in the URL-safe alphabet ('-' and '_'), without '=' padding.
std::string Base64UrlEncode(std::string_view bytes);

// The bytes that `text` encodes. Strict, since a token has one spelling: only the URL-safe
// alphabet (no '+', '/', '=', whitespace), no length of the form 4k+1, and the unused low bits of
// the last character zero (RFC 4648 §3.5, "canonical encoding"). kInvalid otherwise.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace vesta::crypto

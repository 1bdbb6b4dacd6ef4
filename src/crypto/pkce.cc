#include "crypto/pkce.h"

#include "crypto/base64url.h"
#include "crypto/digest.h"

namespace vesta::crypto {
namespace {

// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
// https://www.rfc-editor.org/rfc/rfc7636#section-4.1
bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string PkceS256Challenge(std::string_view verifier) {
  return Base64UrlEncode(Sha256(verifier));
}

Status CheckPkceS256(std::string_view verifier, std::string_view challenge) {
  // "code-verifier = 43*128unreserved"
  if (verifier.size() < 43 || verifier.size() > 128) {
    return Invalid("code_verifier must be 43 to 128 characters long (RFC 7636 section 4.1), not " +
                   std::to_string(verifier.size()));
  }
  for (char c : verifier) {
    if (!IsUnreserved(c)) {
      return Invalid(
          "code_verifier may hold only the unreserved characters A-Z a-z 0-9 - . _ ~ (RFC 7636 "
          "section 4.1)");
    }
  }
  // "If the "code_challenge_method" from Section 4.3 was "S256", the received "code_verifier" is
  // hashed by SHA-256, base64url-encoded, and then compared to the "code_challenge", i.e.:
  // BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge" (section 4.6)
  if (!ConstantTimeEqual(PkceS256Challenge(verifier), challenge)) {
    return Invalid("code_verifier does not match the code_challenge");
  }
  return Status::Ok();
}

}  // namespace vesta::crypto

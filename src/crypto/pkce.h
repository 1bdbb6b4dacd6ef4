// PKCE, Proof Key for Code Exchange (RFC 7636), S256 method only: SMART App Launch requires it
// and forbids "plain" (https://hl7.org/fhir/smart-app-launch/app-launch.html#step-1).
//
//   RETURN_IF_ERROR(CheckPkceS256(verifier_from_token_request, challenge_from_authorize));
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace vesta::crypto {

// The S256 code_challenge of `verifier`: BASE64URL(SHA256(ASCII(code_verifier)))
// (https://www.rfc-editor.org/rfc/rfc7636#section-4.2). Does not check the verifier's form.
std::string PkceS256Challenge(std::string_view verifier);

// OK when `verifier` is a well-formed code_verifier (43 to 128 characters of
// [A-Za-z0-9-._~], https://www.rfc-editor.org/rfc/rfc7636#section-4.1) whose S256 challenge is
// `challenge` (https://www.rfc-editor.org/rfc/rfc7636#section-4.6), compared in constant time.
// kInvalid otherwise, saying which.
Status CheckPkceS256(std::string_view verifier, std::string_view challenge);

}  // namespace vesta::crypto

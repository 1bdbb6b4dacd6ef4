// The registered claims of a JWT (https://www.rfc-editor.org/rfc/rfc7519#section-4.1), read once
// so that callers do not parse them again. Nothing is validated against a clock or an audience
// here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "json/value.h"

namespace vesta::crypto {

struct JwtClaims {
  std::optional<std::string> iss;
  std::optional<std::string> sub;
  // "aud": a single string or an array of strings (RFC 7519 §4.1.3); empty when absent.
  std::vector<std::string> aud;
  // NumericDates, seconds since the epoch (RFC 7519 §2; a fraction is dropped).
  std::optional<int64_t> exp;
  std::optional<int64_t> nbf;
  std::optional<int64_t> iat;
  std::optional<std::string> jti;
};

// The registered claims of `payload`, a JWT claims set. kInvalid when it is not an object, or a
// claim present has the wrong type (iss, sub, jti not strings; aud not a string or an array of
// strings; exp, nbf, iat not numbers or out of range). Other claims are left to the caller.
Result<JwtClaims> ReadJwtClaims(const json::Value& payload);

// The "iss" of the compact JWT `token`, read WITHOUT checking its signature: only to find the
// keys it must then be verified with (a client assertion names its client), or to record who
// claims to be asking. "" when the token cannot be read.
std::string UnverifiedIssuer(std::string_view token);

}  // namespace vesta::crypto

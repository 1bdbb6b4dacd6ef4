// JSON Web Signatures in the compact serialization
// (https://www.rfc-editor.org/rfc/rfc7515#section-7.1) and JSON Web Tokens
// (https://www.rfc-editor.org/rfc/rfc7519): the server signs its tokens and checks clients' signed
// assertions.
//
//   ASSIGN_OR_RETURN(std::string token, SignJwt(key, R"({"iss":"...","exp":1767225600})"));
//
//   ASSIGN_OR_RETURN(VerifiedJws jws, VerifyJws(token, client_keys, {JwsAlgorithm::kES384,
//                                                                    JwsAlgorithm::kRS384}));
//   ASSIGN_OR_RETURN(JwtClaims claims, ReadJwtClaims(jws.payload.root()));  // crypto/jwt_claims.h
//   ... the caller checks exp, aud, iss: VerifyJws checks the signature only ...
//
// Errors: VerifyJws answers every reason to refuse a token (its form, its algorithm, no fitting
// key, a bad signature) with kUnauthenticated and a message naming the reason, kInternal only
// when OpenSSL fails; signing answers kInvalid for a bad header or claims.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/key_set.h"
#include "crypto/keys.h"
#include "json/value.h"

namespace vesta::crypto {

// Tokens longer than this are refused before any decoding.
inline constexpr size_t kMaxJwsBytes = 64 * 1024;

// The compact JWS BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature), signed by
// `key`. `header_json` must be a JSON object whose "alg" names key.alg(); it and `payload` are
// used byte for byte. kInvalid when the header is not such an object.
Result<std::string> SignJws(const SigningKey& key, std::string_view header_json,
                            std::string_view payload);

// A JWT: header {"alg":key.alg(),"typ":"JWT","kid":key.kid()} and the claims `claims_json`, which
// must be a JSON object (written back compact). kInvalid otherwise.
Result<std::string> SignJwt(const SigningKey& key, std::string_view claims_json);

// A JWS whose signature was checked.
struct VerifiedJws {
  JwsAlgorithm alg;
  std::string kid;         // the header's kid; empty when it had none
  json::Document header;   // a JSON object
  json::Document payload;  // a JSON object (the JWT claims set)
};

// Checks the compact JWS `token` (https://www.rfc-editor.org/rfc/rfc7515#section-5.2) against
// `keys`, with `allowed` the only algorithms accepted. Refused (kUnauthenticated), each with its
// reason: a token over
// kMaxJwsBytes or not of three base64url segments (strictly decoded); a header that is not a JSON
// object or has no string "alg"; "alg":"none", any HMAC ("HS256"...), an alg not handled or not in
// `allowed`; a "crit" header (no extension is understood, RFC 7515 §4.1.11); no key for the kid
// (or, without a kid, for the alg) that fits the alg's key type and curve (no algorithm
// confusion: an RS token is never checked with an EC key, nor ES384 with a P-256 key); a
// signature that no candidate key verifies; a payload that is not a JSON object. Claims (exp,
// nbf, aud, iss...) are not checked: that is the caller's part.
Result<VerifiedJws> VerifyJws(std::string_view token, const KeySet& keys,
                              const std::vector<JwsAlgorithm>& allowed);

}  // namespace vesta::crypto

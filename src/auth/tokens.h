// The server's access tokens: JWTs signed with the server's own keys (ES384), issued by the
// token endpoint and verified on every request from memory, with no database round trip
// (docs/security.md, "Tokens").
//
//   TokenService tokens(options, keys, clock);          // keys: newest first
//   ASSIGN_OR_RETURN(IssuedToken t, tokens.Issue(caller));
//   ASSIGN_OR_RETURN(std::shared_ptr<const Caller> c, tokens.Verify(t.access_token));
//
// A token's claims (https://www.rfc-editor.org/rfc/rfc9068 shapes them, SMART App Launch names
// the context ones): iss and aud the server's base URL, sub, client_id, scope (space-separated),
// jti, iat, exp, and when set patient, encounter and fhirUser. Every key in `keys` verifies (a
// rotated-out key keeps verifying the tokens it signed until they expire); the first signs.
// A verified token is remembered until it expires, so that its signature (an ES384
// verification, about half a millisecond of CPU) is checked once, not on every request;
// revocation is checked on every request.
//
// Thread-safety: Issue, Verify and Revoke may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/caller.h"
#include "base/clock.h"
#include "base/status.h"
#include "crypto/key_set.h"
#include "crypto/keys.h"

namespace vesta::auth {

struct TokenOptions {
  std::string issuer;  // the FHIR base URL, without a trailing slash
  int64_t access_token_seconds = 3600;
};

struct IssuedToken {
  std::string access_token;
  int64_t expires_in = 0;  // seconds
  std::string jti;
};

class TokenService : public TokenVerifier {
 public:
  // REQUIRES: `keys` is not empty. `clock` is borrowed and must outlive the service.
  TokenService(TokenOptions options, std::vector<crypto::SigningKey> keys, Clock& clock);

  // A token for `caller` (its scopes, client, subject and launch context), signed with the
  // newest key. `caller.token_id` and `expires_at` are set here.
  Result<IssuedToken> Issue(const Caller& caller) const;

  // kUnauthenticated, saying why, unless `token` is one of this server's, unexpired, unrevoked,
  // for this audience.
  Result<std::shared_ptr<const Caller>> Verify(std::string_view token) const override;

  // Refuses `jti` from now on (until `expires_at`, seconds since the epoch, after which the
  // token is expired anyway). This node only: see docs/security.md.
  void Revoke(const std::string& jti, int64_t expires_at) const;

  // A JWT of `claims_json` (an object) signed with the newest key: the OpenID Connect id_token.
  Result<std::string> SignClaims(std::string_view claims_json) const;

  // The public keys, as the JWKS the SMART configuration's jwks_uri serves.
  std::string Jwks() const { return public_keys_.ToJwks(); }
  const TokenOptions& options() const { return options_; }
  // Sets the issuer once it is known (a server on port 0 learns its port when it binds).
  // REQUIRES: no other call runs at the same time (before the server serves).
  void SetIssuer(std::string issuer) { options_.issuer = std::move(issuer); }

 private:
  TokenOptions options_;
  std::vector<crypto::SigningKey> keys_;
  crypto::KeySet public_keys_;
  Clock& clock_;
  // A Caller verified from its signature and claims: the claims that do not change (exp is
  // checked on each use).
  Result<std::shared_ptr<const Caller>> VerifySignedToken(std::string_view token) const;

  mutable std::mutex mu_;
  mutable std::map<std::string, int64_t> revoked_;  // jti -> exp; guarded by mu_
  mutable std::shared_mutex cache_mu_;
  // token -> its caller, until the token expires; guarded by cache_mu_; bounded (kMaxCached)
  struct TokenHash {
    using is_transparent = void;  // looked up by string_view: no copy of the token per request
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::unordered_map<std::string, std::shared_ptr<const Caller>, TokenHash, std::equal_to<>>
      verified_;
};

}  // namespace vesta::auth

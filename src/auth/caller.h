// Who is asking: what a verified access token says about its bearer, and the interface that
// verifies tokens for the REST layer (docs/security.md).
//
//   Result<std::shared_ptr<const Caller>> caller = verifier.Verify(bearer_token);
//   Decision d = Decide(caller->scopes, Permission::kRead, "Observation");
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/scopes.h"
#include "base/status.h"

namespace vesta::auth {

struct Caller {
  ScopeSet scopes;
  std::string client_id;
  std::string subject;     // the user (or, for backend services, the client) the token is for
  std::string fhir_user;   // "Practitioner/123" when the token names one
  std::string patient;     // the launch context's patient id, for patient/ scopes
  std::string encounter;   // the launch context's encounter id, when there is one
  std::string token_id;    // the token's jti (for the audit trail and revocation)
  int64_t expires_at = 0;  // seconds since the epoch
};

// Verifies bearer tokens. Implementations are thread-safe and answer from memory (signature,
// expiry, audience, the revocation list): the hot path makes no database round trip.
class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  // kUnauthenticated, saying why (expired, bad signature, revoked, wrong audience...), for a
  // token that is not valid now. The caller is shared: a verifier may hand the same one to
  // every request of a token.
  virtual Result<std::shared_ptr<const Caller>> Verify(std::string_view token) const = 0;
};

}  // namespace vesta::auth

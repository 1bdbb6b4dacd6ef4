// The authorization's own files: the server's signing keys and the registered clients, in a
// directory (`vesta serve --auth-dir`, default <data-dir>/auth) that `vesta auth ...` edits while
// servers run (docs/security.md, "Keys and clients"). Nodes of one deployment share it as they
// share their TLS certificate (a mounted secret, or copied by the deployment's tooling).
//
//   <dir>/keys/<created unix seconds>-<kid>.pem    private keys (PKCS #8, mode 0600), newest signs
//   <dir>/clients/<client id>.json                 one registered client each
//   <dir>/users/<username>.json                     one user each (argon2id password hash)
//   <dir>/refresh/<sha-256 of the token>.json       one unused refresh token each
//
// Thread-safety: the files are the state; each call reads them afresh (clients are read on each
// token request, which is rare next to API requests). Writers replace files atomically (write a
// temporary file, rename it).
#pragma once

#include <string>
#include <vector>

#include "auth/scopes.h"
#include "base/status.h"
#include "crypto/keys.h"

namespace vesta::auth {

// A registered client (https://hl7.org/fhir/smart-app-launch/client-authentication.html):
//   * backend: SMART Backend Services, authenticated by a JWT signed with a key of `jwks`,
//     granted system/ scopes;
//   * public: an app that keeps no secret (a browser or native app), authorization code flow with
//     PKCE S256, no client authentication;
//   * confidential: authorization code flow, authenticated by `client_secret_basic` (the
//     secret's SHA-256 is kept) or by a signed JWT (`jwks`).
enum class ClientKind { kBackend, kPublic, kConfidential };

struct RegisteredClient {
  std::string client_id;
  ClientKind kind = ClientKind::kBackend;
  ScopeSet scopes;                         // what it may be granted
  std::vector<std::string> redirect_uris;  // the authorization code flow's, compared exactly
  std::string jwks;                        // the JWK Set's JSON text, or ""
  std::string secret_sha256;               // base64url of the secret's SHA-256, or ""
};

// A user who logs in at the authorization endpoint: the FHIR resource they are (fhirUser:
// "Practitioner/123" or "Patient/456"), their password's argon2id hash, and the lockout state.
struct User {
  std::string username;
  std::string fhir_user;
  std::string password_hash;
  int failed_logins = 0;     // since the last success
  int64_t locked_until = 0;  // seconds since the epoch; 0: not locked
};

// What a refresh token stands for (kept under the token's SHA-256, never the token itself).
struct RefreshGrant {
  std::string client_id;
  std::string scope;
  std::string subject, fhir_user, patient, encounter;
  int64_t expires_at = 0;
};

class AuthDirectory {
 public:
  explicit AuthDirectory(std::string dir) : dir_(std::move(dir)) {}
  const std::string& path() const { return dir_; }

  // The signing keys, newest first; when there is none yet, one is made (ES384) and saved.
  Result<std::vector<crypto::SigningKey>> LoadOrCreateKeys() const;
  // A new signing key, saved; the two previous ones are kept (they verify the tokens they
  // signed until those expire), older ones removed. Returns the new key.
  Result<crypto::SigningKey> RotateKeys() const;

  // kInvalid for a client id that is not 1-64 characters of [A-Za-z0-9._-], no scopes, a
  // backend client with other than system/ scopes or without a usable JWKS, a code-flow client
  // without redirect URIs (absolute https URIs, or http on loopback) or with system/ scopes, a
  // confidential one with neither a secret nor keys; kConflict when it exists.
  Status AddClient(const RegisteredClient& client) const;
  // kNotFound when there is no such client.
  Status RemoveClient(const std::string& client_id) const;
  Result<RegisteredClient> FindClient(const std::string& client_id) const;
  Result<std::vector<RegisteredClient>> ListClients() const;

  // Users. AddUser: kInvalid for a username that is not 1-64 characters of [A-Za-z0-9._@-] or a
  // fhirUser that is not Practitioner/, Patient/, PractitionerRole/ or RelatedPerson/ an id;
  // kConflict when it exists. SaveUser replaces a user's file (the lockout state).
  Status AddUser(const User& user) const;
  Status SaveUser(const User& user) const;
  Status RemoveUser(const std::string& username) const;
  Result<User> FindUser(const std::string& username) const;
  Result<std::vector<User>> ListUsers() const;

  // Refresh tokens, by the SHA-256 of the token (base64url). TakeRefresh returns the grant and
  // removes it, so that a token is used once (rotation); kNotFound when it was never issued,
  // was used, or has expired (`now`, seconds since the epoch).
  Status SaveRefresh(const std::string& token_sha256, const RefreshGrant& grant) const;
  Result<RefreshGrant> TakeRefresh(const std::string& token_sha256, int64_t now) const;

 private:
  std::string dir_;
};

}  // namespace vesta::auth

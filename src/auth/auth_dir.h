// The authorization's own files: the server's signing keys and the registered clients, in a
// directory (`vesta serve --auth-dir`, default <data-dir>/auth) that `vesta auth ...` edits while
// servers run (docs/security.md, "Keys and clients"). Nodes of one deployment share it as they
// share their TLS certificate (a mounted secret, or copied by the deployment's tooling).
//
//   <dir>/keys/<created unix seconds>-<kid>.pem    private keys (PKCS #8, mode 0600), newest signs
//   <dir>/clients/<client id>.json                 one registered client each
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

// A client registered for the backend services flow
// (https://hl7.org/fhir/smart-app-launch/backend-services.html#registering-a-smart-backend-service-communicating-public-keys):
// its id, the scopes it may be granted, and its public keys (a JWKS, inline).
struct RegisteredClient {
  std::string client_id;
  std::vector<ResourceScope> scopes;
  std::string jwks;  // the JWK Set's JSON text
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

  // kInvalid for a client id that is not 1-64 characters of [A-Za-z0-9._-], no scopes, scopes
  // other than system/ ones, or a JWKS without a usable key; kConflict when it exists.
  Status AddClient(const RegisteredClient& client) const;
  // kNotFound when there is no such client.
  Status RemoveClient(const std::string& client_id) const;
  Result<RegisteredClient> FindClient(const std::string& client_id) const;
  Result<std::vector<RegisteredClient>> ListClients() const;

 private:
  std::string dir_;
};

}  // namespace vesta::auth

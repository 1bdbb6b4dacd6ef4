// The authorization server inside Vesta (docs/security.md): the SMART configuration, the JWKS of
// the server's signing keys, and the token endpoint, for SMART Backend Services
// (https://hl7.org/fhir/smart-app-launch/backend-services.html): `client_credentials` with a
// `private_key_jwt` client assertion (RS384 or ES384) from a registered client.
//
//   AuthServer auth(options, directory, tokens, clock);
//   if (std::optional<AuthAnswer> a = auth.Handle(method, path, body)) return *a;  // its paths
//
// Thread-safety: Handle may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/auth_dir.h"
#include "auth/tokens.h"
#include "base/clock.h"

namespace vesta::auth {

struct AuthAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool no_store = false;  // Cache-Control: no-store (token responses, RFC 6749 §5.1)
};

// The paths the authorization server answers, under the FHIR base.
inline constexpr std::string_view kSmartConfigurationPath = "/.well-known/smart-configuration";
inline constexpr std::string_view kJwksPath = "/auth/jwks";
inline constexpr std::string_view kTokenPath = "/auth/token";

class AuthServer {
 public:
  // `directory`, `tokens` and `clock` are borrowed and must outlive the server.
  AuthServer(const AuthDirectory& directory, const TokenService& tokens, Clock& clock)
      : directory_(directory), tokens_(tokens), clock_(clock) {}

  // The answer for one of the paths above; nullopt for any other path (the FHIR API's).
  std::optional<AuthAnswer> Handle(std::string_view method, std::string_view path,
                                   std::string_view body) const;

 private:
  AuthAnswer SmartConfiguration() const;
  AuthAnswer Token(std::string_view body) const;

  const AuthDirectory& directory_;
  const TokenService& tokens_;
  Clock& clock_;
  mutable std::mutex mu_;
  mutable std::map<std::string, int64_t> seen_assertions_;  // "client|jti" -> exp; guarded by mu_
};

}  // namespace vesta::auth

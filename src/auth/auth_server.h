// The authorization server inside Vesta (docs/security.md): the SMART configuration, the JWKS of
// the server's signing keys, the authorization endpoint with its login and consent pages, the
// token endpoint and the EHR launch endpoint.
//
//   * SMART App Launch (https://hl7.org/fhir/smart-app-launch/app-launch.html): the
//     authorization code flow with PKCE S256, standalone launch (launch/patient: the user picks
//     the patient, or is the patient) and EHR launch (the `launch` parameter, made by
//     POST /auth/launch), refresh tokens (offline_access / online_access, rotated on use), an
//     OpenID Connect id_token with fhirUser;
//   * SMART Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html):
//     `client_credentials` with a `private_key_jwt` client assertion (RS384 or ES384);
//   * token introspection (RFC 7662) and revocation (RFC 7009) for authenticated clients.
// The token and login endpoints are rate limited per client address (429 beyond).
//
//   AuthServer auth(directory, tokens, clock);
//   if (std::optional<AuthAnswer> a = auth.Handle(request)) return *a;  // one of its paths
//
// Pending authorizations, codes and launch contexts are kept in this node's memory (a few
// minutes each): a deployment of several nodes routes /auth/ to one node, or uses sticky
// sessions (docs/security.md).
//
// Thread-safety: Handle may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/auth_dir.h"
#include "auth/tokens.h"
#include "base/clock.h"

namespace vesta::auth {

struct AuthRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;  // raw, after '?'
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  std::string_view body;
  bool secure = false;              // over TLS (cookies get Secure)
  std::string_view remote_address;  // the client's address (rate limits)

  std::string_view Header(std::string_view name) const;
};

struct AuthAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Location, Set-Cookie...
  bool no_store = false;  // Cache-Control: no-store (token responses, RFC 6749 §5.1; pages)
};

// The paths the authorization server answers, under the FHIR base.
inline constexpr std::string_view kSmartConfigurationPath = "/.well-known/smart-configuration";
inline constexpr std::string_view kJwksPath = "/auth/jwks";
inline constexpr std::string_view kTokenPath = "/auth/token";
inline constexpr std::string_view kAuthorizePath = "/auth/authorize";
inline constexpr std::string_view kLoginPath = "/auth/login";
inline constexpr std::string_view kConsentPath = "/auth/consent";
inline constexpr std::string_view kLaunchPath = "/auth/launch";
inline constexpr std::string_view kIntrospectPath = "/auth/introspect";
inline constexpr std::string_view kRevokePath = "/auth/revoke";

class AuthServer {
 public:
  // `directory`, `tokens` and `clock` are borrowed and must outlive the server.
  // `patient_exists` tells whether Patient/<id> is a current resource (the consent page's
  // patient choice is checked with it).
  // `rate_per_second`: the requests per second an address may make to the token and login
  // endpoints after a burst of 4 seconds' worth (0: no limit).
  AuthServer(const AuthDirectory& directory, const TokenService& tokens, Clock& clock,
             std::function<bool(const std::string&)> patient_exists = nullptr,
             double rate_per_second = 50)
      : directory_(directory),
        tokens_(tokens),
        clock_(clock),
        patient_exists_(std::move(patient_exists)),
        rate_per_second_(rate_per_second) {}

  // The answer for one of the paths above; nullopt for any other path (the FHIR API's).
  std::optional<AuthAnswer> Handle(const AuthRequest& request) const;

 private:
  // What the user is asked to approve, from GET /auth/authorize until the code is made.
  struct Pending {
    std::string client_id, redirect_uri, state, code_challenge, csrf;
    ScopeSet scopes;                  // asked for, within the client's registration
    std::string patient, encounter;   // from the EHR launch, when there was one
    std::string username, fhir_user;  // once logged in
    int64_t expires_at = 0;
  };
  // An authorization code's grant (RFC 6749 §4.1.2: used once, short-lived).
  struct Code {
    Pending grant;
    int64_t expires_at = 0;
    bool used = false;
    std::vector<std::pair<std::string, int64_t>> issued;  // jti, exp of the tokens it gave
  };
  struct Launch {
    std::string patient, encounter;
    int64_t expires_at = 0;
  };

  AuthAnswer SmartConfiguration() const;
  AuthAnswer Token(const AuthRequest& request) const;
  AuthAnswer ClientCredentials(const std::map<std::string, std::string>& form) const;
  AuthAnswer AuthorizationCode(const AuthRequest& request,
                               const std::map<std::string, std::string>& form) const;
  AuthAnswer RefreshToken(const AuthRequest& request,
                          const std::map<std::string, std::string>& form) const;
  AuthAnswer Authorize(const AuthRequest& request) const;
  AuthAnswer Login(const AuthRequest& request) const;
  AuthAnswer Consent(const AuthRequest& request) const;
  AuthAnswer NewLaunch(const AuthRequest& request) const;
  AuthAnswer Introspect(const AuthRequest& request) const;
  AuthAnswer Revoke(const AuthRequest& request) const;
  // The client a token request authenticates as (RFC 6749 §2.3): a public client by client_id;
  // a confidential one by HTTP Basic (client_secret_basic) or a signed JWT (private_key_jwt);
  // `error` is set to an OAuth error answer when it does not.
  // Backend services clients are accepted only with `allow_backend` (introspection and
  // revocation).
  std::optional<RegisteredClient> AuthenticateClient(const AuthRequest& request,
                                                     const std::map<std::string, std::string>& form,
                                                     AuthAnswer* error,
                                                     bool allow_backend = false) const;
  // Whether `assertion` (a private_key_jwt client assertion) authenticates `client`: OK, or
  // kUnauthenticated saying why. Remembers its jti (a replay is refused).
  Status CheckClientAssertion(const RegisteredClient& client, std::string_view assertion) const;
  // The token response for `grant` (access token, and as its scopes ask a refresh token and an
  // id_token).
  AuthAnswer IssueForUser(const Pending& grant,
                          std::vector<std::pair<std::string, int64_t>>* issued) const;
  int64_t Now() const { return clock_.Now() / 1000000; }
  // Whether `address` may make one more request to the token or login endpoint now: a token
  // bucket per address (kRateBurst requests, refilled at kRatePerSecond).
  bool Allow(std::string_view address) const;

  const AuthDirectory& directory_;
  const TokenService& tokens_;
  Clock& clock_;
  std::function<bool(const std::string&)> patient_exists_;
  double rate_per_second_;
  mutable std::mutex mu_;                                   // guards the maps below
  mutable std::map<std::string, int64_t> seen_assertions_;  // "client|jti" -> exp
  mutable std::map<std::string, Pending> pending_;          // request id -> pending
  mutable std::map<std::string, Code> codes_;               // code -> grant
  mutable std::map<std::string, Launch> launches_;          // launch id -> context
  struct Bucket {
    double tokens = 0;
    int64_t updated_us = 0;
  };
  mutable std::map<std::string, Bucket, std::less<>> buckets_;  // address -> its bucket
};

}  // namespace vesta::auth

#include "auth/auth_server.h"

#include <strings.h>

#include <algorithm>
#include <vector>

#include "auth/server_internal.h"
#include "base/strings.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"
#include "crypto/key_set.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::auth {
namespace internal {

AuthAnswer OAuthError(int status, std::string_view error, std::string_view description) {
  AuthAnswer a;
  a.status = status;
  a.no_store = true;
  a.body = "{\"error\":";
  json::WriteString(error, &a.body);
  a.body += ",\"error_description\":";
  json::WriteString(description, &a.body);
  a.body += "}";
  return a;
}

std::optional<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  auto pairs = ParseFormPairs(Trim(body, "\r\n "));
  if (!pairs) return std::nullopt;
  std::map<std::string, std::string> form;
  for (auto& [name, value] : *pairs) form.emplace(std::move(name), std::move(value));
  return form;
}

std::string FormValue(const std::map<std::string, std::string>& form, const char* name) {
  auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

void AppendStrings(std::string* out, const std::vector<std::string>& items) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    json::WriteString(items[i], out);
  }
  out->push_back(']');
}

std::string CookieValue(std::string_view header, std::string_view name) {
  for (std::string_view part : Split(header, ';')) {
    part = Trim(part);
    if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
  }
  return "";
}

}  // namespace internal

namespace {

using internal::AppendStrings;
using internal::FormValue;
using internal::OAuthError;
using internal::ParseForm;

using internal::kJwtBearer;
constexpr int64_t kMaxAssertionLifetime = 300;  // seconds: "no more than five minutes"
constexpr size_t kMaxBuckets = 100000;          // addresses remembered

}  // namespace

std::string_view AuthRequest::Header(std::string_view name) const {
  if (headers == nullptr) return {};
  for (const auto& [k, v] : *headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  }
  return {};
}

std::optional<AuthAnswer> AuthServer::Handle(const AuthRequest& request) const {
  const std::string_view method = request.method, path = request.path;
  auto only = [&](std::string_view m) { return method == m || (m == "GET" && method == "HEAD"); };
  if (path == kSmartConfigurationPath) {
    if (!only("GET")) return OAuthError(405, "invalid_request", "use GET");
    return SmartConfiguration();
  }
  if (path == kJwksPath) {
    if (!only("GET")) return OAuthError(405, "invalid_request", "use GET");
    AuthAnswer a;
    a.content_type = "application/jwk-set+json";
    a.body = tokens_.Jwks();
    return a;
  }
  if ((path == kTokenPath || path == kLoginPath) && !Allow(request.remote_address)) {
    AuthAnswer a =
        OAuthError(429, "slow_down", "too many requests from this address; wait a moment");
    a.headers.emplace_back("Retry-After", "1");
    return a;
  }
  if (path == kTokenPath) {
    if (!only("POST")) return OAuthError(405, "invalid_request", "the token endpoint takes POST");
    return Token(request);
  }
  if (path == kAuthorizePath) {
    if (!only("GET"))
      return OAuthError(405, "invalid_request", "the authorization endpoint takes GET");
    return Authorize(request);
  }
  if (path == kLoginPath) {
    if (!only("POST")) return OAuthError(405, "invalid_request", "use POST");
    return Login(request);
  }
  if (path == kConsentPath) {
    if (!only("POST")) return OAuthError(405, "invalid_request", "use POST");
    return Consent(request);
  }
  if (path == kIntrospectPath) {
    if (!only("POST")) return OAuthError(405, "invalid_request", "use POST");
    return Introspect(request);
  }
  if (path == kRevokePath) {
    if (!only("POST")) return OAuthError(405, "invalid_request", "use POST");
    return Revoke(request);
  }
  if (path == kLaunchPath) {
    if (!only("POST")) return OAuthError(405, "invalid_request", "use POST");
    return NewLaunch(request);
  }
  return std::nullopt;
}

bool AuthServer::Allow(std::string_view address) const {
  if (rate_per_second_ <= 0) return true;
  const double burst = 4 * rate_per_second_;
  const int64_t now = clock_.Now();
  std::lock_guard lock(mu_);
  if (buckets_.size() >= kMaxBuckets) buckets_.clear();
  auto it = buckets_.find(address);
  if (it == buckets_.end()) it = buckets_.emplace(std::string(address), Bucket{burst, now}).first;
  Bucket& b = it->second;
  b.tokens = std::min(burst, b.tokens + (now - b.updated_us) / 1e6 * rate_per_second_);
  b.updated_us = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

// https://hl7.org/fhir/smart-app-launch/client-authentication.html#signature-verification
// (and RFC 7523 §3): signed with one of the client's registered keys (RS384 or ES384), iss and
// sub the client, aud the token endpoint, exp within five minutes, a jti not used before.
Status AuthServer::CheckClientAssertion(const RegisteredClient& client,
                                        std::string_view assertion) const {
  Result<crypto::KeySet> keys = crypto::KeySet::Parse(client.jwks);
  if (!keys.ok()) return Unauthenticated("the client's registered keys are not usable");
  Result<crypto::VerifiedJws> jws = crypto::VerifyJws(
      assertion, *keys, {crypto::JwsAlgorithm::kRS384, crypto::JwsAlgorithm::kES384});
  if (!jws.ok()) return Unauthenticated(jws.status().message());
  Result<crypto::JwtClaims> claims = crypto::ReadJwtClaims(jws->payload.root());
  if (!claims.ok()) return Unauthenticated(claims.status().message());
  const int64_t now = Now();
  const std::string token_url = tokens_.options().issuer + std::string(kTokenPath);
  if (claims->iss.value_or("") != client.client_id ||
      claims->sub.value_or("") != client.client_id) {
    return Unauthenticated("the assertion's iss and sub must both be the client id");
  }
  if (std::find(claims->aud.begin(), claims->aud.end(), token_url) == claims->aud.end()) {
    return Unauthenticated("the assertion's aud must be the token endpoint " + token_url);
  }
  if (!claims->exp) return Unauthenticated("the assertion has no exp");
  if (*claims->exp <= now) return Unauthenticated("the assertion has expired");
  if (*claims->exp > now + kMaxAssertionLifetime) {
    return Unauthenticated("the assertion's exp is more than five minutes ahead");
  }
  if (!claims->jti || claims->jti->empty()) return Unauthenticated("the assertion has no jti");
  std::lock_guard lock(mu_);
  // Expired entries go now and then, not on every request (the map holds at most the
  // assertions of the last five minutes).
  if (seen_assertions_.size() > 1024 && seen_assertions_.size() % 512 == 0) {
    std::erase_if(seen_assertions_, [now](const auto& s) { return s.second <= now; });
  }
  if (!seen_assertions_.emplace(client.client_id + "|" + *claims->jti, *claims->exp).second) {
    return Unauthenticated("the assertion's jti was used before");
  }
  return Status::Ok();
}

// https://hl7.org/fhir/smart-app-launch/conformance.html#using-well-known: what a client needs
// to find the endpoints and what this server supports.
AuthAnswer AuthServer::SmartConfiguration() const {
  const std::string& base = tokens_.options().issuer;
  std::string b = "{\"issuer\":";
  json::WriteString(base, &b);
  b += ",\"jwks_uri\":";
  json::WriteString(base + std::string(kJwksPath), &b);
  b += ",\"token_endpoint\":";
  json::WriteString(base + std::string(kTokenPath), &b);
  b += ",\"authorization_endpoint\":";
  json::WriteString(base + std::string(kAuthorizePath), &b);
  b += ",\"grant_types_supported\":";
  AppendStrings(&b, {"authorization_code", "client_credentials", "refresh_token"});
  b += ",\"token_endpoint_auth_methods_supported\":";
  AppendStrings(&b, {"private_key_jwt", "client_secret_basic", "none"});
  b += ",\"token_endpoint_auth_signing_alg_values_supported\":";
  AppendStrings(&b, {"RS384", "ES384"});
  b += ",\"scopes_supported\":";
  AppendStrings(&b, {"openid", "fhirUser", "launch", "launch/patient", "offline_access",
                     "online_access", "patient/*.rs", "patient/*.cruds", "user/*.rs",
                     "user/*.cruds", "system/*.rs", "system/*.cruds"});
  b += ",\"introspection_endpoint\":";
  json::WriteString(base + std::string(kIntrospectPath), &b);
  b += ",\"revocation_endpoint\":";
  json::WriteString(base + std::string(kRevokePath), &b);
  b += ",\"response_types_supported\":[\"code\"]";
  b += ",\"code_challenge_methods_supported\":[\"S256\"]";
  b += ",\"capabilities\":";
  AppendStrings(
      &b, {"launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
           "client-confidential-asymmetric", "context-ehr-patient", "context-ehr-encounter",
           "context-standalone-patient", "permission-offline", "permission-online",
           "permission-patient", "permission-user", "permission-v1", "permission-v2"});
  b += "}";
  AuthAnswer a;
  a.body = std::move(b);
  return a;
}

// https://hl7.org/fhir/smart-app-launch/backend-services.html#request-access-token and
// #signature-verification ("Authorization server obligations").
AuthAnswer AuthServer::Token(const AuthRequest& request) const {
  std::optional<std::map<std::string, std::string>> form = ParseForm(request.body);
  if (!form) return OAuthError(400, "invalid_request", "the body is not a valid form");
  const std::string grant = FormValue(*form, "grant_type");
  if (grant.empty()) return OAuthError(400, "invalid_request", "grant_type is missing");
  if (grant == "client_credentials") return ClientCredentials(*form);
  if (grant == "authorization_code") return AuthorizationCode(request, *form);
  if (grant == "refresh_token") return RefreshToken(request, *form);
  return OAuthError(400, "unsupported_grant_type",
                    "grant_type is authorization_code, refresh_token or client_credentials");
}

AuthAnswer AuthServer::ClientCredentials(const std::map<std::string, std::string>& form) const {
  auto get = [&](const char* name) { return FormValue(form, name); };
  if (get("client_assertion_type") != kJwtBearer) {
    return OAuthError(400, "invalid_request",
                      "client_assertion_type must be " + std::string(kJwtBearer));
  }
  const std::string assertion = get("client_assertion");
  if (assertion.empty()) return OAuthError(400, "invalid_request", "client_assertion is missing");

  // The client the assertion names, found before its signature is checked with the client's
  // keys.
  const std::string client_id = crypto::UnverifiedIssuer(assertion);
  if (client_id.empty())
    return OAuthError(400, "invalid_client", "the assertion is no JWT with an iss");
  Result<RegisteredClient> client = directory_.FindClient(client_id);
  if (!client.ok() || client->kind != ClientKind::kBackend) {
    return OAuthError(401, "invalid_client",
                      "no backend services client '" + client_id + "' is registered");
  }
  if (Status s = CheckClientAssertion(*client, assertion); !s.ok()) {
    return OAuthError(401, "invalid_client", s.message());
  }

  // The scopes: what was asked for, within what the client is registered for.
  Result<ScopeSet> requested = ParseScopes(get("scope"));
  if (!requested.ok()) return OAuthError(400, "invalid_scope", requested.status().message());
  std::vector<ResourceScope> granted =
      requested->resources.empty() ? client->scopes.resources
                                   : Intersect(requested->resources, client->scopes.resources);
  if (granted.empty()) {
    return OAuthError(400, "invalid_scope",
                      "none of the scopes asked for is among the client's registered ones");
  }
  Caller caller;
  caller.client_id = client_id;
  caller.subject = client_id;
  caller.scopes.resources = std::move(granted);
  Result<IssuedToken> token = tokens_.Issue(caller);
  if (!token.ok()) return OAuthError(500, "server_error", token.status().message());
  AuthAnswer a;
  a.no_store = true;
  a.body = "{\"access_token\":";
  json::WriteString(token->access_token, &a.body);
  a.body += ",\"token_type\":\"bearer\",\"expires_in\":" + std::to_string(token->expires_in) +
            ",\"scope\":";
  json::WriteString(caller.scopes.ToString(), &a.body);
  a.body += "}";
  return a;
}

}  // namespace vesta::auth

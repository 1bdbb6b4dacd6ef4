#include "auth/auth_server.h"

#include <vector>

#include "base/strings.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::auth {
namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr int64_t kMaxAssertionLifetime = 300;  // seconds: "no more than five minutes"

// https://www.rfc-editor.org/rfc/rfc6749#section-5.2: an error response of the token endpoint.
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

// application/x-www-form-urlencoded: name=value pairs; nullopt on a bad escape.
std::optional<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  std::map<std::string, std::string> form;
  for (std::string_view pair : Split(Trim(body, "\r\n "), '&')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), PlusIs::kSpace, &name)) return std::nullopt;
    if (eq != std::string_view::npos &&
        !PercentDecode(pair.substr(eq + 1), PlusIs::kSpace, &value)) {
      return std::nullopt;
    }
    form.emplace(std::move(name), std::move(value));  // RFC 6749 §3.2: no repeats; first wins
  }
  return form;
}

void AppendStrings(std::string* out, const std::vector<std::string>& items) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    json::WriteString(items[i], out);
  }
  out->push_back(']');
}

}  // namespace

std::optional<AuthAnswer> AuthServer::Handle(std::string_view method, std::string_view path,
                                             std::string_view body) const {
  if (path == kSmartConfigurationPath) {
    if (method != "GET" && method != "HEAD") return OAuthError(405, "invalid_request", "use GET");
    return SmartConfiguration();
  }
  if (path == kJwksPath) {
    if (method != "GET" && method != "HEAD") return OAuthError(405, "invalid_request", "use GET");
    AuthAnswer a;
    a.content_type = "application/jwk-set+json";
    a.body = tokens_.Jwks();
    return a;
  }
  if (path == kTokenPath) {
    if (method != "POST")
      return OAuthError(405, "invalid_request", "the token endpoint takes POST");
    return Token(body);
  }
  return std::nullopt;
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
  b += ",\"grant_types_supported\":";
  AppendStrings(&b, {"client_credentials"});
  b += ",\"token_endpoint_auth_methods_supported\":";
  AppendStrings(&b, {"private_key_jwt"});
  b += ",\"token_endpoint_auth_signing_alg_values_supported\":";
  AppendStrings(&b, {"RS384", "ES384"});
  b += ",\"scopes_supported\":";
  AppendStrings(&b, {"system/*.cruds", "system/*.rs", "system/*.read", "system/*.write"});
  b += ",\"response_types_supported\":[]";
  b += ",\"capabilities\":";
  AppendStrings(&b, {"client-confidential-asymmetric", "permission-v1", "permission-v2"});
  b += "}";
  AuthAnswer a;
  a.body = std::move(b);
  return a;
}

// https://hl7.org/fhir/smart-app-launch/backend-services.html#request-access-token and
// #signature-verification ("Authorization server obligations").
AuthAnswer AuthServer::Token(std::string_view body) const {
  std::optional<std::map<std::string, std::string>> form = ParseForm(body);
  if (!form) return OAuthError(400, "invalid_request", "the body is not a valid form");
  auto get = [&](const char* name) -> std::string {
    auto it = form->find(name);
    return it == form->end() ? std::string() : it->second;
  };
  const std::string grant = get("grant_type");
  if (grant.empty()) return OAuthError(400, "invalid_request", "grant_type is missing");
  if (grant != "client_credentials") {
    return OAuthError(400, "unsupported_grant_type",
                      "this server grants client_credentials (SMART Backend Services)");
  }
  if (get("client_assertion_type") != kJwtBearer) {
    return OAuthError(400, "invalid_request",
                      "client_assertion_type must be " + std::string(kJwtBearer));
  }
  const std::string assertion = get("client_assertion");
  if (assertion.empty()) return OAuthError(400, "invalid_request", "client_assertion is missing");

  // The client named by the assertion's iss, before its signature is checked with its keys.
  std::string client_id;
  {
    // The payload is read once, unverified, only to find the client; everything below is
    // checked on the verified copy.
    const size_t dot1 = assertion.find('.');
    const size_t dot2 = dot1 == std::string::npos ? dot1 : assertion.find('.', dot1 + 1);
    if (dot2 == std::string::npos)
      return OAuthError(400, "invalid_client", "the assertion is no JWT");
    std::optional<std::string> payload = Base64Decode(
        std::string_view(assertion).substr(dot1 + 1, dot2 - dot1 - 1), Base64Alphabet::kUrlSafe);
    if (!payload) return OAuthError(400, "invalid_client", "the assertion is no JWT");
    Result<json::Document> doc = json::Parse(*payload);
    if (!doc.ok()) return OAuthError(400, "invalid_client", "the assertion's claims are no JSON");
    client_id = std::string(doc->root().FindString("iss"));
  }
  Result<RegisteredClient> client = directory_.FindClient(client_id);
  if (!client.ok()) {
    return OAuthError(401, "invalid_client", "no client '" + client_id + "' is registered");
  }
  Result<crypto::KeySet> keys = crypto::KeySet::Parse(client->jwks);
  if (!keys.ok())
    return OAuthError(401, "invalid_client", "the client's registered keys are not usable");
  Result<crypto::VerifiedJws> jws = crypto::VerifyJws(
      assertion, *keys, {crypto::JwsAlgorithm::kRS384, crypto::JwsAlgorithm::kES384});
  if (!jws.ok()) return OAuthError(401, "invalid_client", jws.status().message());
  Result<crypto::JwtClaims> claims = crypto::ReadJwtClaims(jws->payload.root());
  if (!claims.ok()) return OAuthError(401, "invalid_client", claims.status().message());
  const int64_t now = clock_.Now() / 1000000;
  const std::string token_url = tokens_.options().issuer + std::string(kTokenPath);
  if (claims->iss.value_or("") != client_id || claims->sub.value_or("") != client_id) {
    return OAuthError(401, "invalid_client",
                      "the assertion's iss and sub must both be the client id");
  }
  bool audience = false;
  for (const std::string& a : claims->aud) audience |= a == token_url;
  if (!audience) {
    return OAuthError(401, "invalid_client",
                      "the assertion's aud must be the token endpoint " + token_url);
  }
  if (!claims->exp) return OAuthError(401, "invalid_client", "the assertion has no exp");
  if (*claims->exp <= now) return OAuthError(401, "invalid_client", "the assertion has expired");
  if (*claims->exp > now + kMaxAssertionLifetime) {
    return OAuthError(401, "invalid_client", "the assertion's exp is more than five minutes ahead");
  }
  if (!claims->jti || claims->jti->empty()) {
    return OAuthError(401, "invalid_client", "the assertion has no jti");
  }
  {
    std::lock_guard lock(mu_);
    std::erase_if(seen_assertions_, [now](const auto& s) { return s.second <= now; });
    if (!seen_assertions_.emplace(client_id + "|" + *claims->jti, *claims->exp).second) {
      return OAuthError(401, "invalid_client", "the assertion's jti was used before");
    }
  }

  // The scopes: what was asked for, within what the client is registered for.
  Result<ScopeSet> requested = ParseScopes(get("scope"));
  if (!requested.ok()) return OAuthError(400, "invalid_scope", requested.status().message());
  std::vector<ResourceScope> granted = requested->resources.empty()
                                           ? client->scopes
                                           : Intersect(requested->resources, client->scopes);
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

#include "auth/tokens.h"

#include "crypto/jws.h"
#include "crypto/jwt_claims.h"
#include "crypto/random.h"
#include "json/writer.h"

namespace vesta::auth {
namespace {

constexpr size_t kMaxCached = 100000;  // verified tokens remembered

void AddString(std::string* out, std::string_view name, std::string_view value) {
  if (out->size() > 1) out->push_back(',');
  json::WriteString(name, out);
  out->push_back(':');
  json::WriteString(value, out);
}

void AddNumber(std::string* out, std::string_view name, int64_t value) {
  if (out->size() > 1) out->push_back(',');
  json::WriteString(name, out);
  out->push_back(':');
  *out += std::to_string(value);
}

}  // namespace

TokenService::TokenService(TokenOptions options, std::vector<crypto::SigningKey> keys, Clock& clock)
    : options_(std::move(options)), keys_(std::move(keys)), clock_(clock) {
  for (const crypto::SigningKey& k : keys_) public_keys_.Add(k.public_key());
}

Result<IssuedToken> TokenService::Issue(const Caller& caller) const {
  if (keys_.empty()) return Internal("the token service has no signing key");
  IssuedToken t;
  ASSIGN_OR_RETURN(t.jti, crypto::RandomToken(18));
  const int64_t now = clock_.Now() / 1000000;
  t.expires_in = options_.access_token_seconds;
  std::string claims = "{";
  AddString(&claims, "iss", options_.issuer);
  AddString(&claims, "aud", options_.issuer);
  AddString(&claims, "sub", caller.subject.empty() ? caller.client_id : caller.subject);
  AddString(&claims, "client_id", caller.client_id);
  AddString(&claims, "scope", caller.scopes.ToString());
  AddString(&claims, "jti", t.jti);
  AddNumber(&claims, "iat", now);
  AddNumber(&claims, "exp", now + t.expires_in);
  if (!caller.patient.empty()) AddString(&claims, "patient", caller.patient);
  if (!caller.encounter.empty()) AddString(&claims, "encounter", caller.encounter);
  if (!caller.fhir_user.empty()) AddString(&claims, "fhirUser", caller.fhir_user);
  claims.push_back('}');
  ASSIGN_OR_RETURN(t.access_token, crypto::SignJwt(keys_.front(), claims));
  return t;
}

Result<std::shared_ptr<const Caller>> TokenService::Verify(std::string_view token) const {
  const int64_t now = clock_.Now() / 1000000;
  std::shared_ptr<const Caller> caller;
  {
    std::shared_lock lock(cache_mu_);
    auto it = verified_.find(token);
    if (it != verified_.end()) caller = it->second;
  }
  if (!caller) {
    ASSIGN_OR_RETURN(caller, VerifySignedToken(token));
    std::unique_lock lock(cache_mu_);
    if (verified_.size() >= kMaxCached) {
      std::erase_if(verified_, [now](const auto& e) { return e.second->expires_at <= now; });
      if (verified_.size() >= kMaxCached) verified_.clear();
    }
    verified_.emplace(std::string(token), caller);
  }
  if (caller->expires_at <= now) return Unauthenticated("the token has expired");
  {
    std::lock_guard lock(mu_);
    if (!revoked_.empty() && revoked_.contains(caller->token_id)) {
      return Unauthenticated("the token was revoked");
    }
  }
  return caller;
}

Result<std::shared_ptr<const Caller>> TokenService::VerifySignedToken(
    std::string_view token) const {
  Result<crypto::VerifiedJws> jws = crypto::VerifyJws(token, public_keys_, {keys_.front().alg()});
  if (!jws.ok()) return Unauthenticated(jws.status().message());
  Result<crypto::JwtClaims> claims = crypto::ReadJwtClaims(jws->payload.root());
  if (!claims.ok()) return Unauthenticated(claims.status().message());
  const int64_t now = clock_.Now() / 1000000;
  if (!claims->exp || *claims->exp <= now) return Unauthenticated("the token has expired");
  if (claims->nbf && *claims->nbf > now) return Unauthenticated("the token is not valid yet");
  if (claims->iss.value_or("") != options_.issuer) {
    return Unauthenticated("the token was not issued by this server");
  }
  bool audience = false;
  for (const std::string& a : claims->aud) audience |= a == options_.issuer;
  if (!audience) return Unauthenticated("the token is not for this server (aud)");
  if (!claims->jti) return Unauthenticated("the token has no jti");
  const json::Value& payload = jws->payload.root();
  Result<ScopeSet> scopes = ParseScopes(payload.FindString("scope"));
  if (!scopes.ok()) return Unauthenticated("the token's scope: " + scopes.status().message());
  auto c = std::make_shared<Caller>();
  c->scopes = std::move(scopes).value();
  c->client_id = std::string(payload.FindString("client_id"));
  c->subject = claims->sub.value_or("");
  c->fhir_user = std::string(payload.FindString("fhirUser"));
  c->patient = std::string(payload.FindString("patient"));
  c->encounter = std::string(payload.FindString("encounter"));
  c->token_id = *claims->jti;
  c->expires_at = *claims->exp;
  return std::shared_ptr<const Caller>(std::move(c));
}

Result<std::string> TokenService::SignClaims(std::string_view claims_json) const {
  if (keys_.empty()) return Internal("the token service has no signing key");
  return crypto::SignJwt(keys_.front(), claims_json);
}

void TokenService::Revoke(const std::string& jti, int64_t expires_at) const {
  const int64_t now = clock_.Now() / 1000000;
  std::lock_guard lock(mu_);
  std::erase_if(revoked_, [now](const auto& r) { return r.second <= now; });
  revoked_[jti] = expires_at;
}

}  // namespace vesta::auth

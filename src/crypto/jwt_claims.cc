#include "crypto/jwt_claims.h"

#include <charconv>
#include <cmath>

#include "base/strings.h"
#include "crypto/base64url.h"
#include "crypto/jws.h"
#include "json/parse.h"

namespace vesta::crypto {
namespace {

Status ReadString(const json::Value& payload, std::string_view name,
                  std::optional<std::string>* out) {
  const json::Value* v = payload.Find(name);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return Invalid("JWT claim \"" + std::string(name) + "\" is not a string");
  *out = std::string(v->string_value());
  return Status::Ok();
}

// "NumericDate: A JSON numeric value representing the number of seconds from
// 1970-01-01T00:00:00Z UTC until the specified UTC date/time, ignoring leap seconds."
// https://www.rfc-editor.org/rfc/rfc7519#section-2
Status ReadNumericDate(const json::Value& payload, std::string_view name,
                       std::optional<int64_t>* out) {
  const json::Value* v = payload.Find(name);
  if (v == nullptr) return Status::Ok();
  std::string bad = "JWT claim \"" + std::string(name) + "\" is not a NumericDate";
  if (!v->is_number()) return Invalid(bad);
  std::string_view text = v->number_text();
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  // Within ±2^53 a double holds every second exactly; far beyond any real date.
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(seconds) ||
      std::fabs(seconds) > 9007199254740992.0) {
    return Invalid(bad);
  }
  *out = static_cast<int64_t>(std::floor(seconds));
  return Status::Ok();
}

}  // namespace

Result<JwtClaims> ReadJwtClaims(const json::Value& payload) {
  if (!payload.is_object()) return Invalid("JWT claims are not a JSON object");
  JwtClaims claims;
  RETURN_IF_ERROR(ReadString(payload, "iss", &claims.iss));
  RETURN_IF_ERROR(ReadString(payload, "sub", &claims.sub));
  RETURN_IF_ERROR(ReadString(payload, "jti", &claims.jti));
  RETURN_IF_ERROR(ReadNumericDate(payload, "exp", &claims.exp));
  RETURN_IF_ERROR(ReadNumericDate(payload, "nbf", &claims.nbf));
  RETURN_IF_ERROR(ReadNumericDate(payload, "iat", &claims.iat));
  // "In the general case, the "aud" value is an array of case-sensitive strings ... In the special
  // case when the JWT has one audience, the "aud" value MAY be a single case-sensitive string."
  // https://www.rfc-editor.org/rfc/rfc7519#section-4.1.3
  if (const json::Value* aud = payload.Find("aud"); aud != nullptr) {
    if (aud->is_string()) {
      claims.aud.emplace_back(aud->string_value());
    } else if (aud->is_array()) {
      for (const json::Value& item : aud->items()) {
        if (!item.is_string())
          return Invalid("JWT claim \"aud\" holds a value that is not a string");
        claims.aud.emplace_back(item.string_value());
      }
    } else {
      return Invalid("JWT claim \"aud\" is neither a string nor an array of strings");
    }
  }
  return claims;
}

std::string UnverifiedIssuer(std::string_view token) {
  std::vector<std::string_view> parts = Split(token, '.');
  if (parts.size() != 3 || token.size() > kMaxJwsBytes) return "";
  Result<std::string> payload = Base64UrlDecode(parts[1]);
  if (!payload.ok()) return "";
  Result<json::Document> claims = json::Parse(*payload);
  if (!claims.ok()) return "";
  return std::string(claims->root().FindString("iss"));
}

}  // namespace vesta::crypto

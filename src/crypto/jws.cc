#include "crypto/jws.h"

#include <algorithm>

#include "crypto/base64url.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::crypto {
namespace {

// A JSON object parsed from `text`, or kInvalid naming `what`.
Result<json::Document> ParseObject(std::string_view text, std::string_view what) {
  Result<json::Document> doc = json::Parse(text);
  if (!doc.ok()) {
    return Invalid(std::string(what) + " is not JSON: " + doc.status().message());
  }
  if (!doc->root().is_object()) return Invalid(std::string(what) + " is not a JSON object");
  return doc;
}

// A base64url segment of the token, decoded.
Result<std::string> DecodeSegment(std::string_view segment, std::string_view what) {
  Result<std::string> bytes = Base64UrlDecode(segment);
  if (!bytes.ok()) return Invalid("JWS " + std::string(what) + ": " + bytes.status().message());
  return bytes;
}

// The algorithm the header's "alg" names, if it is allowed.
// https://www.rfc-editor.org/rfc/rfc8725#section-3.1: "libraries MUST enable the caller to
// specify a supported set of algorithms and MUST NOT use any other algorithms".
Result<JwsAlgorithm> AllowedAlgorithm(const json::Value& header,
                                      const std::vector<JwsAlgorithm>& allowed) {
  const json::Value* alg = header.Find("alg");
  if (alg == nullptr || !alg->is_string()) {
    return Invalid("JWS header: \"alg\" is missing or not a string");
  }
  std::string_view name = alg->string_value();
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  if (lower == "none") return Invalid("JWS: \"alg\":\"none\" (an unsigned token) is refused");
  if (lower.starts_with("hs")) {
    return Invalid("JWS: HMAC algorithm " + std::string(name) +
                   " is refused; only public-key signatures are accepted");
  }
  std::optional<JwsAlgorithm> parsed = JwsAlgorithmFromName(name);
  if (!parsed) return Invalid("JWS: algorithm \"" + std::string(name) + "\" is not supported");
  if (std::find(allowed.begin(), allowed.end(), *parsed) == allowed.end()) {
    return Invalid("JWS: algorithm " + std::string(name) + " is not allowed here");
  }
  return *parsed;
}

}  // namespace

Result<std::string> SignJws(const SigningKey& key, std::string_view header_json,
                            std::string_view payload) {
  ASSIGN_OR_RETURN(json::Document header, ParseObject(header_json, "JWS header"));
  if (header.root().FindString("alg") != JwsAlgorithmName(key.alg())) {
    return Invalid("JWS header: \"alg\" must be " + std::string(JwsAlgorithmName(key.alg())) +
                   ", the key's algorithm");
  }
  // https://www.rfc-editor.org/rfc/rfc7515#section-5.1, steps 1 to 8.
  std::string token = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload);
  ASSIGN_OR_RETURN(std::string signature, key.Sign(token));
  token += '.';
  token += Base64UrlEncode(signature);
  return token;
}

Result<std::string> SignJwt(const SigningKey& key, std::string_view claims_json) {
  ASSIGN_OR_RETURN(json::Document claims, ParseObject(claims_json, "JWT claims"));
  std::string header = "{\"alg\":";
  json::WriteString(JwsAlgorithmName(key.alg()), &header);
  header += ",\"typ\":\"JWT\",\"kid\":";
  json::WriteString(key.kid(), &header);
  header += "}";
  return SignJws(key, header, json::ToString(claims.root()));
}

namespace {

// https://www.rfc-editor.org/rfc/rfc7515#section-5.2 (validation), with the algorithm rules of
// https://www.rfc-editor.org/rfc/rfc8725#section-3.1 and #section-3.2.
Result<VerifiedJws> CheckJws(std::string_view token, const KeySet& keys,
                             const std::vector<JwsAlgorithm>& allowed) {
  if (token.size() > kMaxJwsBytes) {
    return Invalid("JWS: longer than " + std::to_string(kMaxJwsBytes) + " bytes");
  }
  // Step 1: "Parse the JWS representation to extract the serialized values for the components".
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Invalid("JWS: not three dot-separated segments (compact serialization)");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);

  // Steps 2 to 4: the protected header, a JSON object (duplicate names are refused by the parser).
  ASSIGN_OR_RETURN(std::string header_json, DecodeSegment(header_b64, "header"));
  ASSIGN_OR_RETURN(json::Document header, ParseObject(header_json, "JWS header"));
  ASSIGN_OR_RETURN(JwsAlgorithm alg, AllowedAlgorithm(header.root(), allowed));
  if (signature_b64.empty()) return Invalid("JWS: the signature segment is empty");
  // Step 5: "the implementation MUST understand and process" any "crit" extension; none is.
  if (header.root().Find("crit") != nullptr) {
    return Invalid("JWS header: \"crit\" extensions are not supported");
  }
  const json::Value* kid = header.root().Find("kid");
  if (kid != nullptr && !kid->is_string()) return Invalid("JWS header: \"kid\" is not a string");
  std::string_view kid_value = kid != nullptr ? kid->string_value() : std::string_view();

  // Steps 6 to 8: the signature over ASCII(header '.' payload), with the keys of the set only (a
  // "jwk", "jku" or "x5u" header is never followed).
  ASSIGN_OR_RETURN(std::string signature, DecodeSegment(signature_b64, "signature"));
  ASSIGN_OR_RETURN(std::vector<const PublicKey*> candidates, keys.Candidates(kid_value, alg));
  std::string_view signing_input = token.substr(0, dot2);
  Status last;
  for (const PublicKey* key : candidates) {
    last = key->Verify(alg, signing_input, signature);
    if (last.ok()) break;
    if (last.code() == StatusCode::kInternal) return last;
  }
  if (!last.ok()) {
    return Invalid("JWS: the signature does not verify with " +
                   (candidates.size() == 1
                        ? std::string("the key")
                        : "any of the " + std::to_string(candidates.size()) + " keys") +
                   " for " + std::string(JwsAlgorithmName(alg)) + " (" + last.message() + ")");
  }

  ASSIGN_OR_RETURN(std::string payload_json, DecodeSegment(payload_b64, "payload"));
  ASSIGN_OR_RETURN(json::Document payload, ParseObject(payload_json, "JWS payload"));
  return VerifiedJws{alg, std::string(kid_value), std::move(header), std::move(payload)};
}

}  // namespace

// The checks speak of the token as malformed (kInvalid); to the caller every refusal means the
// token does not authenticate its bearer.
Result<VerifiedJws> VerifyJws(std::string_view token, const KeySet& keys,
                              const std::vector<JwsAlgorithm>& allowed) {
  Result<VerifiedJws> jws = CheckJws(token, keys, allowed);
  if (!jws.ok() && jws.status().code() != StatusCode::kInternal) {
    return Unauthenticated(jws.status().message());
  }
  return jws;
}

}  // namespace vesta::crypto

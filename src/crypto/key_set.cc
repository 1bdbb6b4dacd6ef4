#include "crypto/key_set.h"

#include "json/parse.h"
#include "json/writer.h"

namespace vesta::crypto {

Result<KeySet> KeySet::Parse(std::string_view json) {
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(json));
  const json::Value& root = doc.root();
  if (!root.is_object()) return Invalid("JWKS: not a JSON object");
  KeySet set;
  const json::Value* keys = root.Find("keys");
  if (keys == nullptr) {
    if (root.Find("kty") == nullptr) return Invalid("JWKS: neither a \"keys\" array nor a JWK");
    ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromJwk(root));
    set.Add(std::move(key));
    return set;
  }
  // "The value of the "keys" parameter is an array of JWK values."
  // https://www.rfc-editor.org/rfc/rfc7517#section-5.1
  if (!keys->is_array()) return Invalid("JWKS: \"keys\" is not an array");
  for (size_t i = 0; i < keys->items().size(); ++i) {
    Result<PublicKey> key = PublicKey::FromJwk(keys->items()[i]);
    if (key.ok()) {
      set.Add(std::move(key).value());
    } else if (key.status().code() == StatusCode::kNotSupported) {
      set.skipped_.push_back("keys[" + std::to_string(i) + "]: " + key.status().message());
    } else {
      return Invalid("JWKS: keys[" + std::to_string(i) + "]: " + key.status().message());
    }
  }
  if (set.keys_.empty()) {
    std::string why = "JWKS: no usable signing key";
    for (const std::string& s : set.skipped_) why += "; " + s;
    return Invalid(std::move(why));
  }
  return set;
}

Result<std::vector<const PublicKey*>> KeySet::Candidates(std::string_view kid,
                                                         JwsAlgorithm alg) const {
  std::vector<const PublicKey*> out;
  bool kid_seen = false;
  for (const PublicKey& key : keys_) {
    if (!kid.empty() && key.kid() != kid) continue;
    kid_seen = true;
    if (key.Fits(alg)) out.push_back(&key);
  }
  std::string alg_name(JwsAlgorithmName(alg));
  if (!kid.empty() && !kid_seen) {
    return Invalid("no key with kid \"" + std::string(kid) + "\" in the key set");
  }
  if (out.empty()) {
    return Invalid(kid.empty() ? "no key in the key set fits algorithm " + alg_name
                               : "the key with kid \"" + std::string(kid) +
                                     "\" does not fit algorithm " + alg_name);
  }
  return out;
}

std::string KeySet::ToJwks() const {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (i > 0) out += ',';
    out += keys_[i].ToJwk();
  }
  out += "]}";
  return out;
}

}  // namespace vesta::crypto

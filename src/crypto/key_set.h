// A set of public keys: a client's JWKS (https://www.rfc-editor.org/rfc/rfc7517#section-5), or
// the server's own published keys, and the choice of the keys a JWS may be checked against.
//
//   ASSIGN_OR_RETURN(KeySet keys, KeySet::Parse(jwks_json));
//   ASSIGN_OR_RETURN(VerifiedJws jws, VerifyJws(token, keys, {JwsAlgorithm::kES384}));
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/keys.h"

namespace vesta::crypto {

class KeySet {
 public:
  KeySet() = default;

  // The keys of `json`: a JWK Set ({"keys":[...]}) or, for convenience, a single JWK (an object
  // with "kty"). In a set, a key of a kind not handled (PublicKey::FromJwk says kNotSupported: an
  // encryption key, an "oct" key, another curve or alg) is skipped and its reason kept in
  // skipped(); a malformed or too weak key fails the whole set (kInvalid), as does a set with no
  // usable key.
  static Result<KeySet> Parse(std::string_view json);

  void Add(PublicKey key) { keys_.push_back(std::move(key)); }

  std::span<const PublicKey> keys() const { return keys_; }
  // Why each skipped key of Parse was skipped.
  const std::vector<std::string>& skipped() const { return skipped_; }

  // The keys that a JWS signed with `alg` and carrying header kid `kid` (empty when it has none)
  // may be checked against, in set order: with a kid, the keys with that kid which fit `alg`
  // (PublicKey::Fits); without one, every key that fits `alg`. kInvalid, saying why, when there
  // is none.
  Result<std::vector<const PublicKey*>> Candidates(std::string_view kid, JwsAlgorithm alg) const;

  // The set as a JWK Set: {"keys":[...]} with each key's ToJwk().
  std::string ToJwks() const;

 private:
  std::vector<PublicKey> keys_;
  std::vector<std::string> skipped_;
};

}  // namespace vesta::crypto

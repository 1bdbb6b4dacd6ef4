// Keys for JSON Web Signatures: the JWS algorithms the server handles, public keys read from JWKs
// (RFC 7517, RFC 7518 §6) and the server's own signing keys.
//
//   ASSIGN_OR_RETURN(SigningKey key, SigningKey::Generate(JwsAlgorithm::kES384));
//   ASSIGN_OR_RETURN(std::string pem, key.ToPem());        // keep it secret
//   std::string jwk = key.public_key().ToJwk();            // publish it (in a JWKS)
//
// Keys are immutable values that share their OpenSSL key object: copying one is cheap, and a key
// may sign or verify on several threads at once. No OpenSSL header is included here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "json/value.h"

namespace vesta::crypto {

// The JWS "alg" values handled (https://www.rfc-editor.org/rfc/rfc7518#section-3.1): the ones
// SMART App Launch asks of servers and clients (ES384, RS384) and their SHA-256 siblings. There
// is deliberately no "none" and no HMAC.
enum class JwsAlgorithm { kES256, kES384, kRS256, kRS384 };

// "ES256", "ES384", "RS256", "RS384".
std::string_view JwsAlgorithmName(JwsAlgorithm alg);
// The algorithm `name` spells (case-sensitive, as RFC 7515 §4.1.1 says), or nullopt.
std::optional<JwsAlgorithm> JwsAlgorithmFromName(std::string_view name);

// The kinds of key: an EC key on one of two NIST curves, or an RSA key of any size of 2048 bits
// or more.
enum class KeyType { kEcP256, kEcP384, kRsa };

namespace internal {
struct KeyHandle;  // the OpenSSL key object; defined in crypto/openssl_util.h
}  // namespace internal

// A public key that verifies JWS signatures.
class PublicKey {
 public:
  // The key that the JWK `jwk` describes (https://www.rfc-editor.org/rfc/rfc7517#section-4):
  //   kty "EC": crv "P-256" or "P-384", x and y base64url of the full coordinate size, a point on
  //             the curve (RFC 7518 §6.2.1);
  //   kty "RSA": n and e base64url, n of at least 2048 bits (RFC 7518 §6.3.1, §3.3).
  // Optional "alg" (one of JwsAlgorithm and fitting the key), "kid" (a string) and "use" ("sig")
  // are kept; private members ("d", ...) are ignored. kNotSupported for a well-formed key this
  // code does not handle (kty "oct" or "OKP", another curve, another alg such as PS256, use
  // "enc"), so that a key set may skip it; kInvalid for a malformed or too weak key.
  static Result<PublicKey> FromJwk(const json::Value& jwk);
  // The same from JSON text.
  static Result<PublicKey> FromJwkJson(std::string_view jwk_json);

  KeyType type() const { return type_; }
  // The JWK's "alg", when it had one: then the key verifies only that algorithm.
  std::optional<JwsAlgorithm> alg() const { return alg_; }
  // The JWK's "kid"; empty when it had none.
  const std::string& kid() const { return kid_; }
  // The modulus size of an RSA key, the curve size of an EC key.
  int bits() const { return bits_; }

  // Whether a signature made with `alg` may be checked with this key: ES256 needs an EC P-256
  // key, ES384 an EC P-384 key, RS256/RS384 an RSA key, and a key with an "alg" only that one.
  // This is the guard against algorithm confusion.
  bool Fits(JwsAlgorithm alg) const;

  // The JWK thumbprint (https://www.rfc-editor.org/rfc/rfc7638#section-3): SHA-256 of the
  // required members in lexicographic order with no whitespace, base64url.
  std::string Thumbprint() const;

  // The public JWK as compact JSON: kty, crv/x/y or n/e, then alg, use and kid when set.
  std::string ToJwk() const;

  // OK when `signature` (the JWS Signature, already base64url-decoded) is a valid `alg`
  // signature of `signing_input` by this key. An ECDSA signature is R || S, each the curve size
  // (RFC 7518 §3.4); an RSA one PKCS #1 v1.5, the modulus size (RFC 7518 §3.3).
  // kUnauthenticated when !Fits(alg) or the signature does not verify.
  Status Verify(JwsAlgorithm alg, std::string_view signing_input, std::string_view signature) const;

 private:
  friend class SigningKey;
  PublicKey() = default;
  // The key `key` holds (public or private), its type, size and public members read from it;
  // kInvalid for a kind of key other than KeyType's.
  static Result<PublicKey> FromHandle(std::shared_ptr<const internal::KeyHandle> key);

  std::shared_ptr<const internal::KeyHandle> key_;
  KeyType type_ = KeyType::kRsa;
  std::optional<JwsAlgorithm> alg_;
  std::string kid_;
  bool use_sig_ = false;  // "use":"sig" given
  int bits_ = 0;
  // The public members in their canonical base64url form: x and y (EC), or n and e (RSA).
  std::string first_, second_;
};

// A private key that signs with one algorithm. Its public key carries that alg, "use":"sig" and
// as kid its RFC 7638 thumbprint, so that a JWKS of several keys stays unambiguous across
// rotations.
class SigningKey {
 public:
  // A fresh key: an EC key on the curve of ES256/ES384, or an RSA key of 3072 bits for
  // RS256/RS384 (https://www.rfc-editor.org/rfc/rfc7518#section-3.3 asks 2048 at least).
  // kInternal when OpenSSL fails.
  static Result<SigningKey> Generate(JwsAlgorithm alg);

  // The key a PEM private key holds (PKCS #8, "BEGIN PRIVATE KEY", as ToPem writes; the older
  // "BEGIN EC/RSA PRIVATE KEY" forms are read too; an encrypted key is refused). kInvalid when the
  // PEM is malformed or the key does not fit `alg` (curve, or RSA under 2048 bits).
  static Result<SigningKey> FromPem(std::string_view pem, JwsAlgorithm alg);

  // The private key as unencrypted PKCS #8 PEM (RFC 5958, RFC 7468 §10). A secret.
  Result<std::string> ToPem() const;

  JwsAlgorithm alg() const { return *public_.alg(); }
  // The thumbprint of the public key.
  const std::string& kid() const { return public_.kid(); }
  const PublicKey& public_key() const { return public_; }

  // The JWS Signature of `signing_input` with alg(): ECDSA as R || S (RFC 7518 §3.4), RSA
  // PKCS #1 v1.5. kInternal when OpenSSL fails.
  Result<std::string> Sign(std::string_view signing_input) const;

 private:
  explicit SigningKey(PublicKey public_key) : public_(std::move(public_key)) {}
  PublicKey public_;  // shares the private key object, which verifies too
};

}  // namespace vesta::crypto

#include "crypto/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <climits>

#include "crypto/base64url.h"
#include "crypto/digest.h"
#include "crypto/openssl_util.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::crypto {
namespace {

using internal::KeyHandle;

constexpr int kMinRsaBits = 2048;
constexpr int kGeneratedRsaBits = 3072;

// The curve size in bytes of an EC key type; 0 for RSA.
int CoordinateSize(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return 32;
    case KeyType::kEcP384:
      return 48;
    case KeyType::kRsa:
      return 0;
  }
  return 0;
}

// The JWK "crv" name (https://www.rfc-editor.org/rfc/rfc7518#section-6.2.1.1) and OpenSSL's.
std::string_view CurveName(KeyType type) { return type == KeyType::kEcP256 ? "P-256" : "P-384"; }
const char* OpensslCurveName(KeyType type) {
  return type == KeyType::kEcP256 ? "prime256v1" : "secp384r1";
}

// The key type an algorithm needs (for RS* any RSA key).
KeyType KeyTypeFor(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kES256:
      return KeyType::kEcP256;
    case JwsAlgorithm::kES384:
      return KeyType::kEcP384;
    case JwsAlgorithm::kRS256:
    case JwsAlgorithm::kRS384:
      return KeyType::kRsa;
  }
  return KeyType::kRsa;
}

const EVP_MD* DigestFor(JwsAlgorithm alg) {
  return alg == JwsAlgorithm::kES256 || alg == JwsAlgorithm::kRS256 ? EVP_sha256() : EVP_sha384();
}

// A base64url member of a JWK, decoded.
Result<std::string> Base64UrlMember(const json::Value& jwk, std::string_view name) {
  const json::Value* v = jwk.Find(name);
  if (v == nullptr || !v->is_string()) {
    return Invalid("JWK: member \"" + std::string(name) + "\" is missing or not a string");
  }
  Result<std::string> bytes = Base64UrlDecode(v->string_value());
  if (!bytes.ok()) {
    return Invalid("JWK: member \"" + std::string(name) + "\": " + bytes.status().message());
  }
  return bytes;
}

// A public key from OpenSSL parameters (EVP_PKEY_fromdata), checked with EVP_PKEY_public_check.
Result<PkeyPtr> PublicKeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld),
                                                                 &OSSL_PARAM_free);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpensslError(StatusCode::kInvalid, std::string("JWK: not a valid ") + type + " key");
  }
  PkeyPtr pkey(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return OpensslError(StatusCode::kInvalid,
                        std::string("JWK: the public key fails the ") + type + " key checks");
  }
  return pkey;
}

struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};

// https://www.rfc-editor.org/rfc/rfc7518#section-6.2.1: "x" and "y" are the coordinates, each
// "the full size of a coordinate for the curve specified in the "crv" parameter".
Result<PkeyPtr> EcKeyFromJwk(const json::Value& jwk, KeyType type) {
  ASSIGN_OR_RETURN(std::string x, Base64UrlMember(jwk, "x"));
  ASSIGN_OR_RETURN(std::string y, Base64UrlMember(jwk, "y"));
  size_t size = CoordinateSize(type);
  if (x.size() != size || y.size() != size) {
    return Invalid("JWK: the coordinates of a " + std::string(CurveName(type)) + " key must be " +
                   std::to_string(size) + " bytes each");
  }
  std::string point = "\x04" + x + y;  // SEC 1 §2.3.3, uncompressed
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, OpensslCurveName(type),
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpensslError(StatusCode::kInternal, "JWK: building an EC key");
  }
  return PublicKeyFromParams("EC", bld.get());
}

// https://www.rfc-editor.org/rfc/rfc7518#section-6.3.1: "n" and "e" big-endian unsigned.
Result<PkeyPtr> RsaKeyFromJwk(const json::Value& jwk) {
  ASSIGN_OR_RETURN(std::string n_bytes, Base64UrlMember(jwk, "n"));
  ASSIGN_OR_RETURN(std::string e_bytes, Base64UrlMember(jwk, "e"));
  if (n_bytes.size() > 2048 || e_bytes.size() > 8) {  // 16384 bits; e is 65537 in practice
    return Invalid("JWK: the RSA modulus or exponent is too large");
  }
  auto to_bn = [](const std::string& b) {
    return BnPtr(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(b.data()), int(b.size()), nullptr));
  };
  BnPtr n = to_bn(n_bytes), e = to_bn(e_bytes);
  if (n == nullptr || e == nullptr) return OpensslError(StatusCode::kInternal, "JWK: bignum");
  if (BN_num_bits(n.get()) < kMinRsaBits) {
    return Invalid("JWK: an RSA key of " + std::to_string(BN_num_bits(n.get())) +
                   " bits is refused; at least 2048 are required (RFC 7518 section 3.3)");
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return OpensslError(StatusCode::kInternal, "JWK: building an RSA key");
  }
  return PublicKeyFromParams("RSA", bld.get());
}

Result<BnPtr> BnParam(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
    return OpensslError(StatusCode::kInternal, std::string("reading key parameter ") + name);
  }
  return BnPtr(bn);
}

// ECDSA signatures: OpenSSL speaks DER (SEQUENCE { r INTEGER, s INTEGER }), JOSE the fixed-size
// concatenation R || S (https://www.rfc-editor.org/rfc/rfc7518#section-3.4).
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

Result<std::string> DerToRaw(std::string_view der, int size) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, long(der.size())));
  if (sig == nullptr) return OpensslError(StatusCode::kInternal, "reading an ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  if (BN_num_bytes(r) > size || BN_num_bytes(s) > size) {
    return Internal("an ECDSA signature larger than its curve");
  }
  return BnBytes(r, size) + BnBytes(s, size);
}

Result<std::string> RawToDer(std::string_view raw) {
  int half = int(raw.size() / 2);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(raw.data());
  BnPtr r(BN_bin2bn(p, half, nullptr)), s(BN_bin2bn(p + half, half, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return OpensslError(StatusCode::kInternal, "building an ECDSA signature");
  }
  r.release();  // now owned by sig
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return OpensslError(StatusCode::kInternal, "encoding an ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

// Refuses to ask for a passphrase: an encrypted PEM fails to load instead of prompting.
int NoPassphrase(char*, int, int, void*) { return 0; }

void AppendMember(std::string* out, std::string_view key, std::string_view value) {
  if (out->size() > 1) out->push_back(',');
  json::WriteString(key, out);
  out->push_back(':');
  json::WriteString(value, out);
}

}  // namespace

std::string_view JwsAlgorithmName(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kES256:
      return "ES256";
    case JwsAlgorithm::kES384:
      return "ES384";
    case JwsAlgorithm::kRS256:
      return "RS256";
    case JwsAlgorithm::kRS384:
      return "RS384";
  }
  return "";
}

std::optional<JwsAlgorithm> JwsAlgorithmFromName(std::string_view name) {
  for (JwsAlgorithm alg :
       {JwsAlgorithm::kES256, JwsAlgorithm::kES384, JwsAlgorithm::kRS256, JwsAlgorithm::kRS384}) {
    if (JwsAlgorithmName(alg) == name) return alg;
  }
  return std::nullopt;
}

// --- PublicKey ---

Result<PublicKey> PublicKey::FromHandle(std::shared_ptr<const KeyHandle> key) {
  EVP_PKEY* pkey = key->pkey;
  PublicKey out;
  if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
    out.type_ = KeyType::kRsa;
    ASSIGN_OR_RETURN(BnPtr n, BnParam(pkey, OSSL_PKEY_PARAM_RSA_N));
    ASSIGN_OR_RETURN(BnPtr e, BnParam(pkey, OSSL_PKEY_PARAM_RSA_E));
    out.first_ = Base64UrlEncode(BnBytes(n.get()));
    out.second_ = Base64UrlEncode(BnBytes(e.get()));
  } else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1) {
      return OpensslError(StatusCode::kInvalid, "an EC key without a named curve");
    }
    int nid = OBJ_txt2nid(group);
    if (nid == NID_X9_62_prime256v1) {
      out.type_ = KeyType::kEcP256;
    } else if (nid == NID_secp384r1) {
      out.type_ = KeyType::kEcP384;
    } else {
      return Invalid("an EC key on curve " + std::string(group) +
                     "; only P-256 and P-384 are used");
    }
    ASSIGN_OR_RETURN(BnPtr x, BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X));
    ASSIGN_OR_RETURN(BnPtr y, BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y));
    out.first_ = Base64UrlEncode(BnBytes(x.get(), CoordinateSize(out.type_)));
    out.second_ = Base64UrlEncode(BnBytes(y.get(), CoordinateSize(out.type_)));
  } else {
    return Invalid("a key that is neither EC nor RSA");
  }
  out.bits_ = EVP_PKEY_get_bits(pkey);
  out.key_ = std::move(key);
  return out;
}

Result<PublicKey> PublicKey::FromJwk(const json::Value& jwk) {
  if (!jwk.is_object()) return Invalid("JWK: not a JSON object");
  const json::Value* kty = jwk.Find("kty");
  if (kty == nullptr || !kty->is_string())
    return Invalid("JWK: \"kty\" is missing or not a string");
  // https://www.rfc-editor.org/rfc/rfc7517#section-4.2: "sig" or "enc".
  const json::Value* use = jwk.Find("use");
  if (use != nullptr && !use->is_string()) return Invalid("JWK: \"use\" is not a string");
  if (use != nullptr && use->string_value() != "sig") {
    return NotSupported("JWK: a key for use \"" + std::string(use->string_value()) +
                        "\", not for signatures");
  }
  const json::Value* kid = jwk.Find("kid");
  if (kid != nullptr && !kid->is_string()) return Invalid("JWK: \"kid\" is not a string");
  std::optional<JwsAlgorithm> alg;
  if (const json::Value* a = jwk.Find("alg"); a != nullptr) {
    if (!a->is_string()) return Invalid("JWK: \"alg\" is not a string");
    alg = JwsAlgorithmFromName(a->string_value());
    if (!alg) {
      return NotSupported("JWK: algorithm \"" + std::string(a->string_value()) +
                          "\" is not supported (ES256, ES384, RS256, RS384 are)");
    }
  }

  Result<PkeyPtr> pkey = Invalid("");
  if (kty->string_value() == "EC") {
    const json::Value* crv = jwk.Find("crv");
    if (crv == nullptr || !crv->is_string())
      return Invalid("JWK: \"crv\" is missing or not a string");
    if (crv->string_value() == "P-256") {
      pkey = EcKeyFromJwk(jwk, KeyType::kEcP256);
    } else if (crv->string_value() == "P-384") {
      pkey = EcKeyFromJwk(jwk, KeyType::kEcP384);
    } else {
      return NotSupported("JWK: EC curve \"" + std::string(crv->string_value()) +
                          "\" is not supported (P-256, P-384 are)");
    }
  } else if (kty->string_value() == "RSA") {
    pkey = RsaKeyFromJwk(jwk);
  } else {
    return NotSupported("JWK: key type \"" + std::string(kty->string_value()) +
                        "\" is not supported (EC, RSA are)");
  }
  if (!pkey.ok()) return pkey.status();
  ASSIGN_OR_RETURN(
      PublicKey key,
      FromHandle(std::make_shared<const KeyHandle>(std::move(pkey).value().release())));
  key.alg_ = alg;
  key.use_sig_ = use != nullptr;
  if (kid != nullptr) key.kid_ = std::string(kid->string_value());
  if (alg && KeyTypeFor(*alg) != key.type_) {
    return Invalid("JWK: algorithm " + std::string(JwsAlgorithmName(*alg)) +
                   " does not fit the key's type and curve");
  }
  return key;
}

Result<PublicKey> PublicKey::FromJwkJson(std::string_view jwk_json) {
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(jwk_json));
  return FromJwk(doc.root());
}

bool PublicKey::Fits(JwsAlgorithm alg) const {
  if (alg_ && *alg_ != alg) return false;
  return KeyTypeFor(alg) == type_;
}

// https://www.rfc-editor.org/rfc/rfc7638#section-3.2: "The required members for an elliptic
// curve public key are "crv", "kty", "x", "y"; for an RSA public key "e", "kty", "n""; in
// lexicographic order, no whitespace.
std::string PublicKey::Thumbprint() const {
  std::string members = "{";
  if (type_ == KeyType::kRsa) {
    AppendMember(&members, "e", second_);
    AppendMember(&members, "kty", "RSA");
    AppendMember(&members, "n", first_);
  } else {
    AppendMember(&members, "crv", CurveName(type_));
    AppendMember(&members, "kty", "EC");
    AppendMember(&members, "x", first_);
    AppendMember(&members, "y", second_);
  }
  members += "}";
  return Base64UrlEncode(Sha256(members));
}

std::string PublicKey::ToJwk() const {
  std::string out = "{";
  if (type_ == KeyType::kRsa) {
    AppendMember(&out, "kty", "RSA");
    AppendMember(&out, "n", first_);
    AppendMember(&out, "e", second_);
  } else {
    AppendMember(&out, "kty", "EC");
    AppendMember(&out, "crv", CurveName(type_));
    AppendMember(&out, "x", first_);
    AppendMember(&out, "y", second_);
  }
  if (alg_) AppendMember(&out, "alg", JwsAlgorithmName(*alg_));
  if (use_sig_) AppendMember(&out, "use", "sig");
  if (!kid_.empty()) AppendMember(&out, "kid", kid_);
  out += "}";
  return out;
}

Status PublicKey::Verify(JwsAlgorithm alg, std::string_view signing_input,
                         std::string_view signature) const {
  if (!Fits(alg)) {
    return Unauthenticated("algorithm " + std::string(JwsAlgorithmName(alg)) +
                           " does not fit key " +
                           (kid_.empty() ? std::string("(no kid)") : "\"" + kid_ + "\""));
  }
  std::string der;
  std::string_view checked = signature;
  if (type_ == KeyType::kRsa) {
    if (signature.size() != size_t(EVP_PKEY_get_size(key_->pkey))) {
      return Unauthenticated("signature: an RSA signature must be as long as the modulus");
    }
  } else {
    if (signature.size() != 2 * size_t(CoordinateSize(type_))) {
      return Unauthenticated("signature: an " + std::string(JwsAlgorithmName(alg)) +
                             " signature is " + std::to_string(2 * CoordinateSize(type_)) +
                             " bytes (R || S), not " + std::to_string(signature.size()));
    }
    ASSIGN_OR_RETURN(der, RawToDer(signature));
    checked = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(alg), nullptr, key_->pkey) != 1) {
    return OpensslError(StatusCode::kInternal, "starting a signature check");
  }
  int ok = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(checked.data()), checked.size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  if (ok != 1) {
    ClearOpensslErrors();
    return Unauthenticated("signature: does not verify");
  }
  return Status::Ok();
}

// --- SigningKey ---

Result<SigningKey> SigningKey::Generate(JwsAlgorithm alg) {
  KeyType type = KeyTypeFor(alg);
  EVP_PKEY* raw = type == KeyType::kRsa
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{kGeneratedRsaBits})
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", OpensslCurveName(type));
  if (raw == nullptr) return OpensslError(StatusCode::kInternal, "generating a key");
  ASSIGN_OR_RETURN(PublicKey pub, PublicKey::FromHandle(std::make_shared<const KeyHandle>(raw)));
  pub.alg_ = alg;
  pub.use_sig_ = true;
  pub.kid_ = pub.Thumbprint();
  return SigningKey(std::move(pub));
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem, JwsAlgorithm alg) {
  if (pem.size() > INT_MAX) return Invalid("PEM: too large");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  if (bio == nullptr) return OpensslError(StatusCode::kInternal, "PEM: buffer");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr);
  if (raw == nullptr) {
    return OpensslError(StatusCode::kInvalid, "PEM: no unencrypted private key could be read");
  }
  ASSIGN_OR_RETURN(PublicKey pub, PublicKey::FromHandle(std::make_shared<const KeyHandle>(raw)));
  if (pub.type_ != KeyTypeFor(alg)) {
    return Invalid("PEM: the key does not fit algorithm " + std::string(JwsAlgorithmName(alg)));
  }
  if (pub.type_ == KeyType::kRsa && pub.bits_ < kMinRsaBits) {
    return Invalid("PEM: an RSA key of " + std::to_string(pub.bits_) +
                   " bits is refused; at least 2048 are required");
  }
  pub.alg_ = alg;
  pub.use_sig_ = true;
  pub.kid_ = pub.Thumbprint();
  return SigningKey(std::move(pub));
}

Result<std::string> SigningKey::ToPem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (bio == nullptr || PEM_write_bio_PKCS8PrivateKey(bio.get(), public_.key_->pkey, nullptr,
                                                      nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError(StatusCode::kInternal, "PEM: writing the private key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(len));
}

Result<std::string> SigningKey::Sign(std::string_view signing_input) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(alg()), nullptr, public_.key_->pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) != 1) {
    return OpensslError(StatusCode::kInternal, "signing");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     signing_input.size()) != 1) {
    return OpensslError(StatusCode::kInternal, "signing");
  }
  sig.resize(len);
  if (public_.type_ == KeyType::kRsa) return sig;
  return DerToRaw(sig, CoordinateSize(public_.type_));
}

}  // namespace vesta::crypto

// Signing keys, JWKs and key sets (crypto/keys.h, crypto/key_set.h).
#include "crypto/keys.h"

#include <gtest/gtest.h>

#include "crypto/base64url.h"
#include "crypto/key_set.h"
#include "json/parse.h"

namespace vesta::crypto {
namespace {

// https://www.rfc-editor.org/rfc/rfc7638#section-3.1
constexpr const char* kRfc7638Key = R"({
  "kty": "RSA",
  "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
  "e": "AQAB",
  "alg": "RS256",
  "kid": "2011-04-29"
})";

// https://www.rfc-editor.org/rfc/rfc7517#appendix-A.1, the EC key (P-256).
constexpr const char* kRfc7517EcKey = R"({"kty":"EC","crv":"P-256",
  "x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
  "use":"sig","kid":"1"})";

TEST(PublicKeyTest, Rfc7638Thumbprint) {
  Result<PublicKey> key = PublicKey::FromJwkJson(kRfc7638Key);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->Thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(key->type(), KeyType::kRsa);
  EXPECT_EQ(key->bits(), 2048);
  EXPECT_EQ(key->kid(), "2011-04-29");
  EXPECT_EQ(key->alg(), JwsAlgorithm::kRS256);
  EXPECT_TRUE(key->Fits(JwsAlgorithm::kRS256));
  EXPECT_FALSE(key->Fits(JwsAlgorithm::kRS384));  // the JWK's alg pins it
  EXPECT_FALSE(key->Fits(JwsAlgorithm::kES256));
}

TEST(PublicKeyTest, ReadsAnEcJwkAndWritesItBack) {
  Result<PublicKey> key = PublicKey::FromJwkJson(kRfc7517EcKey);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->type(), KeyType::kEcP256);
  EXPECT_TRUE(key->Fits(JwsAlgorithm::kES256));
  EXPECT_FALSE(key->Fits(JwsAlgorithm::kES384));  // another curve
  EXPECT_FALSE(key->Fits(JwsAlgorithm::kRS256));
  EXPECT_EQ(key->ToJwk(),
            R"({"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",)"
            R"("y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"sig","kid":"1"})");
}

TEST(PublicKeyTest, RefusesMalformedAndWeakKeys) {
  struct Case {
    std::string jwk;
    StatusCode code;
    std::string message_part;
  } cases[] = {
      {R"([])", StatusCode::kInvalid, "not a JSON object"},
      {R"({"n":"AQAB","e":"AQAB"})", StatusCode::kInvalid, "kty"},
      {R"({"kty":"RSA","n":")" + Base64UrlEncode(std::string(128, '\xff')) + R"(","e":"AQAB"})",
       StatusCode::kInvalid, "1024 bits is refused"},
      {R"({"kty":"RSA","e":"AQAB"})", StatusCode::kInvalid, "\"n\""},
      {R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})", StatusCode::kInvalid, "32 bytes"},
      {R"({"kty":"EC","crv":"P-256","x":")" + Base64UrlEncode(std::string(32, '\x01')) +
           R"(","y":")" + Base64UrlEncode(std::string(32, '\x02')) + R"("})",
       StatusCode::kInvalid, "not a valid EC key"},
      {R"({"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4=","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"})",
       StatusCode::kInvalid, "base64url"},
      {R"({"kty":"EC","crv":"P-256","alg":"ES384","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"})",
       StatusCode::kInvalid, "does not fit"},
      {R"({"kty":"oct","k":"c2VjcmV0"})", StatusCode::kNotSupported, "\"oct\""},
      {R"({"kty":"EC","crv":"P-521","x":"AA","y":"AA"})", StatusCode::kNotSupported, "P-521"},
      {R"({"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"})", StatusCode::kNotSupported, "\"enc\""},
      {R"({"kty":"RSA","alg":"PS256","n":"AQAB","e":"AQAB"})", StatusCode::kNotSupported, "PS256"},
  };
  for (const Case& c : cases) {
    Result<PublicKey> key = PublicKey::FromJwkJson(c.jwk);
    ASSERT_FALSE(key.ok()) << c.jwk;
    EXPECT_EQ(key.status().code(), c.code) << c.jwk << ": " << key.status().message();
    EXPECT_NE(key.status().message().find(c.message_part), std::string::npos)
        << c.jwk << ": " << key.status().message();
  }
}

class SigningKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    es384_ = new SigningKey(SigningKey::Generate(JwsAlgorithm::kES384).value());
    rs384_ = new SigningKey(SigningKey::Generate(JwsAlgorithm::kRS384).value());
  }
  static void TearDownTestSuite() {
    delete es384_;
    delete rs384_;
  }
  static SigningKey* es384_;
  static SigningKey* rs384_;
};
SigningKey* SigningKeyTest::es384_ = nullptr;
SigningKey* SigningKeyTest::rs384_ = nullptr;

TEST_F(SigningKeyTest, GeneratesKeysOfTheRightShape) {
  EXPECT_EQ(es384_->public_key().type(), KeyType::kEcP384);
  EXPECT_EQ(es384_->public_key().bits(), 384);
  EXPECT_EQ(rs384_->public_key().type(), KeyType::kRsa);
  EXPECT_EQ(rs384_->public_key().bits(), 3072);
  EXPECT_EQ(es384_->kid(), es384_->public_key().Thumbprint());
  EXPECT_EQ(es384_->kid().size(), 43u);
  EXPECT_NE(es384_->kid(), rs384_->kid());
}

TEST_F(SigningKeyTest, ExportsThePublicJwk) {
  Result<json::Document> ec = json::Parse(es384_->public_key().ToJwk());
  ASSERT_TRUE(ec.ok());
  const json::Value& e = ec->root();
  EXPECT_EQ(e.FindString("kty"), "EC");
  EXPECT_EQ(e.FindString("crv"), "P-384");
  EXPECT_EQ(e.FindString("x").size(), 64u);  // 48 bytes
  EXPECT_EQ(e.FindString("y").size(), 64u);
  EXPECT_EQ(e.FindString("alg"), "ES384");
  EXPECT_EQ(e.FindString("use"), "sig");
  EXPECT_EQ(e.FindString("kid"), es384_->kid());
  EXPECT_EQ(e.Find("d"), nullptr);

  Result<json::Document> rsa = json::Parse(rs384_->public_key().ToJwk());
  ASSERT_TRUE(rsa.ok());
  const json::Value& r = rsa->root();
  EXPECT_EQ(r.FindString("kty"), "RSA");
  EXPECT_EQ(r.FindString("n").size(), 512u);  // 384 bytes
  EXPECT_EQ(r.FindString("e"), "AQAB");
  EXPECT_EQ(r.FindString("alg"), "RS384");
  EXPECT_EQ(r.Find("d"), nullptr);

  // Read back, the JWK is the same key with the same thumbprint.
  Result<PublicKey> back = PublicKey::FromJwkJson(rs384_->public_key().ToJwk());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Thumbprint(), rs384_->kid());
  EXPECT_EQ(back->ToJwk(), rs384_->public_key().ToJwk());
}

TEST_F(SigningKeyTest, PemRoundTrip) {
  for (const SigningKey* key : {es384_, rs384_}) {
    Result<std::string> pem = key->ToPem();
    ASSERT_TRUE(pem.ok());
    EXPECT_TRUE(pem->starts_with("-----BEGIN PRIVATE KEY-----\n")) << *pem;
    Result<SigningKey> loaded = SigningKey::FromPem(*pem, key->alg());
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    EXPECT_EQ(loaded->kid(), key->kid());
    Result<std::string> sig = loaded->Sign("data");
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(key->public_key().Verify(key->alg(), "data", *sig).ok());
  }
  // ES384 signatures are R || S, 96 bytes.
  EXPECT_EQ(es384_->Sign("data")->size(), 96u);
  EXPECT_EQ(rs384_->Sign("data")->size(), 384u);
}

TEST_F(SigningKeyTest, PemRefusals) {
  Result<SigningKey> garbage = SigningKey::FromPem("not a pem", JwsAlgorithm::kES384);
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalid);
  EXPECT_NE(garbage.status().message().find("PEM"), std::string::npos);
  Result<SigningKey> wrong_curve = SigningKey::FromPem(*es384_->ToPem(), JwsAlgorithm::kES256);
  EXPECT_NE(wrong_curve.status().message().find("does not fit algorithm ES256"), std::string::npos);
  Result<SigningKey> wrong_type = SigningKey::FromPem(*rs384_->ToPem(), JwsAlgorithm::kES384);
  EXPECT_FALSE(wrong_type.ok());
}

TEST(KeySetTest, ParsesSetsAndSingleKeysAndSkipsKeysNotForSignatures) {
  std::string jwks = std::string(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"},)") + kRfc7638Key + "," +
                     kRfc7517EcKey + R"(,{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]})";
  Result<KeySet> set = KeySet::Parse(jwks);
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->keys().size(), 2u);
  EXPECT_EQ(set->skipped().size(), 2u);
  EXPECT_NE(set->skipped()[0].find("keys[0]"), std::string::npos);

  Result<KeySet> single = KeySet::Parse(kRfc7517EcKey);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->keys().size(), 1u);

  Result<KeySet> reparsed = KeySet::Parse(set->ToJwks());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->ToJwks(), set->ToJwks());
}

TEST(KeySetTest, CandidatesByKidOrByAlgorithm) {
  Result<KeySet> set =
      KeySet::Parse(std::string(R"({"keys":[)") + kRfc7638Key + "," + kRfc7517EcKey + "]}");
  ASSERT_TRUE(set.ok());
  auto by_kid = set->Candidates("1", JwsAlgorithm::kES256);
  ASSERT_TRUE(by_kid.ok());
  ASSERT_EQ(by_kid->size(), 1u);
  EXPECT_EQ((*by_kid)[0]->kid(), "1");
  auto no_kid = set->Candidates("", JwsAlgorithm::kRS256);
  ASSERT_TRUE(no_kid.ok());
  EXPECT_EQ((*no_kid)[0]->kid(), "2011-04-29");

  EXPECT_NE(set->Candidates("zz", JwsAlgorithm::kES256).status().message().find("no key with kid"),
            std::string::npos);
  EXPECT_NE(set->Candidates("1", JwsAlgorithm::kRS256).status().message().find("does not fit"),
            std::string::npos);
  EXPECT_NE(set->Candidates("", JwsAlgorithm::kES384).status().message().find("fits"),
            std::string::npos);
}

TEST(KeySetTest, RefusesBadSets) {
  for (const char* bad : {"[]", "{}", R"({"keys":{}})", R"({"keys":[]})",
                          R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})",
                          R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})", "{"}) {
    Result<KeySet> set = KeySet::Parse(bad);
    EXPECT_FALSE(set.ok()) << bad;
    EXPECT_EQ(set.status().code(), StatusCode::kInvalid) << bad;
  }
}

}  // namespace
}  // namespace vesta::crypto

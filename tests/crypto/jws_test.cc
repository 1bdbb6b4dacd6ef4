// JWS / JWT signing and verification (crypto/jws.h) and the claims helper (crypto/jwt_claims.h).
#include "crypto/jws.h"

#include <gtest/gtest.h>

#include "crypto/base64url.h"
#include "crypto/digest.h"
#include "crypto/jwt_claims.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::crypto {
namespace {

const std::vector<JwsAlgorithm> kBoth = {JwsAlgorithm::kES384, JwsAlgorithm::kRS384};
constexpr const char* kClaims =
    R"({"iss":"client-1","sub":"client-1","aud":"https://fhir.example/token","exp":1767225600,"jti":"a1"})";

struct Segments {
  std::string header, payload, signature;
};

Segments Split(const std::string& token) {
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

std::string Join(const Segments& s) { return s.header + "." + s.payload + "." + s.signature; }

class JwsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    es384_ = new SigningKey(SigningKey::Generate(JwsAlgorithm::kES384).value());
    rs384_ = new SigningKey(SigningKey::Generate(JwsAlgorithm::kRS384).value());
    other_es384_ = new SigningKey(SigningKey::Generate(JwsAlgorithm::kES384).value());
    keys_ = new KeySet();
    keys_->Add(es384_->public_key());
    keys_->Add(rs384_->public_key());
  }
  static void TearDownTestSuite() {
    delete es384_;
    delete rs384_;
    delete other_es384_;
    delete keys_;
  }

  // The message of VerifyJws's refusal of `token`, which must be kInvalid.
  static std::string Refusal(const std::string& token, const KeySet& keys = *keys_,
                             const std::vector<JwsAlgorithm>& allowed = kBoth) {
    Result<VerifiedJws> r = VerifyJws(token, keys, allowed);
    if (r.ok()) return "ACCEPTED";
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().message();
    return r.status().message();
  }

  static SigningKey* es384_;
  static SigningKey* rs384_;
  static SigningKey* other_es384_;
  static KeySet* keys_;
};
SigningKey* JwsTest::es384_ = nullptr;
SigningKey* JwsTest::rs384_ = nullptr;
SigningKey* JwsTest::other_es384_ = nullptr;
KeySet* JwsTest::keys_ = nullptr;

#define EXPECT_REFUSED(token, part, ...)                                    \
  do {                                                                      \
    std::string message = Refusal(token, ##__VA_ARGS__);                    \
    EXPECT_NE(message.find(part), std::string::npos) << "got: " << message; \
  } while (0)

TEST_F(JwsTest, SignAndVerifyRoundTrip) {
  for (const SigningKey* key : {es384_, rs384_}) {
    Result<std::string> token = SignJwt(*key, kClaims);
    ASSERT_TRUE(token.ok()) << token.status().message();
    Result<VerifiedJws> jws = VerifyJws(*token, *keys_, kBoth);
    ASSERT_TRUE(jws.ok()) << jws.status().message();
    EXPECT_EQ(jws->alg, key->alg());
    EXPECT_EQ(jws->kid, key->kid());
    EXPECT_EQ(jws->header.root().FindString("typ"), "JWT");
    EXPECT_EQ(json::ToString(jws->payload.root()), kClaims);
    // The ES384 signature is the raw 96-byte R || S.
    if (key == es384_) {
      EXPECT_EQ(Base64UrlDecode(Split(*token).signature)->size(), 96u);
    }
  }
}

TEST_F(JwsTest, WithoutKidTriesTheKeysOfTheAlgorithm) {
  KeySet two_ec;
  two_ec.Add(other_es384_->public_key());
  two_ec.Add(es384_->public_key());
  two_ec.Add(rs384_->public_key());
  Result<std::string> token = SignJws(*es384_, R"({"alg":"ES384"})", R"({"a":1})");
  ASSERT_TRUE(token.ok());
  Result<VerifiedJws> jws = VerifyJws(*token, two_ec, kBoth);
  ASSERT_TRUE(jws.ok()) << jws.status().message();
  EXPECT_EQ(jws->kid, "");
}

TEST_F(JwsTest, RefusesTamperedTokens) {
  std::string token = *SignJwt(*es384_, kClaims);
  Segments s = Split(token);

  Segments payload = s;
  payload.payload = Base64UrlEncode(R"({"iss":"client-1","sub":"admin"})");
  EXPECT_REFUSED(Join(payload), "signature does not verify");

  Segments header = s;
  header.header =
      Base64UrlEncode(R"({"alg":"ES384","typ":"JWT","kid":")" + es384_->kid() + R"(","x":1})");
  EXPECT_REFUSED(Join(header), "signature does not verify");

  Segments signature = s;
  std::string sig = *Base64UrlDecode(s.signature);
  sig[10] ^= 0x01;
  signature.signature = Base64UrlEncode(sig);
  EXPECT_REFUSED(Join(signature), "signature does not verify");

  // Truncated: a character less, a segment less, the signature gone.
  // (127 characters: non-canonical base64url, or 95 bytes when the last one's spare bits are 0.)
  EXPECT_REFUSED(token.substr(0, token.size() - 1), "signature");
  EXPECT_REFUSED(token.substr(0, token.size() - 4), "96 bytes (R || S), not 93");
  EXPECT_REFUSED(s.header + "." + s.payload, "three dot-separated segments");
  EXPECT_REFUSED(s.header + "." + s.payload + ".", "signature segment is empty");
  EXPECT_REFUSED(token + ".", "three dot-separated segments");
  EXPECT_REFUSED("", "three dot-separated segments");

  // RSA signatures too.
  Segments rs = Split(*SignJwt(*rs384_, kClaims));
  rs.payload = Base64UrlEncode(R"({"iss":"x"})");
  EXPECT_REFUSED(Join(rs), "signature does not verify");
}

TEST_F(JwsTest, RefusesMalformedSegments) {
  Segments s = Split(*SignJwt(*es384_, kClaims));
  EXPECT_REFUSED(s.header + "=." + s.payload + "." + s.signature, "JWS header: base64url");
  EXPECT_REFUSED(Base64UrlEncode("not json") + "." + s.payload + "." + s.signature,
                 "JWS header is not JSON");
  EXPECT_REFUSED(Base64UrlEncode("[1]") + "." + s.payload + "." + s.signature, "not a JSON object");
  EXPECT_REFUSED(Base64UrlEncode(R"({"typ":"JWT"})") + "." + s.payload + "." + s.signature,
                 "\"alg\" is missing");
  EXPECT_REFUSED(
      Base64UrlEncode(R"({"alg":"ES384","alg":"none"})") + "." + s.payload + "." + s.signature,
      "not JSON");
  EXPECT_REFUSED(std::string(kMaxJwsBytes + 1, 'a'), "longer than");

  // A correctly signed token whose payload is not a JSON object.
  Result<std::string> text = SignJws(*es384_, R"({"alg":"ES384"})", "hello");
  ASSERT_TRUE(text.ok());
  EXPECT_REFUSED(*text, "JWS payload is not JSON");
  // A crit header, correctly signed.
  Result<std::string> crit =
      SignJws(*es384_, R"({"alg":"ES384","crit":["b64"],"b64":false})", R"({"a":1})");
  ASSERT_TRUE(crit.ok());
  EXPECT_REFUSED(*crit, "\"crit\"");
}

TEST_F(JwsTest, RefusesAlgNoneAndHmac) {
  std::string payload = Base64UrlEncode(kClaims);
  std::string none = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  EXPECT_REFUSED(none, "\"alg\":\"none\"");
  EXPECT_REFUSED(Base64UrlEncode(R"({"alg":"None"})") + "." + payload + "." + Base64UrlEncode("x"),
                 "\"alg\":\"none\"");
  // The classic confusion: HMAC keyed with the server's public key.
  std::string hs = Base64UrlEncode(R"({"alg":"HS256","kid":")" + rs384_->kid() + R"("})") + "." +
                   payload + "." + Base64UrlEncode(Sha256("pretend HMAC"));
  EXPECT_REFUSED(hs, "HMAC algorithm HS256 is refused");
  EXPECT_REFUSED(Base64UrlEncode(R"({"alg":"PS384"})") + "." + payload + ".AAAA",
                 "\"PS384\" is not supported");
}

TEST_F(JwsTest, RefusesAlgorithmsOffTheAllowList) {
  std::string rs = *SignJwt(*rs384_, kClaims);
  EXPECT_REFUSED(rs, "RS384 is not allowed", *keys_, {JwsAlgorithm::kES384});
  EXPECT_REFUSED(rs, "not allowed", *keys_, {});
}

TEST_F(JwsTest, RefusesAlgorithmConfusion) {
  // An ES384 header naming the RSA key: never checked with that key.
  Segments s = Split(*SignJwt(*es384_, kClaims));
  s.header = Base64UrlEncode(R"({"alg":"ES384","kid":")" + rs384_->kid() + R"("})");
  EXPECT_REFUSED(Join(s), "does not fit algorithm ES384");

  // An ES384 token checked against a set of only RSA keys.
  KeySet rsa_only;
  rsa_only.Add(rs384_->public_key());
  Result<std::string> no_kid = SignJws(*es384_, R"({"alg":"ES384"})", R"({"a":1})");
  EXPECT_REFUSED(*no_kid, "no key in the key set fits algorithm ES384", rsa_only);

  // An RS384 header over an EC key's kid.
  Segments r = Split(*SignJwt(*rs384_, kClaims));
  r.header = Base64UrlEncode(R"({"alg":"RS384","kid":")" + es384_->kid() + R"("})");
  EXPECT_REFUSED(Join(r), "does not fit algorithm RS384");

  // ES256 against a P-384 key.
  Segments e = Split(*SignJwt(*es384_, kClaims));
  e.header = Base64UrlEncode(R"({"alg":"ES256","kid":")" + es384_->kid() + R"("})");
  EXPECT_REFUSED(Join(e), "does not fit algorithm ES256", *keys_,
                 {JwsAlgorithm::kES256, JwsAlgorithm::kES384});
}

TEST_F(JwsTest, RefusesOtherKeysAndUnknownKids) {
  // Signed by a key that is not in the set: its kid is unknown.
  std::string other = *SignJwt(*other_es384_, kClaims);
  EXPECT_REFUSED(other, "no key with kid \"" + other_es384_->kid() + "\"");
  // The same without a kid: the set's ES384 key does not verify it.
  std::string other_no_kid = *SignJws(*other_es384_, R"({"alg":"ES384"})", kClaims);
  EXPECT_REFUSED(other_no_kid, "signature does not verify with the key for ES384");
  // Or claiming the kid of a key in the set.
  std::string forged =
      *SignJws(*other_es384_, R"({"alg":"ES384","kid":")" + es384_->kid() + R"("})", kClaims);
  EXPECT_REFUSED(forged, "signature does not verify");
  EXPECT_REFUSED(*SignJws(*es384_, R"({"alg":"ES384","kid":7})", kClaims),
                 "\"kid\" is not a string");
}

TEST_F(JwsTest, SignRefusesBadInput) {
  EXPECT_FALSE(SignJwt(*es384_, "[1]").ok());
  EXPECT_FALSE(SignJwt(*es384_, "{").ok());
  Result<std::string> mismatch = SignJws(*es384_, R"({"alg":"RS384"})", "{}");
  EXPECT_NE(mismatch.status().message().find("must be ES384"), std::string::npos);
}

TEST(JwtClaimsTest, ReadsTheRegisteredClaims) {
  Result<json::Document> doc = json::Parse(
      R"({"iss":"a","sub":"b","aud":["x","y"],"exp":1767225600,"nbf":1.5e9,"iat":1767225000.7,"jti":"j","other":true})");
  ASSERT_TRUE(doc.ok());
  Result<JwtClaims> c = ReadJwtClaims(doc->root());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->iss, "a");
  EXPECT_EQ(c->sub, "b");
  EXPECT_EQ(c->aud, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(c->exp, 1767225600);
  EXPECT_EQ(c->nbf, 1500000000);
  EXPECT_EQ(c->iat, 1767225000);
  EXPECT_EQ(c->jti, "j");

  Result<json::Document> one = json::Parse(R"({"aud":"x"})");
  Result<JwtClaims> d = ReadJwtClaims(one->root());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->aud, std::vector<std::string>{"x"});
  EXPECT_FALSE(d->exp.has_value());
  EXPECT_FALSE(d->iss.has_value());
}

TEST(JwtClaimsTest, RefusesWrongTypes) {
  for (const char* bad :
       {R"({"exp":"1767225600"})", R"({"iat":true})", R"({"nbf":1e300})", R"({"iss":1})",
        R"({"sub":null})", R"({"aud":1})", R"({"aud":["a",2]})", R"({"jti":[]})", "[]"}) {
    Result<json::Document> doc = json::Parse(bad);
    ASSERT_TRUE(doc.ok()) << bad;
    Result<JwtClaims> c = ReadJwtClaims(doc->root());
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalid);
  }
}

}  // namespace
}  // namespace vesta::crypto

// base64url, digests, randomness and PKCE (crypto/base64url.h, digest.h, random.h, pkce.h).
#include <gtest/gtest.h>

#include "base/strings.h"
#include "crypto/base64url.h"
#include "crypto/digest.h"
#include "crypto/pkce.h"
#include "crypto/random.h"

namespace vesta::crypto {
namespace {

// https://www.rfc-editor.org/rfc/rfc4648#section-10, unpadded.
TEST(Base64UrlTest, EncodesTheRfcVectorsWithoutPadding) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
  };
  for (const auto& [bytes, text] : cases) {
    EXPECT_EQ(Base64UrlEncode(bytes), text);
    Result<std::string> decoded = Base64UrlDecode(text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status().message();
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64UrlTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) {
    Result<std::string> back = Base64UrlDecode(Base64UrlEncode(all.substr(0, n)));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, all.substr(0, n));
  }
}

TEST(Base64UrlTest, DecodingIsStrict) {
  for (const char* bad : {"Zg==", "Zg=", "Zm9v=", "a+b/", "Zm9v Yg", "Zm9v\n", "Z", "Zm9vY",
                          "Zh",   // 'h' leaves the low bits 0001: non-canonical for "f"
                          "Zm9",  // '9' leaves 01: non-canonical for "fo"
                          "Zm9v!"}) {
    Result<std::string> r = Base64UrlDecode(bad);
    EXPECT_FALSE(r.ok()) << "accepted: " << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalid);
      EXPECT_NE(r.status().message().find("base64url"), std::string::npos);
    }
  }
}

// FIPS 180-2, Appendix B.1 and D.1.
TEST(DigestTest, ShaOfAbc) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha384("abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
            "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(Sha256("").size(), 32u);
}

TEST(DigestTest, ConstantTimeEqual) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEqual("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEqual("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEqual("", "x"));
}

TEST(RandomTest, BytesAndTokens) {
  Result<std::string> a = RandomBytes(32);
  Result<std::string> b = RandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  Result<std::string> token = RandomToken();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->size(), 43u);  // 256 bits
  EXPECT_EQ(
      token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_EQ(RandomToken(16)->size(), 22u);
}

// https://www.rfc-editor.org/rfc/rfc7636#appendix-B: 32 random octets, their base64url the
// code_verifier, and its S256 challenge.
TEST(PkceTest, RfcAppendixB) {
  const unsigned char octets[] = {116, 24,  223, 180, 151, 153, 224, 37,  79,  250, 96,
                                  125, 216, 173, 187, 186, 22,  212, 37,  77,  105, 214,
                                  191, 240, 91,  88,  5,   88,  83,  132, 141, 121};
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  EXPECT_EQ(Base64UrlEncode(std::string(reinterpret_cast<const char*>(octets), sizeof octets)),
            verifier);
  EXPECT_EQ(PkceS256Challenge(verifier), challenge);
  EXPECT_TRUE(CheckPkceS256(verifier, challenge).ok());
}

TEST(PkceTest, RefusesBadVerifiersAndMismatches) {
  const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  Status mismatch = CheckPkceS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", challenge);
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalid);
  EXPECT_NE(mismatch.message().find("does not match"), std::string::npos);

  std::string short_verifier(42, 'a');
  EXPECT_NE(
      CheckPkceS256(short_verifier, PkceS256Challenge(short_verifier)).message().find("43 to 128"),
      std::string::npos);
  std::string long_verifier(129, 'a');
  EXPECT_FALSE(CheckPkceS256(long_verifier, PkceS256Challenge(long_verifier)).ok());
  std::string longest(128, '~');
  EXPECT_TRUE(CheckPkceS256(longest, PkceS256Challenge(longest)).ok());
  std::string bad_char = std::string(43, 'a') + "+";
  EXPECT_NE(CheckPkceS256(bad_char, PkceS256Challenge(bad_char)).message().find("unreserved"),
            std::string::npos);
  EXPECT_FALSE(CheckPkceS256(std::string(43, 'a'), "").ok());
}

}  // namespace
}  // namespace vesta::crypto

// Our JOSE against panva/jose's (jose_interop.mjs, run with node): jose's ES384 and RS384 keys
// and tokens verified here, and our keys and tokens verified by jose, its thumbprints equal to our
// kids. Skips when node or node_modules/jose is absent (npm ci installs it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "crypto/jws.h"
#include "crypto/jwt_claims.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::crypto {
namespace {

namespace fs = std::filesystem;

// What `node jose_interop.mjs <args>` prints, or "" after a failed test assertion.
std::string RunScript(const std::string& args) {
  std::string command = std::string("'") + VESTA_NODE + "' '" + VESTA_JOSE_SCRIPT + "' " + args;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return "";
  }
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  int status = pclose(pipe);
  EXPECT_EQ(status, 0) << command << " failed";
  return out;
}

class JoseInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(VESTA_NODE).empty() || access(VESTA_NODE, X_OK) != 0) {
      GTEST_SKIP() << "node is not installed";
    }
    if (!fs::exists(fs::path(VESTA_NODE_MODULES) / "jose" / "package.json")) {
      GTEST_SKIP() << "node_modules/jose is absent (run npm ci)";
    }
  }
};

TEST_F(JoseInteropTest, VerifiesJoseTokens) {
  std::string out = RunScript("make");
  Result<json::Document> doc = json::Parse(out);
  ASSERT_TRUE(doc.ok()) << out;
  const json::Value* jwks = doc->root().Find("jwks");
  ASSERT_NE(jwks, nullptr);
  Result<KeySet> keys = KeySet::Parse(json::ToString(*jwks));
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  ASSERT_EQ(keys->keys().size(), 2u);
  for (const PublicKey& key : keys->keys()) {
    EXPECT_EQ(key.Thumbprint(), key.kid());  // jose's RFC 7638 thumbprint is ours
  }
  const json::Value* tokens = doc->root().Find("tokens");
  ASSERT_NE(tokens, nullptr);
  ASSERT_EQ(tokens->size(), 4u);
  for (const json::Value& t : tokens->items()) {
    std::string alg(t.FindString("alg"));
    std::string token(t.FindString("token"));
    Result<VerifiedJws> jws = VerifyJws(token, *keys, {JwsAlgorithm::kES384, JwsAlgorithm::kRS384});
    ASSERT_TRUE(jws.ok()) << alg << ": " << jws.status().message();
    EXPECT_EQ(JwsAlgorithmName(jws->alg), alg);
    Result<JwtClaims> claims = ReadJwtClaims(jws->payload.root());
    ASSERT_TRUE(claims.ok());
    EXPECT_EQ(claims->iss, "jose-client");
    EXPECT_EQ(claims->aud, std::vector<std::string>{"https://fhir.example/token"});
    EXPECT_EQ(claims->exp, 1767225600);

    // And a tampered copy is refused.
    std::string tampered = token;
    tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifyJws(tampered, *keys, {JwsAlgorithm::kES384, JwsAlgorithm::kRS384}).ok());
  }
}

TEST_F(JoseInteropTest, JoseVerifiesOurTokens) {
  KeySet keys;
  std::string tokens = "[";
  for (JwsAlgorithm alg : {JwsAlgorithm::kES384, JwsAlgorithm::kRS384}) {
    Result<SigningKey> key = SigningKey::Generate(alg);
    ASSERT_TRUE(key.ok());
    keys.Add(key->public_key());
    Result<std::string> token = SignJwt(
        *key,
        R"({"iss":"https://vesta.example","sub":"Patient/1","aud":["a","b"],"exp":4102444800})");
    ASSERT_TRUE(token.ok());
    if (tokens.size() > 1) tokens += ",";
    tokens +=
        R"({"alg":")" + std::string(JwsAlgorithmName(alg)) + R"(","token":")" + *token + "\"}";
  }
  tokens += "]";
  std::string input = R"({"jwks":)" + keys.ToJwks() + R"(,"tokens":)" + tokens + "}";

  fs::path file =
      fs::temp_directory_path() / ("vesta_jose_interop_" + std::to_string(getpid()) + ".json");
  std::ofstream(file) << input;
  std::string out = RunScript("verify '" + file.string() + "'");
  fs::remove(file);

  Result<json::Document> doc = json::Parse(out);
  ASSERT_TRUE(doc.ok()) << out;
  const json::Value* results = doc->root().Find("results");
  ASSERT_NE(results, nullptr);
  ASSERT_EQ(results->size(), 2u);
  for (const json::Value& r : results->items()) {
    EXPECT_TRUE(r.Find("ok")->bool_value()) << json::ToString(r);
    if (const json::Value* payload = r.Find("payload")) {
      EXPECT_EQ(payload->FindString("sub"), "Patient/1");
    }
  }
  const json::Value* thumbprints = doc->root().Find("thumbprints");
  ASSERT_NE(thumbprints, nullptr);
  ASSERT_EQ(thumbprints->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(thumbprints->items()[i].string_value(), keys.keys()[i].kid());
  }
}

}  // namespace
}  // namespace vesta::crypto

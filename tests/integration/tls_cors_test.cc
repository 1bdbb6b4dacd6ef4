// `vesta serve` with --tls-cert/--tls-key (Mozilla's "intermediate" TLS profile) and
// --cors-origin, checked from outside with the real `openssl s_client` and `curl`. Nothing here
// depends on the store (plain vesta_test, SQLite). The TLS tests skip when `openssl` or `curl` is
// missing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "http/test_certificate.h"
#include "integration/test_server.h"

namespace vesta::testing {
namespace {

class TlsServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveCommand("openssl") || !HaveCommand("curl")) {
      GTEST_SKIP() << "the openssl and curl commands are needed for the TLS tests";
    }
    ASSERT_TRUE(cert_.Make(dir_.path()));
  }

  std::vector<std::string> TlsFlags() const {
    return {"--tls-cert", cert_.cert, "--tls-key", cert_.key};
  }

  // openssl s_client to the server with `flags`; its exit status and output.
  CommandResult SClient(int port, const std::string& flags) const {
    return RunCommand("timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                      " -CAfile '" + cert_.cert + "' " + flags);
  }

  std::string CurlUrl(int port, const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port) + path;
  }

  TempDir dir_;
  TempDir data_;
  TestCertificate cert_;
};

TEST_F(TlsServeTest, OnlyTls12And13) {
  ServerProcess server(data_.path(), TlsFlags());
  ASSERT_TRUE(server.ok());
  // The client is made willing to speak TLS 1.1 (security level 0): the server refuses it.
  CommandResult old = SClient(server.port(), "-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'");
  EXPECT_NE(old.exit_code, 0) << old.output;
  EXPECT_NE(old.output.find("protocol version"), std::string::npos) << old.output;
  CommandResult v12 = SClient(server.port(), "-tls1_2");
  EXPECT_EQ(v12.exit_code, 0) << v12.output;
  EXPECT_NE(v12.output.find("Protocol  : TLSv1.2"), std::string::npos) << v12.output;
  EXPECT_NE(v12.output.find("Verify return code: 0 (ok)"), std::string::npos) << v12.output;
  EXPECT_NE(v12.output.find("Compression: NONE"), std::string::npos) << v12.output;
  CommandResult v13 = SClient(server.port(), "-tls1_3");
  EXPECT_EQ(v13.exit_code, 0) << v13.output;
  EXPECT_NE(v13.output.find("New, TLSv1.3"), std::string::npos) << v13.output;
}

TEST_F(TlsServeTest, Tls12OnlyForwardSecretAead) {
  ServerProcess server(data_.path(), TlsFlags());
  ASSERT_TRUE(server.ok());
  // Static RSA key exchange (with GCM, with CBC) and ECDHE with CBC are refused.
  for (const char* refused : {"AES128-GCM-SHA256", "AES128-SHA256", "AES256-SHA",
                              "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA"}) {
    CommandResult r = SClient(server.port(), std::string("-tls1_2 -cipher ") + refused);
    EXPECT_NE(r.exit_code, 0) << refused << "\n" << r.output;
  }
  for (const char* accepted : {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                               "ECDHE-ECDSA-CHACHA20-POLY1305"}) {
    CommandResult r = SClient(server.port(), std::string("-tls1_2 -cipher ") + accepted);
    EXPECT_EQ(r.exit_code, 0) << accepted << "\n" << r.output;
    EXPECT_NE(r.output.find(std::string("Cipher is ") + accepted), std::string::npos) << r.output;
  }
}

TEST_F(TlsServeTest, FhirOverHttpsAndPlainHttpFailsCleanly) {
  ServerProcess server(data_.path(), TlsFlags());
  ASSERT_TRUE(server.ok());
  std::string curl = "curl -sS --max-time 10 --cacert '" + cert_.cert + "' ";
  CommandResult r = RunCommand(curl + CurlUrl(server.port(), "/metadata"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"resourceType\":\"CapabilityStatement\""), std::string::npos)
      << r.output.substr(0, 500);
  // Plain HTTP to the TLS port: no HTTP response, and the server carries on.
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/metadata", "", {}, 5000).status, 0);
  r = RunCommand(curl + "-o /dev/null -w '%{http_code}' " + CurlUrl(server.port(), "/metadata"));
  EXPECT_EQ(r.output, "200");
  // An idle TLS connection does not hold up a graceful shutdown.
  std::FILE* idle =
      popen(("openssl s_client -quiet -connect 127.0.0.1:" + std::to_string(server.port()) +
             " >/dev/null 2>&1")
                .c_str(),
            "w");
  ASSERT_NE(idle, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  pclose(idle);
}

TEST_F(TlsServeTest, BadTlsFlagsExitWithAMessage) {
  std::string serve =
      VestaBinary() + " serve --listen 127.0.0.1 --port 0 --data-dir '" + data_.path() + "' ";
  // A key that is not the certificate's: refused, naming the file.
  CommandResult r = RunCommand("timeout 20 " + serve + "--tls-cert '" + cert_.cert +
                               "' --tls-key '" + cert_.other_key + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(cert_.other_key), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("listening"), std::string::npos) << r.output;
  r = RunCommand("timeout 20 " + serve + "--tls-cert '" + cert_.cert + "' --tls-key '" +
                 dir_.path() + "/missing.pem'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(dir_.path() + "/missing.pem"), std::string::npos) << r.output;
  // One without the other.
  r = RunCommand("timeout 20 " + serve + "--tls-cert '" + cert_.cert + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--tls-key"), std::string::npos) << r.output;
}

// --- CORS ---------------------------------------------------------------------------------------

constexpr char kApp[] = "https://app.example.org";

HttpResult Preflight(int port, const std::string& origin) {
  return HttpRequest(port, "OPTIONS", "/Patient", "",
                     {{"Origin", origin},
                      {"Access-Control-Request-Method", "POST"},
                      {"Access-Control-Request-Headers", "content-type, authorization"}});
}

TEST(CorsServeTest, AllowedAndRefusedOrigins) {
  TempDir data;
  ServerProcess server(data.path(),
                       {"--cors-origin", kApp, "--cors-origin", "http://localhost:3000"});
  ASSERT_TRUE(server.ok());
  HttpResult pre = Preflight(server.port(), kApp);
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.Header("Access-Control-Allow-Origin"), kApp);
  EXPECT_EQ(pre.Header("Access-Control-Allow-Methods"), "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(pre.Header("Access-Control-Allow-Headers"), "content-type, authorization");
  EXPECT_EQ(pre.Header("Access-Control-Max-Age"), "600");
  EXPECT_EQ(pre.Header("Vary"), "Origin");

  HttpResult get =
      HttpRequest(server.port(), "GET", "/metadata", "", {{"Origin", "http://localhost:3000"}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.Header("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_NE(get.Header("Vary").find("Origin"), std::string::npos) << get.Header("Vary");
  EXPECT_NE(get.Header("Access-Control-Expose-Headers").find("Location"), std::string::npos);

  HttpResult other =
      HttpRequest(server.port(), "GET", "/metadata", "", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.Header("Access-Control-Allow-Origin"), "");
  EXPECT_EQ(Preflight(server.port(), "https://evil.example").status, 403);
}

TEST(CorsServeTest, WithoutCorsOriginNothingChanges) {
  TempDir data;
  ServerProcess server(data.path());
  ASSERT_TRUE(server.ok());
  HttpResult get = HttpRequest(server.port(), "GET", "/metadata", "", {{"Origin", kApp}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.Header("Access-Control-Allow-Origin"), "");
  EXPECT_EQ(get.Header("Vary").find("Origin"), std::string::npos) << get.Header("Vary");
  HttpResult pre = Preflight(server.port(), kApp);
  EXPECT_NE(pre.status, 204);  // the REST API's own answer to OPTIONS
  EXPECT_EQ(pre.Header("Access-Control-Allow-Origin"), "");
}

}  // namespace
}  // namespace vesta::testing

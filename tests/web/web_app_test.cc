// The web app (docs/web-app.md) against the real `vesta serve`: served by the server alone, and
// end to end in Debian's Chromium (e2e.mjs, playwright-core) on a demo population.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "integration/test_server.h"

namespace vesta::testing {
namespace {

namespace fs = std::filesystem;

int RunCommand(const std::string& command) { return WEXITSTATUS(std::system(command.c_str())); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string StoreName() {
  return CurrentTestStore() == TestStore::kPostgres ? "postgres" : "sqlite";
}

// The server alone serves the built app: started with no Node on its PATH, it answers /app/, its
// script and style sheet, sends a browser at / to /app/, and leaves API clients at / as they were.
TEST(WebAppTest, ServedByTheServerWithoutNode) {
  if (!fs::exists(std::string(VESTA_WEB_DIR) + "/index.html")) {
    GTEST_SKIP() << "the web app is not built (the vesta_web target needs Node and npm ci)";
  }
  TempDir dir;
  const char* path = std::getenv("PATH");
  const std::string saved = path ? path : "";
  ::setenv("PATH", (dir.path() + "/no-node-here").c_str(), 1);
  ServerProcess server(dir.path() + "/data", {"--app-dir", VESTA_WEB_DIR});
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_TRUE(server.ok());
  EXPECT_NE(ReadFile("/proc/" + std::to_string(server.pid()) + "/environ").find("no-node-here"),
            std::string::npos);

  HttpResult index = HttpRequest(server.port(), "GET", "/app/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header("Cache-Control"), "no-cache");
  std::smatch script, style;
  ASSERT_TRUE(
      std::regex_search(index.body, script, std::regex("src=\"(/app/assets/[^\"]+\\.js)\"")))
      << index.body;
  ASSERT_TRUE(
      std::regex_search(index.body, style, std::regex("href=\"(/app/assets/[^\"]+\\.css)\"")));
  HttpResult js =
      HttpRequest(server.port(), "GET", script[1].str(), "", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(js.Header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(HttpRequest(server.port(), "GET", style[1].str()).status, 200);
  // A route of the app is the app; a missing asset is not.
  HttpResult route = HttpRequest(server.port(), "GET", "/app/patient/123");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, index.body);
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/app/assets/none.js").status, 404);
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/app/..%2f..%2fetc%2fpasswd").status, 404);

  HttpResult browser = HttpRequest(server.port(), "GET", "/", "",
                                   {{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}});
  EXPECT_EQ(browser.status, 302);
  EXPECT_EQ(browser.Header("Location"), "/app/");
  HttpResult api =
      HttpRequest(server.port(), "GET", "/", "", {{"Accept", "application/fhir+json"}});
  EXPECT_NE(api.status, 302);
  EXPECT_EQ(api.Header("Location"), "");
  EXPECT_EQ(
      HttpRequest(server.port(), "GET", "/metadata", "", {{"Accept", "application/fhir+json"}})
          .status,
      200);
}

TEST(WebAppTest, EndToEndInChromium) {
  const std::string node = VESTA_NODE;
  if (node.empty()) GTEST_SKIP() << "node is not installed";
  if (!fs::exists(VESTA_CHROMIUM)) GTEST_SKIP() << VESTA_CHROMIUM << " is not installed";
  if (!fs::exists(std::string(VESTA_NODE_MODULES) + "/playwright-core") ||
      !fs::exists(std::string(VESTA_NODE_MODULES) + "/axe-core")) {
    GTEST_SKIP() << "playwright-core and axe-core are not installed (npm ci)";
  }
  if (!fs::exists(std::string(VESTA_WEB_DIR) + "/index.html")) {
    GTEST_SKIP() << "the web app is not built";
  }
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string fixtures = TERMINOLOGY_TESTDATA;
  const std::string quiet = " >/dev/null 2>&1";
  // ICD-10-CM names for $lookup (E11.9 among them) and the forward GEM rows of the demo's ICD-9-CM
  // codes (tests/web/testdata).
  ASSERT_EQ(RunCommand(VestaBinary() + " terminology load icd10cm-order " + fixtures +
                       "/icd10cm_order_2022.txt" + StoreFlags(data) + quiet),
            0);
  ASSERT_EQ(RunCommand(VestaBinary() + " terminology load gems " + WEB_TESTDATA +
                       "/2018_I9gem_demo.txt " + fixtures + "/2018_I10gem_mini.txt" +
                       StoreFlags(data) + quiet),
            0);
  // With the MLLP listener: e2e.mjs sends HL7 v2 messages and reads them back on the feed page.
  ServerProcess server(data, {"--demo", "--app-dir", VESTA_WEB_DIR, "--mllp-port", "0"});
  ASSERT_TRUE(server.ok());
  ASSERT_GT(server.mllp_port(), 0);
  // The measures page on a store of its own, without the demo population (whose patients would
  // add to the counts): e2e.mjs loads CMS122 and its stewards' four test patients there, which
  // need --validation lenient (docs/measures.md). Without the eCQM data, e2e.mjs says it skips.
  std::string measures_args;
  std::unique_ptr<ServerProcess> measures_server;
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  if (shared != nullptr && fs::exists(fs::path(shared) / "ecqm" / "measures")) {
    measures_server = std::make_unique<ServerProcess>(
        dir.path() + "/measures",
        std::vector<std::string>{"--app-dir", VESTA_WEB_DIR, "--validation", "lenient"});
    ASSERT_TRUE(measures_server->ok());
    measures_args = " --measures-base http://127.0.0.1:" + std::to_string(measures_server->port()) +
                    " --ecqm " + (fs::path(shared) / "ecqm").string();
  }
  const std::string out = std::string(VESTA_WEB_ARTIFACTS) + "/" + StoreName();
  const std::string log = dir.path() + "/e2e.log";
  const int rc = RunCommand(
      node + " " + VESTA_WEB_E2E + " --base http://127.0.0.1:" + std::to_string(server.port()) +
      " --mllp-port " + std::to_string(server.mllp_port()) + measures_args + " --out " + out +
      " --chromium " + VESTA_CHROMIUM + " >" + log + " 2>&1");
  const std::string report = ReadFile(log);
  std::printf("%s", report.c_str());
  EXPECT_EQ(rc, 0) << report;
  EXPECT_NE(report.find("all checks passed"), std::string::npos);
}

// With --auth smart the app signs in as the client vesta-web that the server registers
// (smart_signin.mjs: the authorization code flow with PKCE, a user and password, consent).
TEST(WebAppTest, SignsInWithSmart) {
  const std::string node = VESTA_NODE;
  if (node.empty() || !fs::exists(VESTA_CHROMIUM) ||
      !fs::exists(std::string(VESTA_NODE_MODULES) + "/playwright-core") ||
      !fs::exists(std::string(VESTA_WEB_DIR) + "/index.html")) {
    GTEST_SKIP() << "needs node, chromium, playwright-core and the built app";
  }
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string password = dir.path() + "/password";
  std::ofstream(password) << "a long test password";
  ASSERT_EQ(
      RunCommand("printf %s 'a long test password' | " + VestaBinary() +
                 " auth user add --username drsmith --fhir-user Practitioner/dr1 --data-dir " +
                 data + " >/dev/null 2>&1"),
      0);
  ServerProcess server(data, {"--auth", "smart", "--app-dir", VESTA_WEB_DIR});
  ASSERT_TRUE(server.ok());
  const std::string log = dir.path() + "/signin.log";
  const int rc = RunCommand(node + " " + VESTA_WEB_SMART + " --base http://127.0.0.1:" +
                            std::to_string(server.port()) + " --user drsmith --password-file " +
                            password + " --chromium " + VESTA_CHROMIUM + " >" + log + " 2>&1");
  const std::string report = ReadFile(log);
  std::printf("%s", report.c_str());
  EXPECT_EQ(rc, 0) << report;
}

}  // namespace
}  // namespace vesta::testing

// The web app's file handler (http/static_files.h): routes, fallbacks, traversal, types, caching.
#include "http/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vesta::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("vesta-static-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "app" / "assets");
    Write(root_ / "app" / "index.html", "<!doctype html><title>app</title>");
    Write(root_ / "app" / "assets" / "index-abc.js", "console.log(1)");
    Write(root_ / "secret.txt", "outside");
    fs::create_symlink(root_ / "secret.txt", root_ / "app" / "link.txt");
  }
  void TearDown() override { fs::remove_all(root_); }

  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  static Request Get(const std::string& path, const std::string& method = "GET") {
    Request r;
    r.method = method;
    r.path = path;
    r.target = path;
    return r;
  }
  static std::string Header(const Response& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return "";
  }

  fs::path root_;
};

TEST_F(StaticFilesTest, ServesFilesAndTheAppForItsRoutes) {
  StaticFiles app((root_ / "app").string(), "/app");
  ASSERT_TRUE(app.available());
  EXPECT_FALSE(app.Handle(Get("/Patient")).has_value());
  EXPECT_FALSE(app.Handle(Get("/application")).has_value());

  std::optional<Response> r = app.Handle(Get("/app"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(Header(*r, "Location"), "/app/");

  for (const char* route : {"/app/", "/app/patient/123", "/app/worklist"}) {
    r = app.Handle(Get(route));
    ASSERT_TRUE(r) << route;
    EXPECT_EQ(r->status, 200) << route;
    EXPECT_EQ(Header(*r, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(Header(*r, "Cache-Control"), "no-cache");
    EXPECT_NE(r->body.find("<title>app</title>"), std::string::npos);
  }
  r = app.Handle(Get("/app/assets/index-abc.js"));
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "console.log(1)");
  EXPECT_EQ(Header(*r, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(*r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Header(*r, "X-Content-Type-Options"), "nosniff");
  EXPECT_NE(Header(*r, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  // A missing file with an extension is a 404, not the app.
  EXPECT_EQ(app.Handle(Get("/app/assets/missing.js"))->status, 404);
  EXPECT_EQ(app.Handle(Get("/app/", "POST"))->status, 405);
  EXPECT_EQ(app.Handle(Get("/app/", "HEAD"))->status, 200);
}

TEST_F(StaticFilesTest, NothingOutsideTheRoot) {
  StaticFiles app((root_ / "app").string(), "/app");
  for (const char* path :
       {"/app/../secret.txt", "/app/assets/../../secret.txt", "/app/./index.html",
        "/app//etc/passwd", "/app/a\\..\\secret.txt", "/app/link.txt"}) {
    std::optional<Response> r = app.Handle(Get(path));
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body.find("outside"), std::string::npos) << path;
  }
}

TEST_F(StaticFilesTest, NotBuilt) {
  StaticFiles app((root_ / "none").string(), "/app");
  EXPECT_FALSE(app.available());
  EXPECT_EQ(app.Handle(Get("/app/"))->status, 404);
}

TEST(BrowserNavigationTest, HtmlAcceptWithoutFhirFormat) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}};
  EXPECT_TRUE(IsBrowserNavigation(r));
  r.headers = {{"Accept", "application/fhir+json"}};
  EXPECT_FALSE(IsBrowserNavigation(r));
  r.headers = {{"Accept", "text/html, application/fhir+xml"}};
  EXPECT_FALSE(IsBrowserNavigation(r));
  r.headers = {};
  EXPECT_FALSE(IsBrowserNavigation(r));
  r.headers = {{"Accept", "text/html"}};
  r.query = {{"_format", "json"}};
  EXPECT_FALSE(IsBrowserNavigation(r));
  r.query = {};
  r.method = "POST";
  EXPECT_FALSE(IsBrowserNavigation(r));
}

}  // namespace
}  // namespace vesta::http

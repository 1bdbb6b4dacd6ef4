// PATCH against the real server (https://hl7.org/fhir/R4/http.html#patch): JSON Patch and
// FHIRPath Patch, If-Match, and the error paths.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "integration/test_server.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::testing {
namespace {

constexpr const char* kJsonPatch = "application/json-patch+json";
constexpr const char* kFhirJson = "application/fhir+json";

class PatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new ServerProcess(dir_->path());
    ASSERT_TRUE(server_->ok()) << "the server did not start";
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0) << "the server did not shut down cleanly";
    delete server_;
    delete dir_;
  }

  HttpResult Do(const std::string& method, const std::string& target, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return HttpRequest(server_->port(), method, target, body, headers);
  }

  HttpResult Patch(const std::string& target, const std::string& content_type,
                   const std::string& body, const std::string& if_match = "") {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", content_type}};
    if (!if_match.empty()) headers.emplace_back("If-Match", if_match);
    return Do("PATCH", target, body, headers);
  }

  // Creates a Patient and returns its id.
  std::string CreatePatient() {
    HttpResult r = Do("POST", "/Patient",
                      R"({"resourceType":"Patient","active":true,"gender":"male",)"
                      R"("name":[{"family":"Chalmers","given":["Peter"]}],)"
                      R"("birthDate":"1974-12-25"})",
                      {{"Content-Type", kFhirJson}});
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = json::Parse(r.body);
    return doc.ok() ? std::string(doc->root().FindString("id")) : "";
  }

  static json::Document Parse(const std::string& s) {
    auto doc = json::Parse(s);
    EXPECT_TRUE(doc.ok()) << s;
    return doc.ok() ? std::move(doc).value() : json::Document();
  }

  static std::string Version(const std::string& body) {
    json::Document d = Parse(body);
    const json::Value* meta = d.root().Find("meta");
    return meta != nullptr ? std::string(meta->FindString("versionId")) : "";
  }

  static TempDir* dir_;
  static ServerProcess* server_;
};

TempDir* PatchTest::dir_ = nullptr;
ServerProcess* PatchTest::server_ = nullptr;

TEST_F(PatchTest, JsonPatch) {
  std::string id = CreatePatient();
  HttpResult r = Patch("/Patient/" + id, kJsonPatch,
                       R"([{"op":"replace","path":"/birthDate","value":"1975-01-01"},
                           {"op":"add","path":"/name/0/given/-","value":"James"},
                           {"op":"remove","path":"/active"}])");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("ETag"), "W/\"2\"");
  EXPECT_FALSE(r.Header("Last-Modified").empty());
  json::Document d = Parse(r.body);
  EXPECT_EQ(d.root().FindString("birthDate"), "1975-01-01");
  EXPECT_EQ(d.root().Find("active"), nullptr);
  EXPECT_EQ(json::ToString(*d.root().Find("name")),
            R"([{"family":"Chalmers","given":["Peter","James"]}])");
  EXPECT_EQ(Version(r.body), "2");
  HttpResult read = Do("GET", "/Patient/" + id);
  EXPECT_EQ(Parse(read.body).root().FindString("birthDate"), "1975-01-01");
}

TEST_F(PatchTest, FhirPathPatch) {
  std::string id = CreatePatient();
  std::string params =
      R"({"resourceType":"Parameters","parameter":[{"name":"operation","part":[
          {"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.gender"},
          {"name":"value","valueCode":"female"}]},
        {"name":"operation","part":[{"name":"type","valueCode":"add"},
          {"name":"path","valueString":"Patient"},{"name":"name","valueString":"maritalStatus"},
          {"name":"value","valueCodeableConcept":{"text":"married"}}]}]})";
  HttpResult r = Patch("/Patient/" + id, kFhirJson, params, "W/\"1\"");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document d = Parse(r.body);
  EXPECT_EQ(d.root().FindString("gender"), "female");
  EXPECT_EQ(json::ToString(*d.root().Find("maritalStatus")), R"({"text":"married"})");
  // Prefer: return=minimal gives no body.
  HttpResult minimal =
      Do("PATCH", "/Patient/" + id, R"([{"op":"replace","path":"/gender","value":"other"}])",
         {{"Content-Type", kJsonPatch}, {"Prefer", "return=minimal"}});
  EXPECT_EQ(minimal.status, 200);
  EXPECT_TRUE(minimal.body.empty()) << minimal.body;
  EXPECT_EQ(minimal.Header("ETag"), "W/\"3\"");
}

TEST_F(PatchTest, IfMatchMismatchIs412) {
  std::string id = CreatePatient();
  HttpResult r = Patch("/Patient/" + id, kJsonPatch,
                       R"([{"op":"replace","path":"/gender","value":"female"}])", "W/\"7\"");
  EXPECT_EQ(r.status, 412) << r.body;
  EXPECT_EQ(Version(Do("GET", "/Patient/" + id).body), "1");
}

TEST_F(PatchTest, FailedPatchLeavesTheResourceUnchanged) {
  std::string id = CreatePatient();
  // A failed test operation: 422, nothing written.
  HttpResult failed = Patch("/Patient/" + id, kJsonPatch,
                            R"([{"op":"replace","path":"/gender","value":"female"},
                                {"op":"test","path":"/birthDate","value":"2000-01-01"}])");
  EXPECT_EQ(failed.status, 422) << failed.body;
  EXPECT_NE(failed.body.find("operation 1 (test)"), std::string::npos) << failed.body;
  // A malformed patch document: 400.
  EXPECT_EQ(Patch("/Patient/" + id, kJsonPatch, R"({"op":"add"})").status, 400);
  EXPECT_EQ(Patch("/Patient/" + id, kJsonPatch, "[{").status, 400);
  EXPECT_EQ(Patch("/Patient/" + id, kFhirJson, R"({"resourceType":"Patient"})").status, 400);
  // A FHIRPath Patch whose path selects nothing.
  HttpResult missing = Patch("/Patient/" + id, kFhirJson,
                             R"({"resourceType":"Parameters","parameter":[{"name":"operation",
                                 "part":[{"name":"type","valueCode":"replace"},
                                 {"name":"path","valueString":"Patient.deceased"},
                                 {"name":"value","valueBoolean":true}]}]})");
  EXPECT_EQ(missing.status, 422) << missing.body;
  HttpResult read = Do("GET", "/Patient/" + id);
  EXPECT_EQ(Version(read.body), "1");
  EXPECT_EQ(Parse(read.body).root().FindString("gender"), "male");
}

TEST_F(PatchTest, PatchThatBreaksTheResourceIsRefused) {
  std::string id = CreatePatient();
  // Not a valid code lexically / not an element of Patient / changes id or resourceType.
  EXPECT_EQ(Patch("/Patient/" + id, kJsonPatch,
                  R"([{"op":"replace","path":"/birthDate","value":"25/12/1974"}])")
                .status,
            422);
  EXPECT_EQ(
      Patch("/Patient/" + id, kJsonPatch, R"([{"op":"add","path":"/nickname","value":"Jim"}])")
          .status,
      422);
  EXPECT_EQ(
      Patch("/Patient/" + id, kJsonPatch, R"([{"op":"replace","path":"/id","value":"x"}])").status,
      400);
  EXPECT_EQ(Patch("/Patient/" + id, kJsonPatch,
                  R"([{"op":"replace","path":"/resourceType","value":"Person"}])")
                .status,
            400);
  EXPECT_EQ(Patch("/Patient/" + id, kJsonPatch, R"([{"op":"remove","path":"/id"}])").status, 400);
  // Referential integrity, as for update: a reference to a resource that does not exist.
  EXPECT_EQ(Patch("/Patient/" + id, kJsonPatch,
                  R"([{"op":"add","path":"/managingOrganization",)"
                  R"("value":{"reference":"Organization/nowhere"}}])")
                .status,
            400);
  EXPECT_EQ(Version(Do("GET", "/Patient/" + id).body), "1");
  // A reference to a resource that exists is fine.
  HttpResult org = Do("POST", "/Organization", R"({"resourceType":"Organization","name":"O"})",
                      {{"Content-Type", kFhirJson}});
  ASSERT_EQ(org.status, 201) << org.body;
  std::string org_id(Parse(org.body).root().FindString("id"));
  EXPECT_EQ(Patch("/Patient/" + id, kJsonPatch,
                  R"([{"op":"add","path":"/managingOrganization",)"
                  R"("value":{"reference":"Organization/)" +
                      org_id + R"("}}])")
                .status,
            200);
}

TEST_F(PatchTest, MissingDeletedAndWrongMediaType) {
  const std::string body = R"([{"op":"replace","path":"/gender","value":"female"}])";
  EXPECT_EQ(Patch("/Patient/does-not-exist", kJsonPatch, body).status, 404);
  std::string id = CreatePatient();
  ASSERT_EQ(Do("DELETE", "/Patient/" + id).status / 100, 2);
  EXPECT_EQ(Patch("/Patient/" + id, kJsonPatch, body).status, 410);
  std::string live = CreatePatient();
  EXPECT_EQ(Patch("/Patient/" + live, "application/xml", body).status, 415);
  EXPECT_EQ(Patch("/Patient/" + live, "text/plain", body).status, 415);
  // A JSON Patch sent as a FHIR resource is not a Parameters resource.
  EXPECT_EQ(Patch("/Patient/" + live, kFhirJson, body).status, 400);
  EXPECT_EQ(Version(Do("GET", "/Patient/" + live).body), "1");
}

// Without If-Match a concurrent change makes the server re-read and re-apply the patch, so no
// patch is lost; with the same If-Match only one of the concurrent patches wins.
TEST_F(PatchTest, ConcurrentPatches) {
  std::string id = CreatePatient();
  constexpr int kThreads = 6;
  constexpr int kPerThread = 4;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string given = "G" + std::to_string(t) + "x" + std::to_string(i);
        HttpResult r =
            Patch("/Patient/" + id, kJsonPatch,
                  R"([{"op":"add","path":"/name/0/given/-","value":")" + given + R"("}])");
        if (r.status == 200) ++ok;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  json::Document d = Parse(Do("GET", "/Patient/" + id).body);
  EXPECT_EQ(d.root().Find("name")->items()[0].Find("given")->size(),
            static_cast<size_t>(1 + kThreads * kPerThread));
  EXPECT_EQ(Version(json::ToString(d.root())), std::to_string(1 + kThreads * kPerThread));

  std::string other = CreatePatient();
  std::atomic<int> won{0};
  std::atomic<int> refused{0};
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HttpResult r = Patch("/Patient/" + other, kJsonPatch,
                           R"([{"op":"add","path":"/name/0/given/-","value":"X"}])", "W/\"1\"");
      if (r.status == 200) ++won;
      if (r.status == 412) ++refused;
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
}

TEST_F(PatchTest, CapabilityStatementListsPatch) {
  HttpResult r = Do("GET", "/metadata");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"({"code":"patch"})"), std::string::npos);
}

}  // namespace
}  // namespace vesta::testing

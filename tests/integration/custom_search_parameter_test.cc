// SearchParameter resources created on the server (https://hl7.org/fhir/R4/searchparameter.html)
// take effect after `vesta reindex`: the server loads the stored ones at start-up (new writes are
// indexed by them, searches may use them) and reindex builds the rows of resources written
// before. Runs the real binary: serve, reindex, serve again.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "integration/test_server.h"
#include "json/parse.h"

namespace vesta::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {
    {"Content-Type", "application/fhir+json"}};

// The ids of a searchset Bundle's match entries, in order.
std::vector<std::string> Ids(const std::string& body) {
  std::vector<std::string> out;
  Result<json::Document> doc = json::Parse(body);
  if (!doc.ok()) return out;
  if (const json::Value* entries = doc->root().Find("entry")) {
    for (const json::Value& e : entries->items()) {
      if (const json::Value* r = e.Find("resource")) out.emplace_back(r->FindString("id"));
    }
  }
  return out;
}

int Reindex(const std::string& dir) {
  std::string cmd =
      VestaBinary() + " reindex" + StoreFlags(dir) + " > '" + dir + "/reindex.out' 2>&1";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(CustomSearchParameterTest, TakesEffectAfterReindex) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  {
    ServerProcess server(data);
    ASSERT_TRUE(server.ok());
    int port = server.port();
    // Before: the parameter is unknown (strict handling says so).
    HttpResult r =
        HttpRequest(port, "GET", "/Patient?marital=M", "", {{"Prefer", "handling=strict"}});
    EXPECT_EQ(r.status, 400) << r.body;
    ASSERT_EQ(HttpRequest(port, "PUT", "/Patient/before",
                          R"({"resourceType":"Patient","id":"before","maritalStatus":{"coding":[
                            {"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                             "code":"M"}]}})",
                          kJson)
                  .status,
              201);
    ASSERT_EQ(HttpRequest(port, "PUT", "/SearchParameter/patient-marital",
                          R"({"resourceType":"SearchParameter","id":"patient-marital",
                            "url":"http://example.org/SearchParameter/patient-marital",
                            "name":"marital","status":"active","description":"Marital status",
                            "code":"marital","base":["Patient"],"type":"token",
                            "expression":"Patient.maritalStatus"})",
                          kJson)
                  .status,
              201);
    // A parameter the server cannot use is skipped with a warning, not fatal.
    ASSERT_EQ(HttpRequest(port, "PUT", "/SearchParameter/broken",
                          R"({"resourceType":"SearchParameter","id":"broken",
                            "url":"http://example.org/SearchParameter/broken",
                            "name":"broken","status":"active","description":"Duplicate code",
                            "code":"gender","base":["Patient"],"type":"token",
                            "expression":"Patient.gender"})",
                          kJson)
                  .status,
              201);
    EXPECT_EQ(server.Stop(), 0);
  }
  ASSERT_EQ(Reindex(data), 0);
  {
    ServerProcess server(data);
    ASSERT_TRUE(server.ok());
    int port = server.port();
    // Written after start-up: indexed at write time.
    ASSERT_EQ(HttpRequest(port, "PUT", "/Patient/after",
                          R"({"resourceType":"Patient","id":"after","maritalStatus":{"coding":[
                            {"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                             "code":"M"}]}})",
                          kJson)
                  .status,
              201);
    ASSERT_EQ(HttpRequest(port, "PUT", "/Patient/single",
                          R"({"resourceType":"Patient","id":"single","maritalStatus":{"coding":[
                            {"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                             "code":"S"}]}})",
                          kJson)
                  .status,
              201);
    HttpResult r = HttpRequest(port, "GET", "/Patient?marital=M&_sort=_id", "",
                               {{"Prefer", "handling=strict"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Ids(r.body), (std::vector<std::string>{"after", "before"}));
    r = HttpRequest(port, "GET",
                    "/Patient?marital=http://terminology.hl7.org/CodeSystem/v3-MaritalStatus|S");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Ids(r.body), std::vector<std::string>{"single"});
    // The full-text index was rebuilt by the reindex too (_content: the code "M").
    r = HttpRequest(port, "GET", "/Patient?_content=m&_sort=_id");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Ids(r.body), (std::vector<std::string>{"after", "before"}));
    // The CapabilityStatement lists it for Patient.
    r = HttpRequest(port, "GET", "/metadata");
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("http://example.org/SearchParameter/patient-marital"), std::string::npos);
  }
}

}  // namespace
}  // namespace vesta::testing

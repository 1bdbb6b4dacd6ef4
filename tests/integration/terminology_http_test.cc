// The terminology operations over HTTP (https://hl7.org/fhir/R4/terminology-service.html), on
// the small ICD-10-CM and GEMs fixtures of tests/terminology/testdata loaded with
// `vesta terminology load`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>

#include "integration/test_server.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::testing {
namespace {

const std::string kIcd10 = "http://hl7.org/fhir/sid/icd-10-cm";
const std::string kIcd9 = "http://hl7.org/fhir/sid/icd-9-cm";

class TerminologyHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string data = dir_->path() + "/data";
    const std::string fixtures = TERMINOLOGY_TESTDATA;
    for (const std::string& load :
         {"icd10cm-tabular " + fixtures + "/icd10cm_tabular_mini.xml",
          "gems " + fixtures + "/2018_I9gem_mini.txt " + fixtures + "/2018_I10gem_mini.txt"}) {
      std::string cmd =
          VestaBinary() + " terminology load " + load + " --data-dir " + data + " >/dev/null 2>&1";
      ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0) << cmd;
    }
    // Started twice: the second start finds the published resources unchanged.
    {
      ServerProcess first(data);
      ASSERT_TRUE(first.ok());
    }
    server_ = new ServerProcess(data);
    ASSERT_TRUE(server_->ok());
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0);
    delete server_;
    delete dir_;
  }

  static json::Document Get(const std::string& target, int want_status = 200) {
    HttpResult r = HttpRequest(server_->port(), "GET", target);
    EXPECT_EQ(r.status, want_status) << target << "\n" << r.body;
    auto doc = json::Parse(r.body);
    EXPECT_TRUE(doc.ok()) << r.body;
    return doc.ok() ? std::move(doc).value() : json::Document();
  }

  // The value[x] of the first parameter named `name`, as JSON text.
  static std::string Param(const json::Document& params, const std::string& name) {
    const json::Value* list = params.root().Find("parameter");
    if (list == nullptr) return "";
    for (const json::Value& p : list->items()) {
      if (p.FindString("name") != name) continue;
      for (const json::Member& m : p.members()) {
        if (m.key.substr(0, 5) == "value") return json::ToString(m.value);
      }
    }
    return "";
  }

  static TempDir* dir_;
  static ServerProcess* server_;
};

TempDir* TerminologyHttpTest::dir_ = nullptr;
ServerProcess* TerminologyHttpTest::server_ = nullptr;

TEST_F(TerminologyHttpTest, LookupByGetAndPost) {
  json::Document r = Get("/CodeSystem/$lookup?system=" + kIcd10 + "&code=S06.0X0A");
  EXPECT_EQ(r.root().FindString("resourceType"), "Parameters");
  EXPECT_NE(Param(r, "display"), "");
  std::string body = R"({"resourceType":"Parameters","parameter":[{"name":"system","valueUri":")" +
                     kIcd10 + R"("},{"name":"code","valueCode":"E11.9"}]})";
  HttpResult post = HttpRequest(server_->port(), "POST", "/CodeSystem/$lookup", body);
  EXPECT_EQ(post.status, 200) << post.body;
  EXPECT_NE(post.body.find("\"parent\""), std::string::npos);
  EXPECT_EQ(
      HttpRequest(server_->port(), "GET", "/CodeSystem/$lookup?system=" + kIcd10 + "&code=NOPE")
          .status,
      404);
}

TEST_F(TerminologyHttpTest, ValidateCodeBillableAndHeaders) {
  EXPECT_EQ(Param(Get("/CodeSystem/$validate-code?url=" + kIcd10 + "&code=T14.90XA"), "result"),
            "true");
  EXPECT_EQ(Param(Get("/CodeSystem/$validate-code?url=" + kIcd10 + "&code=T14.90XB"), "result"),
            "false");
  // Instance level: the CodeSystem's url is implied.
  EXPECT_EQ(Param(Get("/CodeSystem/icd-10-cm/$validate-code?code=S06.0X0A"), "result"), "true");
  EXPECT_EQ(Param(Get("/ValueSet/$validate-code?url=" + kIcd10 +
                      "?fhir_vs=isa/E11&system=" + kIcd10 + "&code=E11.9"),
                  "result"),
            "true");
}

TEST_F(TerminologyHttpTest, SubsumesExpandTranslate) {
  EXPECT_EQ(
      Param(Get("/CodeSystem/$subsumes?system=" + kIcd10 + "&codeA=E11&codeB=E11.9"), "outcome"),
      "\"subsumes\"");
  json::Document vs = Get("/ValueSet/$expand?url=" + kIcd10 + "?fhir_vs=isa/E11&count=10");
  EXPECT_EQ(vs.root().FindString("resourceType"), "ValueSet");
  EXPECT_NE(json::ToString(vs.root()).find("E11.9"), std::string::npos);
  json::Document t =
      Get("/ConceptMap/$translate?system=" + kIcd9 + "&code=4280&targetsystem=" + kIcd10);
  EXPECT_EQ(Param(t, "result"), "true");
  EXPECT_NE(json::ToString(t.root()).find("I50.9"), std::string::npos);
  json::Document none =
      Get("/ConceptMap/$translate?system=" + kIcd9 + "&code=36570&targetsystem=" + kIcd10);
  EXPECT_EQ(Param(none, "result"), "false");
}

TEST_F(TerminologyHttpTest, ResourcesAreReadable) {
  json::Document cs = Get("/CodeSystem/icd-10-cm");
  EXPECT_EQ(cs.root().FindString("url"), kIcd10);
  EXPECT_EQ(cs.root().FindString("content"), "not-present");
  Get("/CodeSystem/icd-10-cm?_elements=url,count");
  Get("/CodeSystem/unknown-system", 404);
  // Published into the store at start-up: versioned and searchable like any resource.
  json::Document history = Get("/CodeSystem/icd-10-cm/_history");
  EXPECT_EQ(history.root().Find("total")->number_text(), "1");
  Get("/ConceptMap/gem-icd9cm-to-icd10cm");
}

TEST_F(TerminologyHttpTest, PublishedResourcesAreSearchable) {
  json::Document found = Get("/CodeSystem?url=" + kIcd10);
  EXPECT_NE(json::ToString(found.root()).find("\"id\":\"icd-10-cm\""), std::string::npos)
      << json::ToString(found.root()).substr(0, 400);
}

TEST_F(TerminologyHttpTest, BadRequestsGetOperationOutcomes) {
  HttpResult unknown = HttpRequest(server_->port(), "GET", "/Patient/$everything");
  EXPECT_EQ(unknown.status, 501);
  HttpResult bad_post = HttpRequest(server_->port(), "POST", "/CodeSystem/$lookup", "{\"x\":");
  EXPECT_EQ(bad_post.status, 400);
  HttpResult put = HttpRequest(server_->port(), "PUT", "/CodeSystem/$lookup", "{}");
  EXPECT_EQ(put.status, 405);
}

// Token :below, :above and :in over ICD-10-CM, answered from the terminology's hierarchy.
TEST_F(TerminologyHttpTest, HierarchySearchModifiers) {
  ASSERT_EQ(
      HttpRequest(server_->port(), "PUT", "/Patient/tp", R"({"resourceType":"Patient","id":"tp"})")
              .status /
          100,
      2);
  for (const char* code : {"E11.9", "E11.65", "E11", "I50.9"}) {
    std::string id = "c-" + std::string(code);
    id.erase(std::remove(id.begin(), id.end(), '.'), id.end());
    std::string body = R"({"resourceType":"Condition","id":")" + id +
                       R"(","subject":{"reference":"Patient/tp"},"code":{"coding":[{"system":")" +
                       kIcd10 + R"(","code":")" + code + R"("}]}})";
    ASSERT_EQ(HttpRequest(server_->port(), "PUT", "/Condition/" + id, body).status / 100, 2);
  }
  auto ids = [&](const std::string& query) {
    json::Document b = Get("/Condition?" + query + "&_elements=id&_count=100");
    std::vector<std::string> out;
    if (const json::Value* e = b.root().Find("entry")) {
      for (const json::Value& x : e->items()) {
        out.emplace_back(x.Find("resource")->FindString("id"));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids("code:below=" + kIcd10 + "|E11"),
            (std::vector<std::string>{"c-E11", "c-E1165", "c-E119"}));
  EXPECT_EQ(ids("code:below=" + kIcd10 + "|E11.6"), (std::vector<std::string>{"c-E1165"}));
  EXPECT_EQ(ids("code:above=" + kIcd10 + "|E11.9"), (std::vector<std::string>{"c-E11", "c-E119"}));
  EXPECT_EQ(ids("code:in=" + kIcd10 + "?fhir_vs=isa/E11"),
            (std::vector<std::string>{"c-E11", "c-E1165", "c-E119"}));
  EXPECT_EQ(ids("code=" + kIcd10 + "|E11"), (std::vector<std::string>{"c-E11"}));
  HttpResult bad = HttpRequest(server_->port(), "GET", "/Condition?code:below=" + kIcd10 + "|NOPE");
  EXPECT_EQ(bad.status, 400) << bad.body;
}

TEST(TerminologyMissingTest, OperationsSayNothingIsLoaded) {
  TempDir dir;
  ServerProcess server(dir.path());
  ASSERT_TRUE(server.ok());
  HttpResult r =
      HttpRequest(server.port(), "GET", "/CodeSystem/$lookup?system=" + kIcd10 + "&code=E11.9");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("vesta terminology load"), std::string::npos);
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace vesta::testing

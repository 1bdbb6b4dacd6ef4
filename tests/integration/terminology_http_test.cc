// The terminology operations over HTTP (https://hl7.org/fhir/R4/terminology-service.html), on
// the small ICD-10-CM and GEMs fixtures of tests/terminology/testdata and the R4 package's
// CodeSystems and ValueSets, loaded with `vesta terminology load`; and the token search
// modifiers the terminology answers (:below, :above, :in, :not-in).
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

// Whether the suite's server has the R4 package loaded too (a second or so more to set up).
enum class R4Package { kWithout, kWith };

class TerminologyHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Start(R4Package::kWithout); }
  static void Start(R4Package r4) {
    dir_ = new TempDir();
    const std::string data = dir_->path() + "/data";
    const std::string fixtures = TERMINOLOGY_TESTDATA;
    std::vector<std::string> loads = {
        "icd10cm-tabular " + fixtures + "/icd10cm_tabular_mini.xml",
        "gems " + fixtures + "/2018_I9gem_mini.txt " + fixtures + "/2018_I10gem_mini.txt"};
    if (r4 == R4Package::kWith) loads.push_back("r4 " + std::string(VESTA_FHIR_PACKAGE_DIR));
    for (const std::string& load : loads) {
      std::string cmd =
          VestaBinary() + " terminology load " + load + StoreFlags(data) + " >/dev/null 2>&1";
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
    if (server_ != nullptr) {  // null when the set-up failed
      EXPECT_EQ(server_->Stop(), 0);
    }
    delete server_;
    server_ = nullptr;
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

class TerminologyR4HttpTest : public TerminologyHttpTest {
 protected:
  static void SetUpTestSuite() { Start(R4Package::kWith); }
};

// The R4 package's value sets: operations, and the resources published at start-up.
TEST_F(TerminologyR4HttpTest, R4ValueSets) {
  const std::string vs = "http://hl7.org/fhir/ValueSet/administrative-gender";
  const std::string cs = "http://hl7.org/fhir/administrative-gender";
  EXPECT_EQ(Param(Get("/ValueSet/$validate-code?url=" + vs + "&code=male&system=" + cs), "result"),
            "true");
  json::Document no = Get("/ValueSet/$validate-code?url=" + vs + "&code=female2&system=" + cs);
  EXPECT_EQ(Param(no, "result"), "false");
  EXPECT_NE(Param(no, "message").find("female2"), std::string::npos);
  EXPECT_EQ(Param(Get("/CodeSystem/$validate-code?url=" + cs + "&code=female"), "result"), "true");
  EXPECT_EQ(Param(Get("/CodeSystem/$lookup?system=" + cs + "&code=male"), "display"), "\"Male\"");
  json::Document expansion = Get("/ValueSet/administrative-gender/$expand");
  EXPECT_EQ(expansion.root().Find("expansion")->Find("total")->number_text(), "4");
  json::Document read = Get("/ValueSet/administrative-gender");
  EXPECT_EQ(read.root().FindString("url"), vs);
  json::Document found = Get("/CodeSystem?url=" + cs + "&_elements=id");
  EXPECT_EQ(found.root().Find("total")->number_text(), "1");
  // A value set of a system the package does not have (SNOMED CT).
  HttpResult refused =
      HttpRequest(server_->port(), "GET",
                  "/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/condition-code&count=5");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("OperationOutcome"), std::string::npos);
}

// :in and :not-in with value sets of the terminology, of the store, and implicit ones
// (https://hl7.org/fhir/R4/search.html#token).
TEST_F(TerminologyR4HttpTest, ValueSetSearchModifiers) {
  const int port = server_->port();
  ASSERT_EQ(
      HttpRequest(port, "PUT", "/Patient/tvs", R"({"resourceType":"Patient","id":"tvs"})").status /
          100,
      2);
  const std::string clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical";
  auto condition = [&](const std::string& id, const std::string& code, const std::string& status) {
    std::string body = R"({"resourceType":"Condition","id":")" + id +
                       R"(","subject":{"reference":"Patient/tvs"},"code":{"coding":[{"system":")" +
                       kIcd10 + R"(","code":")" + code + R"("}]})";
    if (!status.empty()) {
      body += R"(,"clinicalStatus":{"coding":[{"system":")" + clinical + R"(","code":")" + status +
              R"("}]})";
    }
    body += "}";
    ASSERT_EQ(HttpRequest(port, "PUT", "/Condition/" + id, body).status / 100, 2) << id;
  };
  condition("vs-a", "T14.90XA", "active");
  condition("vs-b", "S06.0X0A", "resolved");
  condition("vs-c", "T14.90XA", "");
  ASSERT_EQ(HttpRequest(port, "PUT", "/Observation/vs-o",
                        R"({"resourceType":"Observation","id":"vs-o","status":"final",)"
                        R"("code":{"text":"x"},"subject":{"reference":"Patient/tvs"}})")
                    .status /
                100,
            2);
  // A ValueSet created through the API: its compose is evaluated by the terminology.
  ASSERT_EQ(HttpRequest(port, "PUT", "/ValueSet/active-only",
                        R"({"resourceType":"ValueSet","id":"active-only","status":"active",)"
                        R"("url":"http://example.org/fhir/ValueSet/active-only",)"
                        R"("compose":{"include":[{"system":")" +
                            clinical + R"(","concept":[{"code":"active"}]}]}})")
                    .status /
                100,
            2);
  auto ids = [&](const std::string& type, const std::string& query) {
    json::Document b = Get("/" + type + "?subject=Patient/tvs&" + query + "&_elements=id");
    std::vector<std::string> out;
    if (const json::Value* e = b.root().Find("entry")) {
      for (const json::Value& x : e->items()) {
        out.emplace_back(x.Find("resource")->FindString("id"));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  using Ids = std::vector<std::string>;
  const std::string r4 = "http://hl7.org/fhir/ValueSet/condition-clinical";
  EXPECT_EQ(ids("Condition", "clinical-status:in=" + r4), (Ids{"vs-a", "vs-b"}));
  // :not-in reverses :in, like :not: "this includes resources that have no value".
  EXPECT_EQ(ids("Condition", "clinical-status:not-in=" + r4), (Ids{"vs-c"}));
  const std::string mine = "http://example.org/fhir/ValueSet/active-only";
  EXPECT_EQ(ids("Condition", "clinical-status:in=" + mine), (Ids{"vs-a"}));
  EXPECT_EQ(ids("Condition", "clinical-status:in=ValueSet/active-only"), (Ids{"vs-a"}));
  EXPECT_EQ(ids("Condition", "clinical-status:not-in=" + mine), (Ids{"vs-b", "vs-c"}));
  EXPECT_EQ(ids("Condition", "code:in=" + kIcd10 + "?fhir_vs=isa/T14"), (Ids{"vs-a", "vs-c"}));
  EXPECT_EQ(ids("Condition", "code:not-in=" + kIcd10 + "?fhir_vs=isa/T14"), (Ids{"vs-b"}));
  // Several value sets: OR.
  EXPECT_EQ(
      ids("Condition", "code:in=" + kIcd10 + "?fhir_vs=isa/T14," + kIcd10 + "?fhir_vs=isa/S06"),
      (Ids{"vs-a", "vs-b", "vs-c"}));
  // Observation.status is a plain code: its system is implicit.
  const std::string status = "http://hl7.org/fhir/ValueSet/observation-status";
  EXPECT_EQ(ids("Observation", "status:in=" + status), (Ids{"vs-o"}));
  EXPECT_EQ(ids("Observation", "status:in=ValueSet/observation-status"), (Ids{"vs-o"}));
  EXPECT_EQ(ids("Observation", "status:in=http://127.0.0.1:" + std::to_string(port) +
                                   "/ValueSet/observation-status"),
            (Ids{"vs-o"}));
  EXPECT_EQ(ids("Observation", "status:not-in=" + status), Ids{});
  // The self link shows the request, not the expansion.
  json::Document page = Get("/Condition?clinical-status:not-in=" + r4 + "&subject=Patient/tvs");
  std::string self(page.root().Find("link")->items()[0].FindString("url"));
  EXPECT_NE(self.find("clinical-status:not-in="), std::string::npos) << self;

  // Unknown value sets, and one that cannot be evaluated (SNOMED CT is not loaded): 400 naming
  // the parameter.
  const std::pair<std::string, std::string> bad[] = {
      {"clinical-status:in", "http://example.org/fhir/ValueSet/nope"},
      {"clinical-status:in", "ValueSet/nope"},
      {"code:in", "http://hl7.org/fhir/ValueSet/condition-code"},
      {"code:not-in", kIcd10 + "?fhir_vs=isa/NOPE"}};
  for (const auto& [param, value] : bad) {
    HttpResult r = HttpRequest(port, "GET", "/Condition?" + param + "=" + value);
    EXPECT_EQ(r.status, 400) << param << "=" << value << "\n" << r.body;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(param + ":"), std::string::npos) << r.body;
  }
}

// A long OR list (what :below and :in stand for) is one lookup per system: more values than
// SQLite's 500 UNION ALL branches work.
TEST_F(TerminologyHttpTest, LongTokenOrList) {
  ASSERT_EQ(HttpRequest(server_->port(), "PUT", "/Patient/tlong",
                        R"({"resourceType":"Patient","id":"tlong"})")
                    .status /
                100,
            2);
  ASSERT_EQ(HttpRequest(server_->port(), "PUT", "/Condition/long-1",
                        R"({"resourceType":"Condition","id":"long-1",)"
                        R"("subject":{"reference":"Patient/tlong"},"code":{"coding":[{"system":")" +
                            kIcd10 + R"(","code":"S06.0X0A"}]}})",
                        {}, 30000)
                    .status /
                100,
            2);
  std::string codes;
  for (int i = 0; i < 800; ++i) codes += kIcd10 + "|Z" + std::to_string(i) + ",";
  codes += kIcd10 + "|S06.0X0A";
  json::Document b = Get("/Condition?subject=Patient/tlong&code=" + codes + "&_summary=count");
  EXPECT_EQ(b.root().Find("total")->number_text(), "1");
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

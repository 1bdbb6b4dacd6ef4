// POST [base]/ViewDefinition/$viewdefinition-run against the real server
// (https://sql-on-fhir.org/ig/latest/OperationDefinition-ViewDefinitionRun.html): the whole SQL on
// FHIR v2 conformance suite with each case's resources passed inline as `resource` parameters, a
// run over the store, an invalid view, the output formats, _limit and header.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "integration/test_server.h"
#include "json/parse.h"
#include "json/writer.h"
#include "views/suite.h"

namespace vesta::testing {
namespace {

const char kPatientView[] =
    R"({"resourceType":"ViewDefinition","name":"patients","resource":"Patient",)"
    R"("select":[{"column":[{"name":"id","path":"id"},)"
    R"({"name":"family","path":"name.first().family"}]}]})";

std::string Parameters(const std::string& view, const std::vector<std::string>& resources,
                       const std::string& extra = "") {
  std::string body =
      R"({"resourceType":"Parameters","parameter":[{"name":"viewResource","resource":)" + view +
      "}";
  for (const std::string& r : resources) body += R"(,{"name":"resource","resource":)" + r + "}";
  body += extra + "]}";
  return body;
}

const std::vector<std::pair<std::string, std::string>> kJsonBody = {
    {"Content-Type", "application/fhir+json"}};

HttpResult RunView(int port, const std::string& body, const std::string& query = "") {
  return HttpRequest(port, "POST", "/ViewDefinition/$viewdefinition-run" + query, body, kJsonBody);
}

TEST(ViewRun, ConformanceSuiteThroughTheOperation) {
  const std::string suite_dir = views::testing::SuiteDirectory();
  if (suite_dir.empty()) GTEST_SKIP() << "sql-on-fhir-v2/tests not found under VESTA_SHARED_DATA";
  Result<views::testing::Suite> suite = views::testing::LoadSuite(suite_dir);
  ASSERT_TRUE(suite.ok()) << suite.status().message();
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.ok());
  const int passed = views::testing::RunSuite(
      *suite, "$viewdefinition-run", [&](const views::testing::SuiteCase& c) {
        views::testing::CaseOutput out;
        std::vector<std::string> resources;
        for (const json::Value& r : c.resources->items()) resources.push_back(json::ToString(r));
        const std::string view = json::ToString(*c.view);
        HttpResult r =
            RunView(server.port(),
                    Parameters(view, resources, R"(,{"name":"_format","valueCode":"json"})"));
        if (r.status != 200) {
          out.status = Invalid("HTTP " + std::to_string(r.status) + ": " + r.body);
          return out;
        }
        out.rows_json = r.body;
        // The column order from the CSV header of a second run.
        if (c.expect_columns != nullptr) {
          HttpResult csv = RunView(server.port(), Parameters(view, resources), "?_format=csv");
          if (csv.status == 200) {
            std::string header = csv.body.substr(0, csv.body.find('\n'));
            if (!header.empty() && header.back() == '\r') header.pop_back();
            std::stringstream names(header);
            for (std::string name; std::getline(names, name, ',');) out.columns.push_back(name);
          }
        }
        return out;
      });
  EXPECT_EQ(passed, static_cast<int>(suite->cases.size()));
}

TEST(ViewRun, OverTheStoreAsCsvWithAHeader) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.ok());
  for (const char* id : {"a", "b", "c"}) {
    const std::string body = std::string(R"({"resourceType":"Patient","id":")") + id +
                             R"(","name":[{"family":"F)" + id + R"("}]})";
    ASSERT_EQ(
        HttpRequest(server.port(), "PUT", std::string("/Patient/") + id, body, kJsonBody).status,
        201);
  }
  HttpResult r = RunView(server.port(), Parameters(kPatientView, {}), "?_format=csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "text/csv");
  ASSERT_GE(r.body.size(), 10u);
  EXPECT_EQ(r.body.substr(0, r.body.find('\n') + 1), "id,family\r\n");
  EXPECT_NE(r.body.find("a,Fa\r\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("b,Fb\r\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("c,Fc\r\n"), std::string::npos) << r.body;

  // patient narrows to that patient; _limit to a number of rows; header=false drops the header.
  r = RunView(server.port(), Parameters(kPatientView, {}), "?_format=csv&patient=Patient/b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "id,family\r\nb,Fb\r\n");
  r = RunView(server.port(), Parameters(kPatientView, {}, R"(,{"name":"_limit","valueInteger":2})"),
              "?_format=ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 2) << r.body;
  r = RunView(server.port(),
              Parameters(kPatientView, {}, R"(,{"name":"header","valueBoolean":false})"),
              "?_format=csv&patient=b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "b,Fb\r\n");
}

TEST(ViewRun, InvalidViewIs400NamingThePlace) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.ok());
  const std::string bad =
      R"v({"resourceType":"ViewDefinition","resource":"Patient",)v"
      R"v("select":[{"column":[{"name":"id","path":"id"},{"name":"x","path":"name.frist()"}]}]})v";
  HttpResult r = RunView(server.port(), Parameters(bad, {}));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("select[0].column[1]"), std::string::npos) << r.body;
  // No view; a group that does not exist, and one that is not an id; an inline view at the instance
  // level (which runs the stored view); a stored view that does not exist.
  EXPECT_EQ(RunView(server.port(), R"({"resourceType":"Parameters","parameter":[]})").status, 400);
  EXPECT_EQ(RunView(server.port(), Parameters(kPatientView, {}), "?group=g1").status, 404);
  EXPECT_EQ(RunView(server.port(), Parameters(kPatientView, {}), "?group=a/b").status, 400);
  EXPECT_EQ(HttpRequest(server.port(), "POST", "/ViewDefinition/v1/$viewdefinition-run",
                        Parameters(kPatientView, {}), kJsonBody)
                .status,
            400);
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/ViewDefinition/v1/$viewdefinition-run").status,
            404);
}

TEST(ViewRun, Formats) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.ok());
  const std::vector<std::string> patients = {
      R"({"resourceType":"Patient","id":"p1","name":[{"family":"O\"Brien, Jr"}]})",
      R"({"resourceType":"Patient","id":"p2"})"};
  HttpResult r = RunView(server.port(), Parameters(kPatientView, patients), "?_format=csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "id,family\r\np1,\"O\"\"Brien, Jr\"\r\np2,\r\n");
  r = RunView(server.port(), Parameters(kPatientView, patients), "?_format=ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(r.body,
            "{\"id\":\"p1\",\"family\":\"O\\\"Brien, Jr\"}\n{\"id\":\"p2\",\"family\":null}\n");
  r = RunView(server.port(), Parameters(kPatientView, patients));  // json by default
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  Result<json::Document> doc = json::Parse(r.body);
  ASSERT_TRUE(doc.ok()) << r.body;
  ASSERT_TRUE(doc->root().is_array());
  EXPECT_EQ(doc->root().size(), 2u);
  // Accept chooses the format when _format is absent.
  r = HttpRequest(server.port(), "POST", "/ViewDefinition/$viewdefinition-run",
                  Parameters(kPatientView, patients),
                  {{"Content-Type", "application/fhir+json"}, {"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "text/csv");
  EXPECT_EQ(RunView(server.port(), Parameters(kPatientView, patients), "?_format=parquet").status,
            400);
}

// group: the compartments of the Group's active patients, nested groups included, each resource
// once.
TEST(ViewRun, GroupRunsItsPatientsCompartments) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.ok());
  for (const char* id : {"p1", "p2", "p3"}) {
    ASSERT_EQ(HttpRequest(server.port(), "PUT", std::string("/Patient/") + id,
                          std::string(R"({"resourceType":"Patient","id":")") + id +
                              R"(","name":[{"family":"F)" + id + R"("}]})",
                          kJsonBody)
                  .status,
              201);
    ASSERT_EQ(
        HttpRequest(server.port(), "POST", "/Observation",
                    std::string(R"({"resourceType":"Observation","status":"final",)") +
                        R"("code":{"text":"o"},"subject":{"reference":"Patient/)" + id + R"("}})",
                    kJsonBody)
            .status,
        201);
  }
  // inner: p2; outer: p1, p3 (inactive), and inner.
  ASSERT_EQ(HttpRequest(server.port(), "PUT", "/Group/inner",
                        R"({"resourceType":"Group","id":"inner","type":"person","actual":true,)"
                        R"("member":[{"entity":{"reference":"Patient/p2"}}]})",
                        kJsonBody)
                .status,
            201);
  ASSERT_EQ(HttpRequest(server.port(), "PUT", "/Group/outer",
                        R"({"resourceType":"Group","id":"outer","type":"person","actual":true,)"
                        R"("member":[{"entity":{"reference":"Patient/p1"}},)"
                        R"({"entity":{"reference":"Patient/p3"},"inactive":true},)"
                        R"({"entity":{"reference":"Group/inner"}},)"
                        R"({"entity":{"reference":"Patient/p1"}}]})",
                        kJsonBody)
                .status,
            201);
  HttpResult r = RunView(server.port(), Parameters(kPatientView, {}), "?_format=csv&group=outer");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "id,family\r\np1,Fp1\r\np2,Fp2\r\n");
  const std::string observations =
      R"v({"resourceType":"ViewDefinition","resource":"Observation","select":[{"column":[)v"
      R"v({"name":"subject","path":"subject.reference"}]}]})v";
  r = RunView(server.port(), Parameters(observations, {}), "?_format=csv&group=Group/outer");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "subject\r\nPatient/p1\r\nPatient/p2\r\n");
  // With patient too: that patient, if the group has it.
  r = RunView(server.port(), Parameters(kPatientView, {}), "?_format=csv&group=outer&patient=p3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "id,family\r\n");
}

// Past 1 MiB the rows go to a spool file the HTTP server streams and removes: the whole output
// arrives, and nothing is left in the temporary directory.
TEST(ViewRun, LargeOutputsAreStreamedFromASpoolFile) {
  TempDir data;
  TempDir tmp;
  const char* saved = std::getenv("TMPDIR");
  const std::string saved_tmpdir = saved == nullptr ? "" : saved;
  setenv("TMPDIR", tmp.path().c_str(), 1);  // the server's spool files go there
  ServerProcess server(data.path() + "/data");
  if (saved == nullptr) {
    unsetenv("TMPDIR");
  } else {
    setenv("TMPDIR", saved_tmpdir.c_str(), 1);
  }
  ASSERT_TRUE(server.ok());
  // 300 patients with a 5,000-character family name: about 1.5 MB of CSV.
  const std::string family(5000, 'x');
  std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  for (int i = 0; i < 300; ++i) {
    if (i > 0) bundle += ",";
    bundle += R"({"resource":{"resourceType":"Patient","name":[{"family":")" + family +
              std::to_string(i) + R"("}]},"request":{"method":"POST","url":"Patient"}})";
  }
  bundle += "]}";
  ASSERT_EQ(HttpRequest(server.port(), "POST", "/", bundle, kJsonBody).status, 200);
  HttpResult r = RunView(server.port(), Parameters(kPatientView, {}), "?_format=csv");
  ASSERT_EQ(r.status, 200);
  EXPECT_GT(r.body.size(), size_t{1} << 20);
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 301);  // the header and 300 rows
  EXPECT_NE(r.body.find(family + "299\r\n"), std::string::npos);
  int spooled = 0;
  for (const auto& entry : std::filesystem::directory_iterator(tmp.path())) {
    if (entry.path().filename().string().starts_with("vesta-view-run-")) ++spooled;
  }
  EXPECT_EQ(spooled, 0);
}

}  // namespace
}  // namespace vesta::testing

// `vesta icd10 migrate` through the binary: `vesta import` NDJSON coded in ICD-9-CM, `vesta
// terminology load` the fixtures of tests/terminology/testdata, a dry run, the migration, a
// second run that changes nothing, then `vesta serve` and read the new versions, their history
// and the Provenance.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "integration/test_server.h"

namespace vesta::testing {
namespace {

int RunCommand(const std::string& command) { return WEXITSTATUS(std::system(command.c_str())); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Icd10MigrateTest, ImportLoadMigrateServe) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string fixtures = ICD10_TERMINOLOGY_TESTDATA;
  const std::string ndjson = dir.path() + "/Condition.ndjson";
  {
    std::ofstream out(ndjson);
    out << R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},)"
           R"("code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-9-cm","code":"001.0"}]}})"
        << "\n"
        << R"({"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},)"
           R"("code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-9-cm","code":"896.2"}]}})"
        << "\n";
  }
  const std::string quiet = " >/dev/null 2>&1";
  // The Conditions' patient is not loaded: references are not this test's subject.
  ASSERT_EQ(RunCommand(VestaBinary() + " import --referential-integrity off --rejects " +
                       dir.path() + "/rejects.ndjson" + StoreFlags(data) + " " + ndjson + quiet),
            0);
  // Without terminology the command refuses to run.
  EXPECT_NE(RunCommand(VestaBinary() + " icd10 migrate" + StoreFlags(data) + " --worklist " +
                       dir.path() + "/w0.csv" + quiet),
            0);
  for (const std::string& load :
       {"icd10cm-tabular " + fixtures + "/icd10cm_tabular_mini.xml",
        "gems " + fixtures + "/2018_I9gem_mini.txt " + fixtures + "/2018_I10gem_mini.txt"}) {
    ASSERT_EQ(RunCommand(VestaBinary() + " terminology load " + load + StoreFlags(data) + quiet),
              0);
  }
  const std::string migrate =
      VestaBinary() + " icd10 migrate" + StoreFlags(data) + " --worklist " + dir.path();
  const std::string out = dir.path() + "/out.txt";
  ASSERT_EQ(RunCommand(migrate + "/dry.csv --dry-run >" + out + " 2>&1"), 0);
  EXPECT_NE(ReadFile(out).find("would change Condition/c1 v1 -> v2"), std::string::npos)
      << ReadFile(out);
  EXPECT_NE(ReadFile(dir.path() + "/dry.csv").find("Condition,c2,1,"), std::string::npos);
  ASSERT_EQ(RunCommand(migrate + "/w1.csv >" + out + " 2>&1"), 0);
  EXPECT_NE(ReadFile(out).find("2 resources scanned, 1 changed"), std::string::npos)
      << ReadFile(out);
  ASSERT_EQ(RunCommand(migrate + "/w2.csv >" + out + " 2>&1"), 0);
  EXPECT_NE(ReadFile(out).find("2 resources scanned, 0 changed"), std::string::npos)
      << ReadFile(out);
  const std::string worklist = ReadFile(dir.path() + "/w2.csv");
  EXPECT_NE(worklist.find("Condition,c1,2,Condition.code.coding[0],001.0,,applied,A00.0,"
                          "equivalent\r\n"),
            std::string::npos)
      << worklist;
  EXPECT_NE(worklist.find("Condition,c2,1,Condition.code.coding[0],896.2,,combination,"),
            std::string::npos);

  ServerProcess server(data);
  ASSERT_TRUE(server.ok());
  HttpResult c1 = HttpRequest(server.port(), "GET", "/Condition/c1");
  EXPECT_EQ(c1.status, 200);
  EXPECT_EQ(c1.Header("ETag"), "W/\"2\"");
  EXPECT_NE(c1.body.find(R"("code":"001.0")"), std::string::npos) << c1.body;
  EXPECT_NE(c1.body.find(R"("code":"A00.0")"), std::string::npos) << c1.body;
  HttpResult hist = HttpRequest(server.port(), "GET", "/Condition/c1/_history");
  EXPECT_NE(hist.body.find("\"total\":2"), std::string::npos) << hist.body.substr(0, 300);
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/Condition/c2").Header("ETag"), "W/\"1\"");
  HttpResult prov = HttpRequest(server.port(), "GET", "/Provenance/_history");
  EXPECT_NE(prov.body.find("\"total\":1"), std::string::npos) << prov.body.substr(0, 300);
  EXPECT_NE(prov.body.find("Condition/c1/_history/2"), std::string::npos);
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace vesta::testing

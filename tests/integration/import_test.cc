// `vesta import`: NDJSON straight into the store, then served by `vesta serve`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "integration/test_server.h"

namespace vesta::testing {
namespace {

int RunCommand(const std::string& command) { return std::system(command.c_str()); }

TEST(ImportTest, LoadsNdjsonKeepsIdsRejectsBadLinesAndVersionsReimports) {
  TempDir dir;
  std::string ndjson = dir.path() + "/Patient.ndjson";
  {
    std::ofstream out(ndjson);
    out << R"({"resourceType":"Patient","id":"p1","birthDate":"1970-01-01"})"
        << "\n"
        << "\n"
        << R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":7.10}})"
        << "\n"
        << R"({"resourceType":"Patient","id":"bad","birthDate":"yesterday"})"
        << "\n"
        << R"({"resourceType":"Patient","birthDate":"1980-01-01"})"
        << "\n";
  }
  std::string data = dir.path() + "/data";
  std::string cmd =
      VestaBinary() + " import" + StoreFlags(data) + " " + ndjson + " >/dev/null 2>&1";
  // Exit status 3: loaded, with rejected lines.
  EXPECT_EQ(WEXITSTATUS(RunCommand(cmd)), 3);
  EXPECT_EQ(WEXITSTATUS(RunCommand(cmd)), 3) << "a second import updates the same ids";
  ServerProcess server(data);
  ASSERT_TRUE(server.ok());
  HttpResult p1 = HttpRequest(server.port(), "GET", "/Patient/p1");
  EXPECT_EQ(p1.status, 200);
  EXPECT_EQ(p1.Header("ETag"), "W/\"2\"");
  HttpResult o1 = HttpRequest(server.port(), "GET", "/Observation/o1");
  EXPECT_EQ(o1.status, 200);
  EXPECT_NE(o1.body.find("7.10"), std::string::npos);
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/Patient/bad").status, 404);
  HttpResult hist = HttpRequest(server.port(), "GET", "/Patient/_history");
  // p1 twice and the id-less patient once per import.
  EXPECT_NE(hist.body.find("\"total\":4"), std::string::npos) << hist.body.substr(0, 300);
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace vesta::testing

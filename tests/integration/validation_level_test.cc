// `--validation strict|lenient` on the real server and `vesta import` (docs/validation.md):
// strict refuses what R4 forbids; lenient stores a resource missing required elements or with a
// dateTime without a time zone and answers with the problems as warnings, while what is not a
// valid resource at all is still refused.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

#include "integration/test_server.h"
#include "json/parse.h"

namespace vesta::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {
    {"Content-Type", "application/fhir+json"}};

// An Encounter as measure test decks write them: no class, a period without a time zone.
const char kEncounter[] =
    R"({"resourceType":"Encounter","status":"finished",)"
    R"("period":{"start":"2020-01-02T10:00:00","end":"2020-01-02T11:00:00"}})";

TEST(ValidationLevel, StrictRefusesWhatLenientStoresWithWarnings) {
  TempDir strict_dir, lenient_dir;
  ServerProcess strict(strict_dir.path());
  ServerProcess lenient(lenient_dir.path(), {"--validation", "lenient"});
  ASSERT_TRUE(strict.ok());
  ASSERT_TRUE(lenient.ok());

  HttpResult refused = HttpRequest(strict.port(), "POST", "/Encounter", kEncounter, kJson);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("missing required element 'class'"), std::string::npos)
      << refused.body;

  HttpResult stored = HttpRequest(
      lenient.port(), "POST", "/Encounter", kEncounter,
      {{"Content-Type", "application/fhir+json"}, {"Prefer", "return=OperationOutcome"}});
  ASSERT_EQ(stored.status, 201) << stored.body;
  EXPECT_NE(stored.body.find("\"severity\":\"warning\""), std::string::npos) << stored.body;
  EXPECT_NE(stored.body.find("missing required element 'class'"), std::string::npos);
  EXPECT_NE(stored.body.find("has a time but no time zone"), std::string::npos);
  // The resource is stored as sent.
  const std::string location = stored.Header("Location");
  const std::string path = location.substr(location.find("/Encounter/"));
  HttpResult read = HttpRequest(lenient.port(), "GET", path.substr(0, path.find("/_history")));
  EXPECT_EQ(read.status, 200);
  EXPECT_NE(read.body.find("2020-01-02T10:00:00\""), std::string::npos) << read.body;
  // A search by the zone-less date finds it.
  HttpResult found = HttpRequest(lenient.port(), "GET", "/Encounter?date=2020-01-02");
  EXPECT_NE(found.body.find("\"total\":1"), std::string::npos) << found.body;

  // Still refused under lenient: an unknown element, a wrong JSON type, a malformed date.
  EXPECT_EQ(HttpRequest(lenient.port(), "POST", "/Patient",
                        R"({"resourceType":"Patient","nickname":"x"})", kJson)
                .status,
            400);
  EXPECT_EQ(HttpRequest(lenient.port(), "POST", "/Patient",
                        R"({"resourceType":"Patient","active":"yes"})", kJson)
                .status,
            400);
  EXPECT_EQ(HttpRequest(lenient.port(), "POST", "/Patient",
                        R"({"resourceType":"Patient","birthDate":"1970-13-01"})", kJson)
                .status,
            400);
  EXPECT_EQ(HttpRequest(lenient.port(), "POST", "/Patient", "{\"resourceType\":", kJson).status,
            400);

  // In a transaction, the entry's response.outcome carries the warnings.
  const std::string bundle =
      std::string(R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)") +
      kEncounter + R"(,"request":{"method":"POST","url":"Encounter"}}]})";
  HttpResult tx = HttpRequest(lenient.port(), "POST", "/", bundle, kJson);
  ASSERT_EQ(tx.status, 200) << tx.body;
  EXPECT_NE(tx.body.find("\"outcome\":{\"resourceType\":\"OperationOutcome\""), std::string::npos)
      << tx.body;
  EXPECT_NE(tx.body.find("Bundle.entry[0].resource"), std::string::npos) << tx.body;
  EXPECT_EQ(HttpRequest(strict.port(), "POST", "/", bundle, kJson).status, 400);
  // In a batch too.
  std::string batch = bundle;
  batch.replace(batch.find("transaction"), 11, "batch");
  HttpResult b = HttpRequest(lenient.port(), "POST", "/", batch, kJson);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_NE(b.body.find("\"severity\":\"warning\""), std::string::npos) << b.body;
}

TEST(ValidationLevel, ImportLenientLoadsAndCounts) {
  TempDir dir;
  const std::string file = dir.path() + "/Encounter.ndjson";
  {
    std::ofstream out(file);
    out << kEncounter << "\n" << kEncounter << "\n";
  }
  auto run = [](const std::string& cmd) {
    std::string out;
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int rc = pclose(p);
    return std::make_pair(WEXITSTATUS(rc), out);
  };
  const std::string base =
      VestaBinary() + " import '" + file + "'" + StoreFlags(dir.path() + "/data");
  auto [strict_rc, strict_out] = run(base);
  EXPECT_EQ(strict_rc, 3) << strict_out;  // some rejected
  auto [rc, out] = run(base + " --validation lenient");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("2 passed lenient validation with warnings"), std::string::npos) << out;
  EXPECT_NE(out.find("Encounter.ndjson:1: Encounter: Encounter.period.start: dateTime "
                     "'2020-01-02T10:00:00' has a time but no time zone"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace vesta::testing

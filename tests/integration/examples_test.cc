// Every non-conformance example resource of hl7.fhir.r4.examples@4.0.1 goes through create and
// read against the real server and comes back equal (JSON equality, numbers byte-exact), apart
// from the server-set id, meta.versionId and meta.lastUpdated.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "integration/test_server.h"
#include "json/parse.h"
#include "json/value.h"
#include "json/writer.h"

namespace vesta::testing {
namespace {

// Conformance and terminology resources (https://hl7.org/fhir/R4/conformance-module.html,
// https://hl7.org/fhir/R4/terminology-module.html): definitions, not examples of data.
const std::set<std::string>& ConformanceTypes() {
  static const auto* types = new std::set<std::string>{"CapabilityStatement",
                                                       "StructureDefinition",
                                                       "ImplementationGuide",
                                                       "SearchParameter",
                                                       "MessageDefinition",
                                                       "OperationDefinition",
                                                       "CompartmentDefinition",
                                                       "StructureMap",
                                                       "GraphDefinition",
                                                       "ExampleScenario",
                                                       "CodeSystem",
                                                       "ValueSet",
                                                       "ConceptMap",
                                                       "NamingSystem",
                                                       "TerminologyCapabilities"};
  return *types;
}

// Examples the server must refuse, with the reason (they break R4's own rules).
const std::map<std::string, std::string>& MustReject() {
  static const auto* known = new std::map<std::string, std::string>{
      {"Questionnaire-qs1.json",
       "nested Questionnaire.item elements have no linkId, which is required (1..1)"},
  };
  return *known;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `v` without id and without meta.versionId / meta.lastUpdated (meta dropped if then empty).
json::Value Comparable(json::Arena& arena, const json::Value& v) {
  json::Value out = json::WithoutMember(arena, v, "id");
  if (const json::Value* meta = out.Find("meta")) {
    json::Value m = json::WithoutMember(arena, *meta, "versionId");
    m = json::WithoutMember(arena, m, "lastUpdated");
    out = m.size() == 0 ? json::WithoutMember(arena, out, "meta")
                        : json::WithMember(arena, out, "meta", m);
  }
  return out;
}

TEST(ExamplesTest, CreateThenReadRoundTripsEveryExample) {
  const std::string dir = VESTA_FHIR_PACKAGE_DIR;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) GTEST_SKIP() << "the R4 package is not installed at " << dir;
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".json" && name != "package.json" &&
        name.rfind("ig-", 0) != 0) {
      files.push_back(name);
    }
  }
  closedir(d);
  std::sort(files.begin(), files.end());

  TempDir data;
  // The examples refer to each other and to resources that are not in the package: they are
  // loaded in file order with referential integrity off.
  ServerProcess server(data.path(), {"--referential-integrity", "off"});
  ASSERT_TRUE(server.ok());
  int passed = 0, rejected_as_expected = 0, failed = 0, audit_refused = 0;
  std::string failures;
  for (const std::string& name : files) {
    std::string text = ReadFile(dir + "/" + name);
    auto original = json::Parse(text);
    ASSERT_TRUE(original.ok()) << name;
    std::string type(original->root().FindString("resourceType"));
    if (ConformanceTypes().count(type)) continue;
    HttpResult created = HttpRequest(server.port(), "POST", "/" + type, text);
    bool must_reject = MustReject().count(name) > 0;
    if (must_reject) {
      if (created.status == 400) {
        ++rejected_as_expected;
      } else {
        ++failed;
        failures +=
            name + ": accepted (" + std::to_string(created.status) + ") but must be rejected\n";
      }
      continue;
    }
    // The audit trail is written by the server only: AuditEvents are refused through the API.
    if (type == "AuditEvent") {
      if (created.status == 403) {
        ++audit_refused;
      } else {
        ++failed;
        failures +=
            name + ": an AuditEvent was not refused (" + std::to_string(created.status) + ")\n";
      }
      continue;
    }
    if (created.status != 201) {
      ++failed;
      failures += name + ": create " + std::to_string(created.status) + " " +
                  created.body.substr(0, 300) + "\n";
      continue;
    }
    auto created_doc = json::Parse(created.body);
    std::string id(created_doc->root().FindString("id"));
    HttpResult read = HttpRequest(server.port(), "GET", "/" + type + "/" + id);
    auto read_doc = json::Parse(read.body);
    if (read.status != 200 || !read_doc.ok()) {
      ++failed;
      failures += name + ": read " + std::to_string(read.status) + "\n";
      continue;
    }
    json::Arena arena;
    json::Value want = Comparable(arena, original->root());
    json::Value got = Comparable(arena, read_doc->root());
    if (!json::Equal(want, got) || read_doc->root().FindString("id") != id) {
      ++failed;
      failures += name + ": read back differs\n";
      continue;
    }
    ++passed;
  }
  std::cout << "R4 examples: " << passed << " round-tripped, " << rejected_as_expected
            << " rejected as expected, " << audit_refused << " AuditEvents refused, " << failed
            << " failed\n";
  EXPECT_GT(audit_refused, 0);
  EXPECT_EQ(failed, 0) << failures;
  EXPECT_GT(passed, 700);
  EXPECT_EQ(rejected_as_expected, static_cast<int>(MustReject().size()));
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace vesta::testing

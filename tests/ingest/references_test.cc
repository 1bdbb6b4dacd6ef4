// References in imported resources, and ResolveGroup's decision per member of a group.
#include "ingest/references.h"

#include <gtest/gtest.h>

#include <set>

#include "ingest/resource_group.h"
#include "json/parse.h"

namespace vesta::ingest {
namespace {

References Collect(const std::string& text) {
  Result<json::Document> doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status().message();
  return CollectReferences(doc->root(), fhir::Model::R4());
}

TEST(ReferencesTest, LiteralAndConditionalReferences) {
  References refs = Collect(R"({"resourceType":"Observation",
    "subject":{"reference":"Patient/p1"},
    "encounter":{"reference":"Encounter/e1/_history/2"},
    "performer":[{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|99"},
                 {"reference":"http://other.example/fhir/Practitioner/9"},
                 {"reference":"urn:uuid:3f1a"},
                 {"reference":"#contained"},
                 {"reference":"Patient/p1"},
                 {"reference":"NotAType/x"}],
    "contained":[{"resourceType":"Device","id":"contained",
                  "owner":{"reference":"Organization/o-in-contained"},
                  "location":{"reference":"Location?identifier=x|y"}}]})");
  EXPECT_EQ(refs.literal, (std::vector<std::string>{"Patient/p1", "Encounter/e1"}));
  EXPECT_EQ(refs.conditional,
            (std::vector<std::string>{"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|99",
                                      "Location?identifier=x|y"}));
}

TEST(ReferencesTest, ConditionalReferencesMayHoldUrlsInTheirQuery) {
  EXPECT_TRUE(IsConditionalReference(
      "Organization?identifier=https://github.com/synthetichealth/synthea|5f3b6a8a"));
  EXPECT_TRUE(IsConditionalReference("Patient?name=x"));
  EXPECT_FALSE(IsConditionalReference("http://example.org/fhir/Patient?name=x"));
  EXPECT_FALSE(IsConditionalReference("Patient/1?x"));
  EXPECT_FALSE(IsConditionalReference("?x"));
  EXPECT_FALSE(IsConditionalReference("Patient/1"));
}

TEST(ReferencesTest, RewriteEverywhere) {
  Result<json::Document> doc = json::Parse(
      R"({"a":{"reference":"urn:uuid:1"},"b":[{"reference":"urn:uuid:1"},{"reference":"x"}],)"
      R"("contained":[{"c":{"reference":"urn:uuid:1"}}],"reference":"urn:uuid:1"})");
  ASSERT_TRUE(doc.ok());
  std::map<std::string, std::string, std::less<>> map{{"urn:uuid:1", "Patient/1"}};
  bool changed = false;
  json::Value v = RewriteReferences(doc->arena(), doc->root(), map, &changed);
  EXPECT_TRUE(changed);
  Result<json::Document> expected = json::Parse(
      R"({"a":{"reference":"Patient/1"},"b":[{"reference":"Patient/1"},{"reference":"x"}],)"
      R"("contained":[{"c":{"reference":"Patient/1"}}],"reference":"Patient/1"})");
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(json::Equal(v, expected->root()));

  bool unchanged = false;
  RewriteReferences(doc->arena(), expected->root(), map, &unchanged);
  EXPECT_FALSE(unchanged);
}

TEST(ReferencesTest, IdentifierKeysMatchConditionalQueries) {
  Result<json::Document> doc = json::Parse(R"({"resourceType":"Practitioner","identifier":[
      {"system":"http://hl7.org/fhir/sid/us-npi","value":"9999999989"},{"value":"local-7"},
      {"system":"s-only"}]})");
  ASSERT_TRUE(doc.ok());
  std::vector<std::string> keys = IdentifierKeys("Practitioner", doc->root());
  std::set<std::string> set(keys.begin(), keys.end());
  auto finds = [&](const std::string& ref) {
    std::string key = IdentifierQueryKey(ref);
    return !key.empty() && set.count(key) > 0;
  };
  EXPECT_TRUE(finds("Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999999989"));
  EXPECT_TRUE(finds("Practitioner?identifier=9999999989")) << "any system";
  EXPECT_TRUE(finds("Practitioner?identifier=%7Clocal-7")) << "no system (|value, encoded)";
  EXPECT_FALSE(finds("Practitioner?identifier=other|9999999989"));
  EXPECT_FALSE(finds("Organization?identifier=http://hl7.org/fhir/sid/us-npi|9999999989"));
  EXPECT_EQ(IdentifierQueryKey("Practitioner?name=x"), "");
  EXPECT_EQ(IdentifierQueryKey("Practitioner?identifier=a|1&active=true"), "");
  EXPECT_EQ(IdentifierQueryKey("Practitioner?identifier=s-only|"), "");
}

// ---- ResolveGroup ------------------------------------------------------------------------------

Prepared Member(const std::string& type, const std::string& id,
                std::vector<std::string> missing = {}) {
  Prepared p;
  p.type = type;
  p.id = id;
  p.where = "f:" + id;
  p.missing = std::move(missing);
  return p;
}

TEST(ResolveGroupTest, ReferencesToTheGroupAndToStoredResourcesResolve) {
  Group g;
  g.push_back(Member("Patient", "p", {"Organization/stored"}));
  g.push_back(Member("Encounter", "e", {"Patient/p", "Condition/c"}));
  g.push_back(Member("Condition", "c", {"Encounter/e"}));  // a cycle inside the group
  std::vector<std::string> asked;
  std::vector<Fate> fates = ResolveGroup(
      g,
      [&](const std::string& ref) {
        asked.push_back(ref);
        return ref == "Organization/stored";
      },
      Pass::kEarly);
  EXPECT_EQ(fates, (std::vector<Fate>{Fate::kWrite, Fate::kWrite, Fate::kWrite}));
  EXPECT_EQ(asked, (std::vector<std::string>{"Organization/stored"}));
  EXPECT_TRUE(g[0].missing.empty());
}

TEST(ResolveGroupTest, UnresolvedReferencesDeferAndDeferralSpreadsToReferrers) {
  Group g;
  g.push_back(Member("Encounter", "e", {"Practitioner?identifier=x|1"}));
  g.push_back(Member("Observation", "o", {"Encounter/e"}));
  g.push_back(Member("Observation", "o2", {"Patient/later"}));
  g.push_back(Member("Patient", "p"));
  std::vector<Fate> fates = ResolveGroup(
      g, [](const std::string&) { return false; }, Pass::kEarly);
  EXPECT_EQ(fates, (std::vector<Fate>{Fate::kDefer, Fate::kDefer, Fate::kDefer, Fate::kWrite}));
  EXPECT_EQ(g[1].missing, (std::vector<std::string>{"Encounter/e"}))
      << "kept: the deferred members are retried together";
}

TEST(ResolveGroupTest, OnTheLastPassUnresolvedReferencesRejectAndSoDoTheirReferrers) {
  Group g;
  g.push_back(Member("Encounter", "e", {"Practitioner?identifier=x|1"}));
  g.push_back(Member("Observation", "o", {"Encounter/e"}));
  g.push_back(Member("Observation", "o2", {"Patient/nowhere"}));
  Prepared bad = Member("Patient", "bad");
  bad.status = Status(StatusCode::kInvalid, "invalid birthDate");
  g.push_back(std::move(bad));
  g.push_back(Member("Observation", "o3", {"Patient/bad"}));
  std::vector<Fate> fates = ResolveGroup(
      g, [](const std::string&) { return false; }, Pass::kLast);
  EXPECT_EQ(fates, (std::vector<Fate>{Fate::kReject, Fate::kReject, Fate::kReject, Fate::kReject,
                                      Fate::kReject}));
  EXPECT_NE(g[0].status.message().find("conditional reference 'Practitioner?identifier=x|1'"),
            std::string::npos);
  EXPECT_NE(g[1].status.message().find("references Encounter/e (f:e), which is rejected"),
            std::string::npos)
      << g[1].status.message();
  EXPECT_NE(g[2].status.message().find("Patient/nowhere names no resource"), std::string::npos);
  EXPECT_EQ(g[3].status.message(), "invalid birthDate") << "its own reason stays";
  EXPECT_NE(g[4].status.message().find("Patient/bad"), std::string::npos);
}

TEST(ResolveGroupTest, OneLineReasons) {
  EXPECT_EQ(OneLine(Status(StatusCode::kInvalid, "bad date",
                           {Issue{Severity::kError, "value", "bad date", "Patient.birthDate"}})),
            "Patient.birthDate: bad date");
  EXPECT_EQ(OneLine(Status(StatusCode::kInvalid, "2 problems",
                           {Issue{Severity::kError, "value", "a", "P.x"},
                            Issue{Severity::kError, "value", "b\nc", ""}})),
            "2 problems; P.x: a; b c");
}

}  // namespace
}  // namespace vesta::ingest

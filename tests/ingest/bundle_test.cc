// UnpackBundle: ids from fullUrls and request URLs, references rewritten everywhere in the Bundle,
// conditional creates, entries ignored and refused.
#include "ingest/bundle.h"

#include <gtest/gtest.h>

#include "json/parse.h"

namespace vesta::ingest {
namespace {

class CountingIds : public IdGenerator {
 public:
  std::string NewId() override { return "new-" + std::to_string(++n_); }

 private:
  int n_ = 0;
};

struct Unpacked {
  json::Document doc;
  std::vector<BundleEntry> entries;
};

Unpacked Unpack(const std::string& text, const MatchFinder& finder = {}) {
  Unpacked out;
  Result<json::Document> doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status().message();
  out.doc = std::move(doc).value();
  CountingIds ids;
  MatchFinder none = [](const std::string&, std::string_view) -> Result<std::string> {
    return std::string();
  };
  Result<std::vector<BundleEntry>> entries =
      UnpackBundle(out.doc.root(), out.doc.arena(), fhir::Model::R4(), ids, finder ? finder : none);
  EXPECT_TRUE(entries.ok()) << entries.status().message();
  if (entries.ok()) out.entries = std::move(entries).value();
  return out;
}

// A transaction as Synthea writes it: urn:uuid fullUrls, POST entries, references between entries
// (also inside a contained resource and an array), and a conditional reference left alone.
constexpr char kTransaction[] = R"({"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:0724714f-947b-6cab-ee85-b0de7a9ad3f7",
  "resource":{"resourceType":"Patient","id":"0724714f-947b-6cab-ee85-b0de7a9ad3f7"},
  "request":{"method":"POST","url":"Patient"}},
 {"fullUrl":"urn:uuid:11111111-2222-3333-4444-555555555555",
  "resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
   "subject":{"reference":"urn:uuid:0724714f-947b-6cab-ee85-b0de7a9ad3f7"},
   "participant":[{"individual":{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999999989"}}]},
  "request":{"method":"POST","url":"Encounter"}},
 {"fullUrl":"urn:uuid:66666666-7777-8888-9999-000000000000",
  "resource":{"resourceType":"Claim","status":"active",
   "contained":[{"resourceType":"Coverage","id":"cov","beneficiary":{"reference":"urn:uuid:0724714f-947b-6cab-ee85-b0de7a9ad3f7"}}],
   "patient":{"reference":"urn:uuid:0724714f-947b-6cab-ee85-b0de7a9ad3f7"},
   "item":[{"encounter":[{"reference":"urn:uuid:11111111-2222-3333-4444-555555555555"}]}]},
  "request":{"method":"POST","url":"Claim"}}]})";

TEST(BundleTest, UrnUuidFullUrlsBecomeIdsAndReferencesToThemAreRewritten) {
  Unpacked u = Unpack(kTransaction);
  ASSERT_EQ(u.entries.size(), 3u);
  EXPECT_EQ(u.entries[0].type, "Patient");
  EXPECT_EQ(u.entries[0].id, "0724714f-947b-6cab-ee85-b0de7a9ad3f7");
  EXPECT_EQ(u.entries[1].id, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(u.entries[1].index, 1u);
  EXPECT_EQ(u.entries[1].full_url, "urn:uuid:11111111-2222-3333-4444-555555555555");
  for (const BundleEntry& e : u.entries) EXPECT_TRUE(e.status.ok()) << e.status.message();

  const std::string& encounter = u.entries[1].resource;
  EXPECT_NE(encounter.find(R"("id":"11111111-2222-3333-4444-555555555555")"), std::string::npos)
      << "the id is set";
  EXPECT_NE(
      encounter.find(R"("subject":{"reference":"Patient/0724714f-947b-6cab-ee85-b0de7a9ad3f7"})"),
      std::string::npos)
      << encounter;
  EXPECT_NE(encounter.find("Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999999989"),
            std::string::npos)
      << "conditional references are resolved later, by search";
  const std::string& claim = u.entries[2].resource;
  EXPECT_EQ(claim.find("urn:uuid:"), std::string::npos) << claim;
  EXPECT_NE(claim.find(R"("beneficiary":{"reference":"Patient/0724714f)"), std::string::npos)
      << "contained resources too";
  EXPECT_NE(claim.find(R"({"reference":"Encounter/11111111-2222-3333-4444-555555555555"})"),
            std::string::npos);
}

TEST(BundleTest, IdsFromPutUrlsResourceIdsOrNew) {
  Unpacked u = Unpack(R"({"resourceType":"Bundle","type":"batch","entry":[
    {"fullUrl":"urn:uuid:not a valid id","resource":{"resourceType":"Patient","id":"own"},
     "request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
    {"fullUrl":"http://example.org/fhir/Organization/o1",
     "resource":{"resourceType":"Organization","id":"o1"},
     "request":{"method":"PUT","url":"Organization/o1"}},
    {"resource":{"resourceType":"Patient","managingOrganization":{"reference":"http://example.org/fhir/Organization/o1"}},
     "request":{"method":"PUT","url":"http://example.org/fhir/Patient/p7"}}]})");
  ASSERT_EQ(u.entries.size(), 4u);
  EXPECT_EQ(u.entries[0].id, "own");
  EXPECT_EQ(u.entries[1].id, "new-1");
  EXPECT_EQ(u.entries[2].id, "o1");
  EXPECT_EQ(u.entries[3].id, "p7");
  EXPECT_NE(u.entries[3].resource.find(R"("reference":"Organization/o1")"), std::string::npos)
      << u.entries[3].resource;
}

TEST(BundleTest, CollectionAndSearchsetEntriesHaveNoRequest) {
  Unpacked u = Unpack(R"({"resourceType":"Bundle","type":"searchset","entry":[
    {"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}},
    {"resource":{"resourceType":"OperationOutcome","issue":[]},"search":{"mode":"outcome"}}]})");
  ASSERT_EQ(u.entries.size(), 1u);
  EXPECT_EQ(u.entries[0].id, "1");
  EXPECT_TRUE(u.entries[0].status.ok());
}

TEST(BundleTest, ReadsAreIgnoredAndChangesOtherThanLoadingAreRefused) {
  Unpacked u = Unpack(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"request":{"method":"GET","url":"Patient/1"}},
    {"request":{"method":"DELETE","url":"Patient/2"}},
    {"resource":{"resourceType":"Patient"},"request":{"method":"PUT","url":"Patient?identifier=a|b"}},
    {"resource":{"resourceType":"Patient","id":"x"},"request":{"method":"PUT","url":"Patient/y"}},
    {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Observation"}},
    {"resource":{"resourceType":"NoSuchType"}},
    {"fullUrl":"urn:uuid:5"}]})");
  ASSERT_EQ(u.entries.size(), 6u);
  EXPECT_EQ(u.entries[0].index, 1u);
  for (const BundleEntry& e : u.entries) EXPECT_FALSE(e.status.ok()) << e.index;
  EXPECT_NE(u.entries[0].status.message().find("DELETE"), std::string::npos);
  EXPECT_NE(u.entries[1].status.message().find("conditional update"), std::string::npos);
  EXPECT_NE(u.entries[2].status.message().find("differs from the id in request.url"),
            std::string::npos);
  EXPECT_NE(u.entries[3].status.message().find("does not name the resource's type"),
            std::string::npos);
  EXPECT_NE(u.entries[4].status.message().find("not an R4 resource type"), std::string::npos);
  EXPECT_NE(u.entries[5].status.message().find("no resource"), std::string::npos);
  EXPECT_NE(u.entries[1].resource.find("identifier=a|b"), std::string::npos)
      << "a rejected entry keeps its text for the reject file";
}

TEST(BundleTest, ConditionalCreateThatMatchesMapsItsFullUrlToTheMatch) {
  MatchFinder finder = [](const std::string& type, std::string_view query) -> Result<std::string> {
    EXPECT_EQ(type, "Practitioner");
    if (query == "identifier=http://hl7.org/fhir/sid/us-npi|1") return std::string("existing");
    if (query == "identifier=many") return Status(StatusCode::kInvalid, "matches more than one");
    return std::string();
  };
  Unpacked u = Unpack(R"({"resourceType":"Bundle","type":"batch","entry":[
    {"fullUrl":"urn:uuid:aaaa","resource":{"resourceType":"Practitioner","id":"aaaa"},
     "request":{"method":"POST","url":"Practitioner","ifNoneExist":"identifier=http://hl7.org/fhir/sid/us-npi|1"}},
    {"fullUrl":"urn:uuid:bbbb","resource":{"resourceType":"Practitioner"},
     "request":{"method":"POST","url":"Practitioner","ifNoneExist":"identifier=http://hl7.org/fhir/sid/us-npi|2"}},
    {"fullUrl":"urn:uuid:cccc","resource":{"resourceType":"Practitioner"},
     "request":{"method":"POST","url":"Practitioner","ifNoneExist":"identifier=many"}},
    {"resource":{"resourceType":"PractitionerRole","practitioner":{"reference":"urn:uuid:aaaa"}},
     "request":{"method":"POST","url":"PractitionerRole"}}]})",
                      finder);
  ASSERT_EQ(u.entries.size(), 4u);
  EXPECT_TRUE(u.entries[0].matched_existing);
  EXPECT_EQ(u.entries[0].id, "existing");
  EXPECT_FALSE(u.entries[1].matched_existing);
  EXPECT_EQ(u.entries[1].id, "bbbb");
  EXPECT_FALSE(u.entries[2].status.ok());
  EXPECT_NE(u.entries[3].resource.find(R"("reference":"Practitioner/existing")"), std::string::npos)
      << u.entries[3].resource;
}

TEST(BundleTest, WhichBundlesAreUnpacked) {
  EXPECT_EQ(BundleHandlingOf("transaction"), BundleHandling::kUnpack);
  EXPECT_EQ(BundleHandlingOf("batch"), BundleHandling::kUnpack);
  EXPECT_EQ(BundleHandlingOf("collection"), BundleHandling::kUnpack);
  EXPECT_EQ(BundleHandlingOf("searchset"), BundleHandling::kUnpack);
  EXPECT_EQ(BundleHandlingOf("document"), BundleHandling::kStore);
  EXPECT_EQ(BundleHandlingOf("message"), BundleHandling::kStore);
  EXPECT_EQ(BundleHandlingOf("history"), BundleHandling::kRefuse);
  EXPECT_EQ(BundleHandlingOf(""), BundleHandling::kRefuse);
}

TEST(BundleTest, ValidIds) {
  EXPECT_TRUE(IsValidId("0724714f-947b-6cab-ee85-b0de7a9ad3f7"));
  EXPECT_TRUE(IsValidId("a.b-C9"));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("a b"));
  EXPECT_FALSE(IsValidId("a_b"));
  EXPECT_FALSE(IsValidId(std::string(65, 'a')));
}

}  // namespace
}  // namespace vesta::ingest

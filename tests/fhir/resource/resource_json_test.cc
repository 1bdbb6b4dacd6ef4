#include "fhir/resource/resource_json.h"

#include <gtest/gtest.h>

#include "json/parse.h"
#include "json/writer.h"

namespace vesta::fhir {
namespace {

TEST(ResourceJsonTest, SetsIdAndMetaFirstAndKeepsTheRest) {
  auto doc = ParseResourceBody(
      R"({"active":true,"resourceType":"Patient","meta":{"versionId":"7","tag":[{"code":"x"}]},"id":"old","extension":[{"url":"http://x","valueDecimal":0.10}]})",
      "Patient", fhir::Model::R4());
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(
      StoredJson(*doc, "new", 3, 0),
      R"({"resourceType":"Patient","id":"new","meta":{"versionId":"3","lastUpdated":"1970-01-01T00:00:00.000000Z","tag":[{"code":"x"}]},"active":true,"extension":[{"url":"http://x","valueDecimal":0.10}]})");
}

// The document becomes the stored version, so that the store can index the same tree
// (store::WriteOp::document) instead of parsing the bytes again; a second call, as a retried
// update makes, gives the next version from it.
TEST(ResourceJsonTest, TheDocumentBecomesTheStoredVersion) {
  auto doc = ParseResourceBody(R"({"resourceType":"Patient","meta":{"tag":[{"code":"x"}]}})",
                               "Patient", fhir::Model::R4());
  ASSERT_TRUE(doc.ok());
  std::string v1 = StoredJson(*doc, "p1", 1, 0);
  auto parsed = json::Parse(v1);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(json::Equal(doc->root(), parsed->root()));
  EXPECT_EQ(json::ToString(doc->root()), v1);
  std::string v2 = StoredJson(*doc, "p1", 2, 1000000);
  EXPECT_EQ(
      v2,
      R"({"resourceType":"Patient","id":"p1","meta":{"versionId":"2","lastUpdated":"1970-01-01T00:00:01.000000Z","tag":[{"code":"x"}]}})");
  EXPECT_EQ(json::ToString(doc->root()), v2);
}

TEST(ResourceJsonTest, RejectsTypeMismatchAndInvalidResources) {
  auto wrong = ParseResourceBody(R"({"resourceType":"Observation"})", "Patient", fhir::Model::R4());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalid);
  auto missing = ParseResourceBody(R"({"id":"x"})", "Patient", fhir::Model::R4());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalid);
  auto empty = ParseResourceBody("", "Patient", fhir::Model::R4());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalid);
  auto invalid =
      ParseResourceBody(R"({"resourceType":"Patient","x":1})", "Patient", fhir::Model::R4());
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().issues()[0].location, "Patient.x");
}

}  // namespace
}  // namespace vesta::fhir

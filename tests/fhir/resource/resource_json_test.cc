#include "fhir/resource/resource_json.h"

#include <gtest/gtest.h>

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

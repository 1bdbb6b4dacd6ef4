// SameContent: a rerun of the same line is unchanged; what the server stamps does not count.
#include "ingest/content.h"

#include <gtest/gtest.h>

#include "json/parse.h"

namespace vesta::ingest {
namespace {

bool Same(const std::string& a, const std::string& b) {
  Result<json::Document> da = json::Parse(a);
  Result<json::Document> db = json::Parse(b);
  EXPECT_TRUE(da.ok() && db.ok());
  return SameContent(da->root(), db->root());
}

TEST(ContentTest, ServerStampsAreLeftOut) {
  EXPECT_TRUE(Same(
      R"({"resourceType":"Patient","id":"p","meta":{"versionId":"3","lastUpdated":"2026-01-01T00:00:00Z"},"active":true})",
      R"({"resourceType":"Patient","id":"p","meta":{"versionId":"1","lastUpdated":"2027-05-05T10:00:00.123456Z"},"active":true})"));
  // No meta in the input, the server's meta in the store.
  EXPECT_TRUE(Same(
      R"({"resourceType":"Patient","id":"p","active":true})",
      R"({"resourceType":"Patient","id":"p","meta":{"versionId":"1","lastUpdated":"x"},"active":true})"));
  EXPECT_TRUE(Same(R"({"resourceType":"Patient","id":"p","meta":{}})",
                   R"({"resourceType":"Patient","id":"p"})"));
}

TEST(ContentTest, TheClientsMetaCounts) {
  EXPECT_TRUE(Same(R"({"resourceType":"Patient","meta":{"profile":["a"],"versionId":"1"}})",
                   R"({"resourceType":"Patient","meta":{"lastUpdated":"t","profile":["a"]}})"));
  EXPECT_FALSE(Same(R"({"resourceType":"Patient","meta":{"profile":["a"],"versionId":"1"}})",
                    R"({"resourceType":"Patient","meta":{"profile":["b"],"versionId":"1"}})"));
  EXPECT_FALSE(Same(R"({"resourceType":"Patient","meta":{"tag":[{"code":"x"}]}})",
                    R"({"resourceType":"Patient","meta":{"versionId":"1"}})"));
}

TEST(ContentTest, MemberOrderIsIgnoredButArrayOrderAndNumberTextAreNot) {
  EXPECT_TRUE(Same(R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})",
                   R"({"code":{"text":"x"},"status":"final","resourceType":"Observation"})"));
  EXPECT_FALSE(Same(R"({"resourceType":"Patient","name":[{"family":"A"},{"family":"B"}]})",
                    R"({"resourceType":"Patient","name":[{"family":"B"},{"family":"A"}]})"));
  // FHIR decimals keep their precision: 7.10 is not 7.1.
  EXPECT_FALSE(Same(R"({"resourceType":"Observation","valueQuantity":{"value":7.10}})",
                    R"({"resourceType":"Observation","valueQuantity":{"value":7.1}})"));
  EXPECT_FALSE(Same(R"({"resourceType":"Patient","active":true})",
                    R"({"resourceType":"Patient","active":true,"gender":"male"})"));
  EXPECT_FALSE(Same(R"({"resourceType":"Patient","active":true,"gender":"male"})",
                    R"({"resourceType":"Patient","active":true})"));
}

}  // namespace
}  // namespace vesta::ingest

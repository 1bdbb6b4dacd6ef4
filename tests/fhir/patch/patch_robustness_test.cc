// Random patches (fixed seed, bounded) against a sample resource: every patch either applies or
// fails with a Status; the input is never modified; results serialize and re-parse.
#include <gtest/gtest.h>

#include <iostream>
#include <random>

#include "fhir/patch/fhirpath_patch.h"
#include "fhir/patch/json_patch.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::patch {
namespace {

constexpr std::string_view kPatient = R"({"resourceType":"Patient","id":"p","active":true,
  "name":[{"use":"official","family":"F","given":["A","B"],"_given":[null,{"id":"g"}]}],
  "birthDate":"1974-12-25","_birthDate":{"extension":[{"url":"u","valueString":"x"}]},
  "contact":[{"name":{"text":"c"},"gender":"male"}],"identifier":[{"value":"1"},{"value":"2"}],
  "deceasedBoolean":false,"contained":[{"resourceType":"Organization","id":"o","name":"O"}]})";

TEST(PatchRobustness, RandomJsonPatches) {
  const char* pointers[] = {"",
                            "/",
                            "/id",
                            "/name",
                            "/name/0",
                            "/name/0/given/1",
                            "/name/-",
                            "/name/9",
                            "/name/01",
                            "/_given",
                            "/contact/0/name",
                            "/x/y",
                            "/~",
                            "/~0",
                            "/~1",
                            "/identifier/1",
                            "/identifier/-",
                            "/contained/0/name",
                            "/active",
                            "/name/0/given/-"};
  const char* values[] = {"1", "\"s\"", "null", "[]", "{}", R"({"a":[1,{"b":2}]})", "true"};
  const char* ops[] = {"add", "remove", "replace", "move", "copy", "test", "bogus"};
  std::mt19937 rng(12345);
  auto pick = [&](auto& array) { return array[rng() % std::size(array)]; };
  Result<json::Document> doc = json::Parse(kPatient);
  ASSERT_TRUE(doc.ok());
  const std::string before = json::ToString(doc->root());
  int applied = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string patch = "[";
    int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      if (i > 0) patch += ',';
      patch += std::string(R"({"op":")") + pick(ops) + R"(","path":")" + pick(pointers) +
               R"(","from":")" + pick(pointers) + R"(","value":)" + pick(values) + "}";
    }
    patch += "]";
    Result<json::Document> p = json::Parse(patch);
    ASSERT_TRUE(p.ok()) << patch;
    json::Arena arena;
    Result<json::Value> out = ApplyJsonPatch(arena, doc->root(), p->root());
    if (out.ok()) {
      ++applied;
      EXPECT_TRUE(json::Parse(json::ToString(*out)).ok()) << patch;
    } else {
      EXPECT_FALSE(out.status().message().empty());
    }
  }
  EXPECT_EQ(json::ToString(doc->root()), before);
  EXPECT_GT(applied, 0);  // the generator must also produce patches that apply
  std::cout << applied << " of the random patches applied\n";
}

TEST(PatchRobustness, RandomFhirPathPatches) {
  const char* paths[] = {"Patient",
                         "Patient.name",
                         "Patient.name[0]",
                         "Patient.name.given",
                         "Patient.name.given[1]",
                         "Patient.birthDate",
                         "Patient.deceased",
                         "Patient.contact[0].name",
                         "Patient.identifier",
                         "Patient.contained",
                         "Patient.contained[0]",
                         "Patient.contained.name",
                         "1 + 1",
                         "Patient.(",
                         "Patient.gender",
                         "Patient.identifier.value",
                         "%resource"};
  const char* names[] = {"gender", "name",  "identifier", "deceased", "extension",
                         "id",     "given", "nope",       "contact"};
  const char* values[] = {
      R"("valueCode":"female")",
      R"("valueString":"s")",
      R"("valueBoolean":true)",
      R"("valueHumanName":{"text":"t"})",
      R"("valueIdentifier":{"value":"3"})",
      R"("valueInteger":1)",
      R"("part":[{"name":"text","valueString":"t"}])",
      R"("part":[{"name":"url","valueUri":"u"},{"name":"value","valueCode":"c"}])",
      R"("part":[{"name":"bogus","valueString":"t"}])"};
  const char* types[] = {"add", "insert", "delete", "replace", "move", "frob"};
  std::mt19937 rng(54321);
  auto pick = [&](auto& array) { return array[rng() % std::size(array)]; };
  Result<json::Document> doc = json::Parse(kPatient);
  ASSERT_TRUE(doc.ok());
  const std::string before = json::ToString(doc->root());
  const fhir::Model& model = fhir::Model::R4();
  int applied = 0;
  for (int round = 0; round < 1000; ++round) {
    std::string params = R"({"resourceType":"Parameters","parameter":[)";
    int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      if (i > 0) params += ',';
      params += std::string(R"({"name":"operation","part":[{"name":"type","valueCode":")") +
                pick(types) + R"("},{"name":"path","valueString":")" + pick(paths) +
                R"("},{"name":"name","valueString":")" + pick(names) +
                R"("},{"name":"index","valueInteger":)" + std::to_string(rng() % 4) +
                R"(},{"name":"source","valueInteger":)" + std::to_string(rng() % 3) +
                R"(},{"name":"destination","valueInteger":)" + std::to_string(rng() % 3) +
                R"(},{"name":"value",)" + pick(values) + "}]}";
    }
    params += "]}";
    Result<json::Document> p = json::Parse(params);
    ASSERT_TRUE(p.ok()) << params;
    json::Arena arena;
    Result<json::Value> out = ApplyFhirPathPatch(arena, doc->root(), p->root(), model);
    if (out.ok()) {
      ++applied;
      EXPECT_TRUE(json::Parse(json::ToString(*out)).ok()) << params;
    } else {
      EXPECT_FALSE(out.status().message().empty());
    }
  }
  EXPECT_EQ(json::ToString(doc->root()), before);
  EXPECT_GT(applied, 0);  // the generator must also produce patches that apply
  std::cout << applied << " of the random patches applied\n";
}

}  // namespace
}  // namespace vesta::patch

#include "fhir/patch/fhirpath_patch.h"

#include <gtest/gtest.h>

#include <iostream>

#include "fhir/patch/patch_test_data.h"
#include "fhir/xml/xml_to_json.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::patch {
namespace {

json::Document MustParse(std::string_view text) {
  Result<json::Document> d = json::Parse(text);
  EXPECT_TRUE(d.ok()) << d.status().ToString() << "\n" << text;
  return d.ok() ? std::move(d).value() : json::Document();
}

// An operation parameter from its parts' JSON, e.g. Op(R"({"name":"type","valueCode":"add"})").
std::string Params(std::initializer_list<std::string_view> operations) {
  std::string out = R"({"resourceType":"Parameters","parameter":[)";
  bool first = true;
  for (std::string_view op : operations) {
    if (!first) out += ',';
    first = false;
    out += R"({"name":"operation","part":[)" + std::string(op) + "]}";
  }
  return out + "]}";
}

std::string Part(std::string_view name, std::string_view value_member) {
  return R"({"name":")" + std::string(name) + R"(",)" + std::string(value_member) + "}";
}

std::string Op(std::string_view type, std::string_view path, std::string_view extra = "") {
  std::string s = Part("type", R"("valueCode":")" + std::string(type) + '"') + ',' +
                  Part("path", R"("valueString":")" + std::string(path) + '"');
  if (!extra.empty()) s += "," + std::string(extra);
  return s;
}

// The compact result, or "ERROR: message".
std::string Apply(std::string_view resource, const std::string& params) {
  json::Document doc = MustParse(resource);
  json::Document p = MustParse(params);
  std::string before = json::ToString(doc.root());
  Result<json::Value> out =
      ApplyFhirPathPatch(doc.arena(), doc.root(), p.root(), fhir::Model::R4());
  EXPECT_EQ(json::ToString(doc.root()), before) << "the input was modified";
  if (!out.ok()) return "ERROR: " + out.status().message();
  return json::ToString(*out);
}

TEST(FhirPathPatch, ReplacePrimitiveDropsItsExtensions) {
  EXPECT_EQ(Apply(R"({"resourceType":"Patient","birthDate":"1920-01-01",
                      "_birthDate":{"extension":[{"url":"http://x","valueString":"a"}]}})",
                  Params({Op("replace", "Patient.birthDate",
                             Part("value", R"("valueDate":"1930-01-01")"))})),
            R"({"resourceType":"Patient","birthDate":"1930-01-01"})");
}

TEST(FhirPathPatch, DeletePrimitiveInArrayKeepsExtensionsAligned) {
  EXPECT_EQ(
      Apply(R"({"resourceType":"Patient","name":[{"given":["a","b","c"],
                      "_given":[null,{"id":"x"},null]}]})",
            Params({Op("delete", "Patient.name.given[0]")})),
      R"({"resourceType":"Patient","name":[{"given":["b","c"],"_given":[{"id":"x"},null]}]})");
  EXPECT_EQ(Apply(R"({"resourceType":"Patient","name":[{"given":["a","b"],
                      "_given":[null,{"id":"x"}]}]})",
                  Params({Op("delete", "Patient.name.given[1]")})),
            R"({"resourceType":"Patient","name":[{"given":["a"]}]})");
}

TEST(FhirPathPatch, DeleteOfNothingIsNotAnError) {
  EXPECT_EQ(Apply(R"({"resourceType":"Patient","gender":"male"})",
                  Params({Op("delete", "Patient.birthDate")})),
            R"({"resourceType":"Patient","gender":"male"})");
}

TEST(FhirPathPatch, AddChoiceAndComplexFromParts) {
  EXPECT_EQ(Apply(R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})",
                  Params({Op("add", "Observation",
                             Part("name", R"("valueString":"value")") + "," +
                                 Part("value", R"("valueQuantity":{"value":1.50,"unit":"g"})"))})),
            R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
            R"("valueQuantity":{"value":1.50,"unit":"g"}})");
  // An extension built from parts: its value[x] takes the part's type.
  EXPECT_EQ(Apply(R"({"resourceType":"Patient"})",
                  Params({Op("add", "Patient",
                             Part("name", R"("valueString":"extension")") + "," +
                                 R"({"name":"value","part":[)" +
                                 Part("url", R"("valueUri":"http://example.org/x")") + "," +
                                 Part("value", R"("valueBoolean":true)") + "]}")})),
            R"({"resourceType":"Patient","extension":[{"url":"http://example.org/x",)"
            R"("valueBoolean":true}]})");
}

TEST(FhirPathPatch, ReplaceChoiceChangesItsType) {
  EXPECT_EQ(Apply(R"({"resourceType":"Patient","deceasedBoolean":false})",
                  Params({Op("replace", "Patient.deceased",
                             Part("value", R"("valueDateTime":"2020-01-01")"))})),
            R"({"resourceType":"Patient","deceasedDateTime":"2020-01-01"})");
}

TEST(FhirPathPatch, AddExtensionToPrimitive) {
  EXPECT_EQ(
      Apply(R"({"resourceType":"Patient","birthDate":"1920-01-01"})",
            Params({Op("add", "Patient.birthDate",
                       Part("name", R"("valueString":"extension")") + "," +
                           R"({"name":"value","part":[)" + Part("url", R"("valueUri":"http://x")") +
                           "," + Part("value", R"("valueCode":"a")") + "]}")})),
      R"({"resourceType":"Patient","birthDate":"1920-01-01",)"
      R"("_birthDate":{"extension":[{"url":"http://x","valueCode":"a"}]}})");
}

TEST(FhirPathPatch, MoveAndInsertKeepExtensionsAligned) {
  EXPECT_EQ(Apply(R"({"resourceType":"Patient","name":[{"given":["a","b","c"],
                      "_given":[{"id":"x"},null,null]}]})",
                  Params({Op("move", "Patient.name.given",
                             Part("source", R"("valueInteger":0)") + "," +
                                 Part("destination", R"("valueInteger":2)")),
                          Op("insert", "Patient.name.given",
                             Part("index", R"("valueInteger":0)") + "," +
                                 Part("value", R"("valueString":"z")"))})),
            R"({"resourceType":"Patient","name":[{"given":["z","b","c","a"],)"
            R"("_given":[null,null,null,{"id":"x"}]}]})");
}

TEST(FhirPathPatch, AddContainedResourceAndPruneEmptyParents) {
  EXPECT_EQ(Apply(R"({"resourceType":"Patient"})",
                  Params({Op("add", "Patient",
                             Part("name", R"("valueString":"contained")") + "," +
                                 Part("value", R"("resource":{"resourceType":"Organization",)"
                                               R"("id":"o"})"))})),
            R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o"}]})");
  EXPECT_EQ(Apply(R"({"resourceType":"Patient","contact":[{"name":{"text":"a"}}],"gender":"male"})",
                  Params({Op("delete", "Patient.contact.name.text")})),
            R"({"resourceType":"Patient","gender":"male"})");
}

TEST(FhirPathPatch, Errors) {
  std::string two_names = R"({"resourceType":"Patient","name":[{"family":"a"},{"family":"b"}]})";
  EXPECT_EQ(
      Apply(two_names,
            Params({Op("replace", "Patient.name.family", Part("value", R"("valueString":"c")"))})),
      "ERROR: operation 0 (replace Patient.name.family): 'Patient.name.family' selects 2 "
      "elements; replace needs exactly one");
  EXPECT_EQ(Apply(two_names, Params({Op("insert", "Patient.name",
                                        Part("index", R"("valueInteger":3)") + "," +
                                            Part("value", R"("valueHumanName":{"text":"x"})"))})),
            "ERROR: operation 0 (insert Patient.name): index 3 is out of range 0..2");
  EXPECT_EQ(Apply(two_names, Params({Op("move", "Patient.name",
                                        Part("source", R"("valueInteger":0)") + "," +
                                            Part("destination", R"("valueInteger":2)"))})),
            "ERROR: operation 0 (move Patient.name): source 0 or destination 2 is out of range "
            "0..1");
  EXPECT_EQ(Apply(two_names, Params({Op("add", "Patient",
                                        Part("name", R"("valueString":"nickname")") + "," +
                                            Part("value", R"("valueString":"x")"))})),
            "ERROR: operation 0 (add Patient): Patient has no element 'nickname'");
  EXPECT_EQ(Apply(two_names, Params({Op("frob", "Patient")})),
            "ERROR: operation 0: unknown operation type 'frob' (expected add, insert, delete, "
            "replace or move)");
  EXPECT_EQ(Apply(two_names, Params({Op("replace", "Patient.name[0]")})),
            "ERROR: operation 0: replace needs a value");
  EXPECT_EQ(Apply(R"({"resourceType":"Patient","gender":"male"})",
                  Params({Op("add", "Patient",
                             Part("name", R"("valueString":"gender")") + "," +
                                 Part("value", R"("valueCode":"female")"))})),
            "ERROR: operation 0 (add Patient): 'gender' is already present at 'Patient' and does "
            "not repeat: use replace");
  json::Document doc = MustParse(two_names);
  json::Document not_params = MustParse(R"({"resourceType":"Patient"})");
  EXPECT_EQ(ApplyFhirPathPatch(doc.arena(), doc.root(), not_params.root(), fhir::Model::R4())
                .status()
                .code(),
            StatusCode::kInvalid);
  json::Document bad_path = MustParse(Params({Op("delete", "Patient.name.(")}));
  EXPECT_EQ(ApplyFhirPathPatch(doc.arena(), doc.root(), bad_path.root(), fhir::Model::R4())
                .status()
                .code(),
            StatusCode::kInvalid);
}

// The official cases (fhir-patch-tests.xml from fhir-test-cases), converted from FHIR XML.
// Achieved: all 33 (none skipped). The test fails when fewer pass.
constexpr int kMinFhirPathPatchPassed = 33;

TEST(FhirPathPatch, OfficialCases) {
  std::string file = testing::PatchCaseFile("fhir-patch-tests.xml");
  if (file.empty()) GTEST_SKIP() << "fhir-patch-tests.xml not found under $VESTA_SHARED_DATA";
  Result<fhirxml::XmlElement> tests = fhirxml::ParseXml(testing::ReadWholeFile(file));
  ASSERT_TRUE(tests.ok()) << tests.status().ToString();
  const fhir::Model& model = fhir::Model::R4();
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::string failures;
  for (const fhirxml::XmlElement* c : tests->Elements()) {
    if (c->name != "case") continue;
    const std::string* name_attr = c->Attribute("name");
    std::string name = name_attr != nullptr ? *name_attr : "?";
    const std::string* mode = c->Attribute("mode");
    // "backwards" cases test diff generation, which this server does not do.
    if (mode != nullptr && *mode == "backwards") {
      ++skipped;
      continue;
    }
    auto fail = [&](const std::string& why) {
      ++failed;
      failures += "  " + name + ": " + why + "\n";
    };
    auto resource_of = [](const fhirxml::XmlElement* holder) -> const fhirxml::XmlElement* {
      if (holder == nullptr) return nullptr;
      std::vector<const fhirxml::XmlElement*> e = holder->Elements();
      return e.size() == 1 ? e[0] : nullptr;
    };
    json::Arena arena;
    Result<json::Value> input = Status(StatusCode::kInvalid, "no <input>");
    Result<json::Value> diff = Status(StatusCode::kInvalid, "no <diff>");
    if (const fhirxml::XmlElement* r = resource_of(c->Child("input"))) {
      input = fhirxml::ResourceToJson(arena, *r, model);
    }
    if (const fhirxml::XmlElement* r = resource_of(c->Child("diff"))) {
      diff = fhirxml::ResourceToJson(arena, *r, model);
    }
    if (!input.ok() || !diff.ok()) {
      fail("cannot convert the case: " +
           (input.ok() ? diff.status().message() : input.status().message()));
      continue;
    }
    Result<json::Value> out = ApplyFhirPathPatch(arena, *input, *diff, model);
    if (const fhirxml::XmlElement* error = c->Child("error")) {
      if (out.ok()) {
        const std::string* msg = error->Attribute("msg");
        fail("expected an error (" + (msg != nullptr ? *msg : std::string()) + "), got " +
             json::ToString(*out));
      } else {
        ++passed;
      }
      continue;
    }
    const fhirxml::XmlElement* output_xml = resource_of(c->Child("output"));
    if (output_xml == nullptr) {
      fail("no <output>");
      continue;
    }
    Result<json::Value> expected = fhirxml::ResourceToJson(arena, *output_xml, model);
    if (!expected.ok()) {
      fail("cannot convert <output>: " + expected.status().message());
    } else if (!out.ok()) {
      fail(out.status().message());
    } else if (!json::Equal(*out, *expected)) {
      fail("got " + json::ToString(*out) + "\n    expected " + json::ToString(*expected));
    } else {
      ++passed;
    }
  }
  std::cout << "FHIRPath Patch: " << passed << " passed, " << failed << " failed, " << skipped
            << " skipped\n"
            << failures;
  EXPECT_GE(passed, kMinFhirPathPatchPassed) << failures;
}

}  // namespace
}  // namespace vesta::patch

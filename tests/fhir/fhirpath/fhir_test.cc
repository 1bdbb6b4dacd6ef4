// The FHIR R4 additions: choice elements, primitive extensions, extension(), resolve(),
// environment variables, services, static checks against the model
// (https://hl7.org/fhir/R4/fhirpath.html).
#include <gtest/gtest.h>

#include "fhir/fhirpath/test_util.h"
#include "fhir/model/model.h"

namespace vesta::fhirpath::testing {
namespace {

constexpr std::string_view kObservation = R"({
  "resourceType": "Observation", "id": "o1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
  "subject": {"reference": "#p"},
  "contained": [{"resourceType": "Patient", "id": "p", "gender": "female"}],
  "valueQuantity": {"value": 185, "unit": "lbs", "system": "http://unitsofmeasure.org",
                    "code": "[lb_av]"},
  "component": [{"code": {"text": "a"}, "valueString": "x"},
                {"code": {"text": "b"}, "valueBoolean": false},
                {"code": {"text": "c"}, "_valueString": {"extension": [
                    {"url": "http://example.org/absent", "valueCode": "unknown"}]}}]
})";

// Search parameter expressions are unions of paths from type names: the paths from other types
// than the resource's are empty, and are skipped without hiding errors in the others.
TEST(FhirPathFhir, UnionsOfPathsFromTypeNames) {
  const std::string expr = "Observation.status | Patient.gender | Observation.code.coding.code";
  EXPECT_EQ(Eval(expr, kObservation), R"(["final","29463-7"])");
  EXPECT_EQ(Eval(expr), R"(["male"])");
  const std::string bad = "Observation.status | Patient.name.where(given)";
  EXPECT_EQ(Eval(bad, kObservation), R"(["final"])");
  EXPECT_EQ(Eval(bad),
            "ERROR: FHIRPath: expected a single Boolean but found 2 items at position 34");
}

// The evaluator relies on this (IsNamedType in eval.cc): a concrete resource type never
// derives from another one, so `Patient.name` on an Observation needs no hierarchy walk.
TEST(FhirPathFhir, ConcreteResourceTypesDeriveOnlyFromAbstractOnes) {
  const fhir::Model& model = fhir::Model::R4();
  for (const std::string& type : model.resource_types()) {
    const fhir::StructInfo* s = model.FindStruct(type);
    ASSERT_NE(s, nullptr) << type;
    const fhir::StructInfo* base = model.FindStruct(s->base);
    ASSERT_NE(base, nullptr) << type;
    EXPECT_TRUE(base->is_abstract) << type << " derives from " << s->base;
  }
}

TEST(FhirPathFhir, DescendantsOfType) {
  // The fused walk (descendants().ofType(T)) agrees with filtering every descendant.
  for (std::string_view t : {"string", "code", "Extension", "Element", "dateTime", "Patient"}) {
    std::string type(t);
    EXPECT_EQ(Eval("descendants().ofType(" + type + ")"),
              Eval("descendants().select($this.ofType(" + type + "))"))
        << type;
  }
}

TEST(FhirPathFhir, Resolve) {
  class MapResolver : public ReferenceResolver {
   public:
    explicit MapResolver(const json::Value* v) : v_(v) {}
    const json::Value* Resolve(std::string_view ref) const override {
      return ref == "Patient/99" ? v_ : nullptr;
    }

   private:
    const json::Value* v_;
  };
  Result<json::Document> other = json::Parse(R"({"resourceType":"Patient","id":"99"})");
  ASSERT_TRUE(other.ok());
  MapResolver resolver(&other->root());
  Environment env;
  env.resolver = &resolver;
  constexpr std::string_view kRef = R"({"resourceType": "Observation",
    "subject": {"reference": "Patient/99"}})";
  EXPECT_EQ(Eval("subject.resolve().id", kRef, env), R"(["99"])");
}

TEST(FhirPathFhir, Variables) {
  Environment env;
  env.variables["limit"] = {Item::Integer(2)};
  EXPECT_EQ(Eval("name.given.count() > %limit", kPatient, env), "[true]");
}

TEST(FhirPathFhir, Services) {
  class Genders : public TerminologyService {
   public:
    Result<bool> MemberOf(const Item& code, std::string_view url) const override {
      if (url != "http://hl7.org/fhir/ValueSet/administrative-gender") {
        return NotFound("unknown value set");
      }
      return ItemToString(code) == "male" || ItemToString(code) == "female";
    }
  } genders;
  class Everything : public ProfileValidator {
   public:
    Result<bool> ConformsTo(const Item&, std::string_view url) const override {
      return url == "http://example.org/profile";
    }
  } everything;
  Environment env;
  env.terminology = &genders;
  env.validator = &everything;
  EXPECT_EQ(Eval("gender.memberOf(%`vs-administrative-gender`)", kPatient, env), "[true]");
  EXPECT_TRUE(IsError(Eval("gender.memberOf('http://nope')", kPatient, env)));
  EXPECT_EQ(Eval("conformsTo('http://example.org/profile')", kPatient, env), "[true]");
}

TEST(FhirPathFhir, StaticChecksWithAContextType) {
  CompileOptions options;
  options.context_type = "Patient";
  options.mode = Mode::kStrict;
  EXPECT_FALSE(Expression::Compile("name.given1", options).ok());
  EXPECT_FALSE(Expression::Compile("Encounter.status", options).ok());
  EXPECT_FALSE(Expression::Compile("name.where(use = 'x').nope", options).ok());
  EXPECT_TRUE(Expression::Compile("name.where(use = 'x').given", options).ok());
  EXPECT_TRUE(Expression::Compile("contained.select(id)", options).ok());
  EXPECT_TRUE(Expression::Compile("Patient.extension.value.ofType(Coding).code", options).ok());
  EXPECT_TRUE(Expression::Compile("name.given1", {}).ok());  // no context type: no check
  options.check_ordered_functions = true;
  EXPECT_FALSE(Expression::Compile("children().first()", options).ok());
  EXPECT_TRUE(Expression::Compile("name.first()", options).ok());
}

}  // namespace
}  // namespace vesta::fhirpath::testing

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

TEST(FhirPathFhir, ChoiceElements) {
  EXPECT_EQ(Eval("Observation.value.value", kObservation), "[185]");
  EXPECT_EQ(Eval("Observation.value is Quantity", kObservation), "[true]");
  EXPECT_EQ(Eval("Observation.value.as(Quantity).unit", kObservation), R"(["lbs"])");
  EXPECT_EQ(Eval("Observation.value.ofType(string)", kObservation), "[]");
  EXPECT_EQ(Eval("component.value.count()", kObservation), "[3]");  // one only has `_value`
  EXPECT_EQ(Eval("component.value.where(hasValue())", kObservation), R"(["x",false])");
  EXPECT_EQ(Eval("component.value.ofType(boolean)", kObservation), "[false]");
  EXPECT_EQ(Eval("Observation.value > 80 'kg'", kObservation), "[true]");
  // The JSON name is not a FHIRPath name: an error, with a hint.
  EXPECT_EQ(Eval("Observation.valueQuantity", kObservation),
            "ERROR: FHIRPath: 'valueQuantity' is not an element of Observation (a choice "
            "element is named 'value') at position 12");
}

// Search parameter expressions are unions of paths from type names: the paths from other types
// than the resource's are empty, and are skipped without hiding errors in the others.
TEST(FhirPathFhir, UnionsOfPathsFromTypeNames) {
  const std::string expr = "Observation.status | Patient.gender | Observation.code.coding.code";
  EXPECT_EQ(Eval(expr, kObservation), R"(["final","29463-7"])");
  EXPECT_EQ(Eval(expr), R"(["male"])");
  EXPECT_EQ(Eval("Resource.id | DomainResource.id | Patient.id"), R"(["p1"])");
  EXPECT_EQ(Eval("(Observation.value as Quantity).value | (Patient.active as boolean)"), "[true]");
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
  EXPECT_EQ(Eval("Resource.id"), R"(["p1"])");
  EXPECT_EQ(Eval("DomainResource.id"), R"(["p1"])");
  EXPECT_EQ(Eval("Observation.id"), "[]");
}

TEST(FhirPathFhir, DescendantsOfType) {
  // Breadth first: `gender` (depth 1) before the codes inside `name` and `telecom`.
  EXPECT_EQ(Eval("descendants().ofType(code)"), R"(["male","official","usual","phone","home"])");
  EXPECT_EQ(Eval("descendants().ofType(HumanName).family"), R"(["Chalmers"])");
  // The fused walk (descendants().ofType(T)) agrees with filtering every descendant.
  for (std::string_view t : {"string", "code", "Extension", "Element", "dateTime", "Patient"}) {
    std::string type(t);
    EXPECT_EQ(Eval("descendants().ofType(" + type + ")"),
              Eval("descendants().select($this.ofType(" + type + "))"))
        << type;
  }
  EXPECT_EQ(Eval("(descendants().ofType(code) | descendants().ofType(code)).count()"), "[5]");
}

TEST(FhirPathFhir, PrimitiveExtensions) {
  EXPECT_EQ(Eval("birthDate.extension.url"),
            R"(["http://hl7.org/fhir/StructureDefinition/patient-birthTime"])");
  EXPECT_EQ(Eval("birthDate.extension('http://hl7.org/fhir/StructureDefinition/"
                 "patient-birthTime').value"),
            R"(["1974-12-25T14:35:45-05:00"])");
  EXPECT_EQ(Eval("birthDate.extension(%`ext-patient-birthTime`).exists()"), "[true]");
  EXPECT_EQ(Eval("birthDate.hasValue()"), "[true]");
  EXPECT_EQ(Eval("birthDate.getValue() = @1974-12-25"), "[true]");
  // A primitive with only an extension: present, without a value.
  EXPECT_EQ(Eval("component[2].value.exists()", kObservation), "[true]");
  EXPECT_EQ(Eval("component[2].value.hasValue()", kObservation), "[false]");
  EXPECT_EQ(Eval("component[2].value.extension.value", kObservation), R"(["unknown"])");
  EXPECT_EQ(Eval("name.hasValue()"), "[false]");
}

TEST(FhirPathFhir, PrimitiveArraysWithExtensionParts) {
  constexpr std::string_view kNames = R"({"resourceType": "Patient",
    "name": [{"given": ["A", null, "C"],
              "_given": [null, {"extension": [{"url": "u", "valueString": "B"}]}, null]}]})";
  EXPECT_EQ(Eval("name.given.count()", kNames), "[3]");
  EXPECT_EQ(Eval("name.given[1].extension.value", kNames), R"(["B"])");
  EXPECT_EQ(Eval("name.given.where(hasValue())", kNames), R"(["A","C"])");
}

TEST(FhirPathFhir, Resolve) {
  EXPECT_EQ(Eval("Observation.subject.resolve().gender", kObservation), R"(["female"])");
  EXPECT_EQ(Eval("Observation.subject.resolve() is Patient", kObservation), "[true]");
  constexpr std::string_view kBundle = R"({"resourceType": "Bundle", "type": "collection",
    "entry": [{"fullUrl": "http://x.org/fhir/Patient/1",
               "resource": {"resourceType": "Patient", "id": "1", "gender": "male"}},
              {"fullUrl": "urn:uuid:0b5a", "resource": {"resourceType": "Observation",
               "id": "2", "status": "final", "code": {"text": "t"},
               "subject": {"reference": "Patient/1"}}}]})";
  EXPECT_EQ(Eval("entry.resource.ofType(Observation).subject.resolve().gender", kBundle),
            R"(["male"])");
  EXPECT_EQ(Eval("'urn:uuid:0b5a'.resolve().id", kBundle), R"(["2"])");

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
  EXPECT_EQ(Eval("subject.resolve().id", kRef), "[]");  // no resolver: nothing found
}

TEST(FhirPathFhir, Variables) {
  EXPECT_EQ(Eval("%ucum"), R"(["http://unitsofmeasure.org"])");
  EXPECT_EQ(Eval("%sct"), R"(["http://snomed.info/sct"])");
  EXPECT_EQ(Eval("%loinc"), R"(["http://loinc.org"])");
  EXPECT_EQ(Eval("%`vs-administrative-gender`"),
            R"(["http://hl7.org/fhir/ValueSet/administrative-gender"])");
  EXPECT_EQ(Eval("name.given.where($this = %resource.name[1].given).count()"), "[1]");
  EXPECT_EQ(Eval("%context.id"), R"(["p1"])");
  EXPECT_EQ(Eval("%rootResource.id"), R"(["p1"])");
  EXPECT_TRUE(IsError(Eval("%undefined")));
  Environment env;
  env.variables["limit"] = {Item::Integer(2)};
  EXPECT_EQ(Eval("name.given.count() > %limit", kPatient, env), "[true]");
}

TEST(FhirPathFhir, Services) {
  EXPECT_EQ(Eval("conformsTo('http://hl7.org/fhir/StructureDefinition/Patient')"), "[true]");
  EXPECT_EQ(Eval("conformsTo('http://hl7.org/fhir/StructureDefinition/Observation')"), "[false]");
  EXPECT_TRUE(IsError(Eval("conformsTo('http://example.org/profile')")));
  EXPECT_EQ(Eval("gender.memberOf('http://hl7.org/fhir/ValueSet/administrative-gender')"),
            "[]");  // no terminology service yet

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

TEST(FhirPathFhir, TreeNavigation) {
  EXPECT_EQ(Eval("name[1].children()"), R"(["usual","Jim"])");
  EXPECT_EQ(Eval("descendants().ofType(HumanName).count()"), "[2]");
  EXPECT_EQ(Eval("descendants().where($this = 'Jim').exists()"), "[true]");
  EXPECT_EQ(Eval("Observation.descendants().ofType(Patient).id", kObservation), R"(["p"])");
}

TEST(FhirPathFhir, HtmlChecks) {
  constexpr std::string_view kNarrative = R"({"resourceType": "Patient", "text": {
    "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">ok</div>"}})";
  constexpr std::string_view kScript = R"({"resourceType": "Patient", "text": {
    "status": "generated", "div": "<div><script>alert(1)</script></div>"}})";
  EXPECT_EQ(Eval("text.div.htmlChecks()", kNarrative), "[true]");
  EXPECT_EQ(Eval("text.div.htmlChecks()", kScript), "[false]");
}

TEST(FhirPathFhir, StaticChecksWithAContextType) {
  CompileOptions options;
  options.context_type = "Patient";
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

// Composite search parameters (https://hl7.org/fhir/R4/search.html#composite): the registry's
// components, the tuples extraction writes, and request parsing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fhir/model/model.h"
#include "json/parse.h"
#include "search/extract.h"
#include "search/plan.h"
#include "search/registry.h"
#include "search/rendered_plan.h"

namespace vesta::search {
namespace {

TEST(CompositeRegistryTest, EveryR4CompositeHasItsComponents) {
  const Registry& reg = Registry::R4();
  int composites = 0;
  for (const std::string& type : fhir::Model::R4().resource_types()) {
    for (const Param& p : reg.ForType(type)) {
      if (p.type != ParamType::kComposite) continue;
      ++composites;
      EXPECT_TRUE(p.compiled.has_value()) << type << " " << p.code;
      EXPECT_GE(p.components.size(), 2u) << type << " " << p.code;
      for (const Component& c : p.components) {
        EXPECT_TRUE(c.compiled.has_value()) << type << " " << p.code << " " << c.code;
      }
    }
  }
  // Observation 8, Group 1, DocumentReference 1, MolecularSequence 4, and context-type-quantity
  // and context-type-value on 29 definitional and conformance resource types.
  EXPECT_EQ(composites, 8 + 1 + 1 + 4 + 2 * 29);

  const Param* cvq = reg.Find("Observation", "code-value-quantity");
  ASSERT_NE(cvq, nullptr);
  ASSERT_EQ(cvq->components.size(), 2u);
  EXPECT_EQ(cvq->components[0].type, ParamType::kToken);
  EXPECT_EQ(cvq->components[1].type, ParamType::kQuantity);
  EXPECT_EQ(cvq->components[1].expression, "value.ofType(Quantity)");
  EXPECT_TRUE(cvq->rows_of.empty());

  // combo-* is the union of the plain and the component- parameter: no rows of its own.
  EXPECT_EQ(reg.Find("Observation", "combo-code-value-quantity")->rows_of,
            (std::vector<std::string>{"code-value-quantity", "component-code-value-quantity"}));
  EXPECT_EQ(reg.Find("Observation", "combo-code-value-concept")->rows_of,
            (std::vector<std::string>{"code-value-concept", "component-code-value-concept"}));
  // The same holds for the plain combo-* parameters.
  EXPECT_EQ(reg.Find("Observation", "combo-code")->rows_of,
            (std::vector<std::string>{"code", "component-code"}));
  EXPECT_EQ(reg.Find("Observation", "combo-value-quantity")->rows_of,
            (std::vector<std::string>{"component-value-quantity", "value-quantity"}));
  EXPECT_EQ(reg.Find("Observation", "combo-data-absent-reason")->rows_of,
            (std::vector<std::string>{"component-data-absent-reason", "data-absent-reason"}));
  // Reference parameters and single-branch ones are never linked.
  for (const std::string& type : fhir::Model::R4().resource_types()) {
    for (const Param& p : reg.ForType(type)) {
      if (p.type == ParamType::kReference) {
        EXPECT_TRUE(p.rows_of.empty()) << type << "." << p.code;
      }
      for (const std::string& r : p.rows_of) {
        const Param* d = reg.Find(type, r);
        ASSERT_NE(d, nullptr) << r;
        EXPECT_TRUE(d->rows_of.empty()) << type << "." << p.code << " reads " << r;
        EXPECT_EQ(d->type, p.type);
      }
    }
  }

  // The R4 erratum: relatesto (the reference) is RelatesTo.target, relation (the code) .code.
  const Param* rel = reg.Find("DocumentReference", "relationship");
  ASSERT_NE(rel, nullptr);
  EXPECT_EQ(rel->components[0].code, "relatesto");
  EXPECT_EQ(rel->components[0].type, ParamType::kReference);
  EXPECT_EQ(rel->components[0].expression, "target");
  EXPECT_EQ(rel->components[1].expression, "code");

  EXPECT_EQ(reg.Find("MolecularSequence", "chromosome-window-coordinate")->components.size(), 3u);
}

std::vector<CompositeRow> Composites(const std::string& json, const std::string& param) {
  auto doc = json::Parse(json);
  EXPECT_TRUE(doc.ok());
  if (!doc.ok()) return {};
  IndexRows rows = ExtractIndexRows(Registry::R4(), doc->root());
  EXPECT_EQ(rows.errors, 0);
  std::vector<CompositeRow> out;
  for (const CompositeRow& r : rows.composites) {
    if (r.param == param) out.push_back(r);
  }
  return out;
}

double Low(const CompositePart& p) { return std::get<double>(p.low); }

// One tuple per component, each component's code with its own value (never another's).
TEST(CompositeExtractTest, PairsEachComponentsCodeWithItsOwnValue) {
  const std::string bp = R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
    "component":[
      {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
       "valueQuantity":{"value":107,"unit":"mmHg","system":"http://unitsofmeasure.org",
                        "code":"mm[Hg]"}},
      {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
       "valueQuantity":{"value":60,"unit":"mmHg","system":"http://unitsofmeasure.org",
                        "code":"mm[Hg]"}}]})";
  std::vector<CompositeRow> rows = Composites(bp, "component-code-value-quantity");
  ASSERT_EQ(rows.size(), 2u);
  std::sort(rows.begin(), rows.end(), [](const CompositeRow& a, const CompositeRow& b) {
    return a.parts[0].code < b.parts[0].code;
  });
  EXPECT_EQ(rows[0].parts[0].code, "8462-4");
  EXPECT_EQ(rows[0].parts[0].system, "http://loinc.org");
  EXPECT_EQ(Low(rows[0].parts[1]), 60);
  EXPECT_EQ(rows[0].parts[1].code, "mm[Hg]");
  EXPECT_EQ(rows[0].parts[1].canonical_code, "g.m-1.s-2");
  EXPECT_DOUBLE_EQ(rows[0].parts[1].canonical_low, 60 * 133322.0);
  EXPECT_EQ(rows[1].parts[0].code, "8480-6");
  EXPECT_EQ(Low(rows[1].parts[1]), 107);
  // The Observation itself has no value: no code-value-quantity tuple; combo-* writes none.
  EXPECT_TRUE(Composites(bp, "code-value-quantity").empty());
  EXPECT_TRUE(Composites(bp, "combo-code-value-quantity").empty());
}

TEST(CompositeExtractTest, EveryCodingPairsWithTheValue) {
  std::vector<CompositeRow> rows = Composites(R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"2339-0"},
                      {"system":"http://snomed.info/sct","code":"33747003"}],"text":"Glucose"},
    "valueQuantity":{"value":5.5,"system":"http://unitsofmeasure.org","code":"mmol/L"}})",
                                              "code-value-quantity");
  ASSERT_EQ(rows.size(), 2u);  // the text-only token has no code to pair
  EXPECT_EQ(rows[0].parts[0].code, "2339-0");
  EXPECT_EQ(rows[1].parts[0].code, "33747003");
  EXPECT_EQ(Low(rows[1].parts[1]), 5.5);
}

TEST(CompositeExtractTest, ConceptDateAndStringValues) {
  auto concept_rows = Composites(R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"883-9"}]},
    "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"112144000"}]}})",
                                 "code-value-concept");
  ASSERT_EQ(concept_rows.size(), 1u);
  EXPECT_EQ(concept_rows[0].parts[1].code, "112144000");
  EXPECT_EQ(concept_rows[0].parts[1].system, "http://snomed.info/sct");

  auto date_rows = Composites(R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"code":"x"}]},"valueDateTime":"2020-03"})",
                              "code-value-date");
  ASSERT_EQ(date_rows.size(), 1u);
  EXPECT_LT(std::get<int64_t>(date_rows[0].parts[1].low),
            std::get<int64_t>(date_rows[0].parts[1].high));

  auto string_rows = Composites(R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"code":"x"}]},"valueString":"Positive Result"})",
                                "code-value-string");
  ASSERT_EQ(string_rows.size(), 1u);
  EXPECT_EQ(string_rows[0].parts[1].code, "positive result");
  EXPECT_EQ(string_rows[0].parts[1].system, "Positive Result");
}

TEST(CompositeExtractTest, ReferencesRangesAndThreeComponents) {
  auto rel = Composites(R"({"resourceType":"DocumentReference","status":"current",
    "content":[{"attachment":{"url":"http://x"}}],
    "relatesTo":[{"code":"replaces","target":{"reference":"DocumentReference/old"}}]})",
                        "relationship");
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].parts[0].code, "DocumentReference/old");
  EXPECT_EQ(rel[0].parts[1].code, "replaces");

  auto range = Composites(R"({"resourceType":"PlanDefinition","status":"active",
    "useContext":[{"code":{"system":"http://terminology.hl7.org/CodeSystem/usage-context-type",
                           "code":"age"},
                   "valueRange":{"low":{"value":18,"system":"http://unitsofmeasure.org",
                                        "code":"a"}}}]})",
                          "context-type-quantity");
  ASSERT_EQ(range.size(), 1u);
  EXPECT_EQ(Low(range[0].parts[1]), 18);
  EXPECT_GT(std::get<double>(range[0].parts[1].high), 1e300);  // open above
  EXPECT_EQ(range[0].parts[1].canonical_code, "s");

  auto window = Composites(R"({"resourceType":"MolecularSequence","coordinateSystem":0,
    "referenceSeq":{"chromosome":{"coding":[{"code":"1"}]},"windowStart":100,"windowEnd":200},
    "variant":[{"start":120,"end":121},{"start":150,"end":151}]})",
                           "chromosome-variant-coordinate");
  ASSERT_EQ(window.size(), 2u);  // %resource.referenceSeq.chromosome with each variant
  EXPECT_EQ(window[0].parts.size(), 3u);
  EXPECT_EQ(window[0].parts[0].code, "1");
  EXPECT_EQ(Low(window[1].parts[1]), 150);
  EXPECT_EQ(Low(window[1].parts[2]), 151);
}

Result<RenderedPlan> PlanOf(const std::string& name, const std::string& value,
                            const std::string& type = "Observation") {
  SearchSpec spec;
  spec.types = {type};
  spec.params = {{name, value}};
  spec.handling = Handling::kStrict;
  return PlanAndRender(Registry::R4(), spec);
}

TEST(CompositePlanTest, WrongArityAndMalformedPartsNameTheParameter) {
  const std::pair<const char*, const char*> bad[] = {
      {"code-value-quantity", "http://loinc.org|8480-6"},  // one part
      {"code-value-quantity", "8480-6$gt100$mm[Hg]"},      // three parts
      {"code-value-quantity", "8480-6$"},                  // empty part
      {"code-value-quantity", "$gt100"},                   // empty part
      {"code-value-quantity", "8480-6$gtabc"},             // not a number
      {"code-value-quantity", "8480-6$100|a|b|c"},         // bad quantity
      {"code-value-date", "x$2020-13"},                    // bad date
      {"code-value-quantity:exact", "8480-6$100"},         // modifier
      {"combo-code-value-quantity:missing", "maybe"},      // :missing value
  };
  for (const auto& [name, value] : bad) {
    auto plan = PlanOf(name, value);
    ASSERT_FALSE(plan.ok()) << name << "=" << value;
    EXPECT_EQ(plan.status().code(), StatusCode::kInvalid);
    std::string code(name);
    code = code.substr(0, code.find(':'));
    EXPECT_NE(plan.status().message().find(code), std::string::npos) << plan.status().message();
  }
  auto arity = PlanOf("code-value-quantity", "8480-6");
  EXPECT_NE(arity.status().message().find("[code]$[value-quantity]"), std::string::npos)
      << arity.status().message();
}

TEST(CompositePlanTest, ComboReadsTheRowsOfBoth) {
  auto plan = PlanOf("combo-code-value-quantity", "8480-6$gt100");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_NE(plan->where.text.find("param IN (?, ?)"), std::string::npos) << plan->where.text;
  // An escaped $ is part of the value, not a separator.
  auto escaped = PlanOf("code-value-string", "a\\$b$c");
  ASSERT_TRUE(escaped.ok()) << escaped.status().ToString();
  bool found = false;
  for (const SqlArg& a : escaped->where.args) {
    if (const std::string* s = std::get_if<std::string>(&a)) found |= *s == "a$b";
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace vesta::search

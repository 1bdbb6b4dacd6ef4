#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "json/parse.h"
#include "search/extract.h"
#include "search/normalize.h"
#include "search/plan.h"
#include "search/registry.h"
#include "search/rendered_plan.h"

namespace vesta::search {
namespace {

TEST(RegistryTest, KnowsTheR4ParametersPerType) {
  const Registry& reg = Registry::R4();
  const Param* code = reg.Find("Observation", "code");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->type, ParamType::kToken);
  EXPECT_TRUE(code->compiled.has_value());
  EXPECT_EQ(code->expression, "Observation.code");
  const Param* subject = reg.Find("Observation", "subject");
  ASSERT_NE(subject, nullptr);
  EXPECT_EQ(subject->type, ParamType::kReference);
  ASSERT_NE(reg.Find("Patient", "_tag"), nullptr);
  ASSERT_NE(reg.Find("Patient", "_id"), nullptr);
  EXPECT_EQ(reg.Find("Patient", "nonsense"), nullptr);
  EXPECT_FALSE(reg.PatientCompartmentParams("Observation").empty());
}

TEST(RegistryTest, AddsStoredSearchParametersAndSaysWhichItSkips) {
  auto sp = [](const std::string& code, const std::string& type, const std::string& expression,
               const std::string& status = "active") {
    return R"({"resourceType":"SearchParameter","url":"http://example.org/sp/)" + code +
           R"(","status":")" + status + R"(","code":")" + code +
           R"(","base":["Patient"],"type":")" + type + R"(","expression":")" + expression + R"("})";
  };
  std::vector<std::string> stored = {
      sp("marital", "token", "Patient.maritalStatus"),
      sp("gender", "token", "Patient.gender"),                 // R4 has it already
      sp("pair", "composite", "Patient"),                      // not supported
      sp("broken", "string", "Patient.name.where("),           // does not compile
      sp("old", "token", "Patient.maritalStatus", "retired"),  // withdrawn: left out silently
      sp("marital", "string", "Patient.name.family"),          // second definition of a code
  };
  std::vector<std::string> skipped;
  auto reg = Registry::R4WithSearchParameters(stored, &skipped);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const Param* marital = (*reg)->Find("Patient", "marital");
  ASSERT_NE(marital, nullptr);
  EXPECT_EQ(marital->type, ParamType::kToken);
  EXPECT_TRUE(marital->compiled.has_value());
  EXPECT_EQ((*reg)->Find("Patient", "old"), nullptr);
  EXPECT_EQ((*reg)->Find("Patient", "pair"), nullptr);
  EXPECT_EQ((*reg)->Find("Patient", "broken"), nullptr);
  EXPECT_EQ((*reg)->Find("Patient", "gender")->url,
            "http://hl7.org/fhir/SearchParameter/individual-gender");
  ASSERT_EQ(skipped.size(), 4u);
  EXPECT_NE(skipped[0].find("already has a parameter 'gender'"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("composite parameters are not supported"), std::string::npos)
      << skipped[1];
  EXPECT_NE(skipped[2].find("does not compile"), std::string::npos) << skipped[2];
  EXPECT_NE(skipped[3].find("already has a parameter 'marital'"), std::string::npos) << skipped[3];
  // Extraction uses it.
  auto doc = json::Parse(R"({"resourceType":"Patient","maritalStatus":{"coding":[
      {"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M"}]}})");
  ASSERT_TRUE(doc.ok());
  IndexRows rows = ExtractIndexRows(**reg, doc->root());
  bool found = false;
  for (const TokenRow& t : rows.tokens) found |= t.param == "marital" && t.code == "M";
  EXPECT_TRUE(found);
}

TEST(RegistryTest, KeepsOnlyTheUnionBranchesOfTheType) {
  EXPECT_EQ(ExpressionForType("AllergyIntolerance.code | Condition.code | "
                              "(Observation.value as Quantity)",
                              "Observation"),
            "((Observation.value).ofType(Quantity))");
  EXPECT_EQ(ExpressionForType("Group.characteristic.value.as(Quantity)", "Group"),
            "Group.characteristic.value.ofType(Quantity)");
  EXPECT_EQ(ExpressionForType("Resource.meta.tag", "Patient"), "Patient.meta.tag");
  EXPECT_EQ(ExpressionForType("Condition.code | Observation.code", "Patient"), "");
}

TEST(NormalizeTest, FoldsCaseAndAccents) {
  EXPECT_EQ(NormalizeString("Évelyne  MÜLLER "), "evelyne muller");
  EXPECT_EQ(NormalizeString("Straße"), "strasse");
  EXPECT_EQ(NormalizeString("Łódź"), "lodz");
  EXPECT_EQ(PrefixEnd("abc"), "abd");
}

TEST(ExtractTest, ExtractsEachParameterType) {
  auto doc = json::Parse(R"({"resourceType":"Observation","id":"o1","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},
    "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-03",
    "valueQuantity":{"value":72,"unit":"beats/min","system":"http://unitsofmeasure.org",
    "code":"/min"}})");
  ASSERT_TRUE(doc.ok());
  IndexRows rows = ExtractIndexRows(Registry::R4(), doc->root());
  bool code = false, subject = false, date = false, quantity = false;
  for (const auto& t : rows.tokens) {
    if (t.param == "code" && t.code == "8867-4" && t.system == "http://loinc.org") code = true;
  }
  for (const auto& r : rows.references) {
    if (r.param == "subject" && r.target_type == "Patient" && r.target_id == "p1") subject = true;
  }
  for (const auto& d : rows.dates) {
    if (d.param == "date" && d.high > d.low) date = true;
  }
  for (const auto& q : rows.quantities) {
    if (q.param == "value-quantity" && q.value == 72 && q.code == "/min") quantity = true;
  }
  EXPECT_TRUE(code);
  EXPECT_TRUE(subject);
  EXPECT_TRUE(date);
  EXPECT_TRUE(quantity);
  EXPECT_EQ(rows.patients, std::vector<std::string>{"p1"});
  EXPECT_EQ(rows.errors, 0);
}

Result<RenderedPlan> PlanOf(std::vector<std::pair<std::string, std::string>> params,
                            Handling handling = Handling::kLenient) {
  SearchSpec spec;
  spec.types = {"Observation"};
  spec.params = std::move(params);
  spec.handling = handling;
  return PlanAndRender(Registry::R4(), spec);
}

TEST(PlanTest, UnknownParametersFollowHandling) {
  auto lenient = PlanOf({{"nonsense", "1"}, {"code", "x"}});
  ASSERT_TRUE(lenient.ok());
  ASSERT_EQ(lenient->used.size(), 1u);
  EXPECT_EQ(lenient->used[0].first, "code");
  auto strict = PlanOf({{"nonsense", "1"}}, Handling::kStrict);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), StatusCode::kInvalid);
  EXPECT_NE(strict.status().message().find("nonsense"), std::string::npos);
}

TEST(PlanTest, RejectsBadValuesNamingTheParameter) {
  for (auto [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"date", "ge2020-13-45"},
                                                        {"value-quantity", "abc"},
                                                        {"code:in", "x"},
                                                        {"subject:Nonsense", "1"},
                                                        {"_count", "-1"},
                                                        {"_sort", "nonsense"},
                                                        {"_include", "Observation"},
                                                        {"_cursor", "zzz"},
                                                        {"code:missing", "maybe"}}) {
    auto plan = PlanOf({{name, value}});
    EXPECT_FALSE(plan.ok()) << name << "=" << value;
    if (!plan.ok()) {
      EXPECT_NE(plan.status().message().find(name.substr(0, name.find(':'))), std::string::npos)
          << plan.status().message();
    }
  }
}

TEST(PlanTest, ValuesAreBoundNotSpliced) {
  auto plan = PlanOf({{"code", "x' OR 1=1 --"}});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->where.text.find("OR 1=1"), std::string::npos);
  Sql page = PageSql(*plan);
  EXPECT_EQ(std::count(page.text.begin(), page.text.end(), '?'),
            static_cast<long>(page.args.size()));
}

// https://hl7.org/fhir/R4/search.html#text: _text and _content are one full-text set each,
// answered from the search_text table with an expression this server quoted itself.
TEST(PlanTest, TextParametersAreFullTextSets) {
  auto plan = PlanOf({{"_text", "heart failure,\"x:y\""}, {"code", "8867-4"}});
  auto quoted = PlanOf({{"_content", "\"a, b\",c"}});  // no alternative inside a phrase
  ASSERT_TRUE(quoted.ok()) << quoted.status().ToString();
  EXPECT_NE(std::find(quoted->where.args.begin(), quoted->where.args.end(),
                      SqlArg(R"x(("a, b") OR ("c"))x")),
            quoted->where.args.end());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_NE(
      plan->where.text.find("seq IN (SELECT rowid FROM search_text WHERE search_text MATCH ?)"),
      std::string::npos)
      << plan->where.text;
  const std::string match = R"(narrative : ("heart" AND "failure")) OR (narrative : ("x:y")))";
  EXPECT_NE(std::find(plan->where.args.begin(), plan->where.args.end(), SqlArg("(" + match)),
            plan->where.args.end());
  // Bundle is not a DomainResource: _text is unknown there, _content is not.
  SearchSpec bundle;
  bundle.types = {"Bundle"};
  bundle.params = {{"_text", "x"}};
  bundle.handling = Handling::kStrict;
  EXPECT_FALSE(PlanSearch(Registry::R4(), bundle).ok());
  bundle.params = {{"_content", "x"}};
  EXPECT_TRUE(PlanSearch(Registry::R4(), bundle).ok());
  // Across types the set is the same: it is written once.
  SearchSpec system;
  system.params = {{"_type", "Patient,Observation,Condition"}, {"_content", "x"}};
  auto across = PlanAndRender(Registry::R4(), system);
  ASSERT_TRUE(across.ok()) << across.status().ToString();
  EXPECT_EQ(across->where.args.size(), 4u) << across->where.text;  // three types, one MATCH
  for (auto [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"_text", ""},
                                                        {"_text", "\"open"},
                                                        {"_content", "a OR"},
                                                        {"_text:missing", "true"},
                                                        {"_content:exact", "x"},
                                                        {"_text", "x,"}}) {
    auto bad = PlanOf({{name, value}});
    EXPECT_FALSE(bad.ok()) << name << "=" << value;
    if (!bad.ok()) {
      EXPECT_EQ(bad.status().code(), StatusCode::kInvalid);
      EXPECT_NE(bad.status().message().find(name.substr(0, name.find(':'))), std::string::npos)
          << bad.status().message();
    }
  }
}

// https://hl7.org/fhir/R4/search.html#total: the driving set and the rest of the search, from
// which _total=estimate samples.
TEST(PlanTest, EstimateUsesTheDrivingSet) {
  auto plan = PlanOf({{"status", "final"}, {"subject", "Patient/p1"}, {"_total", "estimate"}});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->total, TotalMode::kEstimate);
  ASSERT_TRUE(plan->driving_set.has_value());
  // The reference drives; the token is probed in the filter.
  EXPECT_EQ(plan->driving_set->text.rfind("SELECT seq FROM search_reference WHERE", 0), 0u)
      << plan->driving_set->text;
  EXPECT_NE(plan->filter.text.find("EXISTS (SELECT 1 FROM search_token"), std::string::npos)
      << plan->filter.text;
  EXPECT_EQ(plan->filter.text.find("search_reference"), std::string::npos) << plan->filter.text;
  Sql count = SetCountSql(*plan);
  EXPECT_EQ(std::count(count.text.begin(), count.text.end(), '?'),
            static_cast<long>(count.args.size()));
  // A negation alone, or no condition: no set (the count is exact).
  EXPECT_FALSE(PlanOf({{"code:not", "x"}})->driving_set.has_value());
  EXPECT_FALSE(PlanOf({})->driving_set.has_value());
  auto text = PlanOf({{"_content", "x"}});
  ASSERT_TRUE(text->driving_set.has_value());
  EXPECT_EQ(text->driving_set->text, "SELECT rowid FROM search_text WHERE search_text MATCH ?");

  EXPECT_EQ(EstimateTotal(500, 500, 480), 480);  // the whole set sampled: exact
  EXPECT_EQ(EstimateTotal(10000, 1000, 1000), 10000);
  EXPECT_EQ(EstimateTotal(10000, 1000, 250), 2500);  // a quarter of the rows match
  EXPECT_EQ(EstimateTotal(10000, 1000, 0), 0);
  EXPECT_EQ(EstimateTotal(0, 0, 0), 0);
}

// Every R4 example resource goes through extraction; parameters whose expression errors on a
// resource are skipped, and there should be none.
TEST(ExtractTest, TheR4ExamplesExtractWithoutErrors) {
  const std::string dir = VESTA_FHIR_PACKAGE_DIR;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) GTEST_SKIP() << "no R4 package (run npm ci)";
  std::cout << "uncompiled (type, parameter) expressions: " << Registry::R4().uncompiled() << "\n";
  int files = 0, errors = 0;
  std::map<std::string, int> failing;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() < 5 || name.substr(name.size() - 5) != ".json" || name == "package.json" ||
        name.rfind("StructureDefinition-", 0) == 0 || files >= 3000) {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto doc = json::Parse(text);
    if (!doc.ok() || doc->root().FindString("resourceType").empty()) continue;
    ++files;
    IndexRows rows = ExtractIndexRows(Registry::R4(), doc->root());
    if (rows.errors > 0) {
      std::string type(doc->root().FindString("resourceType"));
      for (const Param& p : Registry::R4().ForType(type)) {
        if (!p.compiled) continue;
        auto r = p.compiled->Evaluate(doc->root());
        if (!r.ok() && failing[type + "." + p.code]++ == 0) {
          std::cout << name << " " << p.code << ": " << r.status().message() << "\n";
        }
      }
    }
    errors += rows.errors;
  }
  for (const auto& [type, n] : failing) std::cout << "  " << type << ": " << n << "\n";
  EXPECT_GT(files, 100);
  EXPECT_EQ(errors, 0);
}

}  // namespace
}  // namespace vesta::search

// `vesta generate --measures` (GenerateOptions::measures): the population without the option is
// still there, resource for resource, and the added records reach every criterion of CMS122
// (diabetes: HbA1c poor control) and CMS130 (colorectal cancer screening), evaluated with the
// measures' own ELM and value sets from $VESTA_SHARED_DATA/ecqm (skipped when absent).
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cql/evaluator.h"
#include "cql/library.h"
#include "generate/generator.h"
#include "json/parse.h"
#include "measure/evaluate.h"

namespace vesta::generate {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every resource written without the option is written with it, with the same id; only
// Encounters (a billing coding) and HbA1c results (some without a value) may differ in content.
TEST(MeasuresTest, KeepsThePopulationWithoutTheOption) {
  GenerateOptions plain, measures;
  plain.patients = measures.patients = 120;
  measures.measures = true;
  Generator g1(plain), g2(measures);
  int added = 0, changed = 0;
  for (int64_t i = 0; i < plain.patients; ++i) {
    ResourceBatch b1, b2;
    g1.GeneratePatient(i, &b1);
    g2.GeneratePatient(i, &b2);
    ASSERT_GE(b2.entries().size(), b1.entries().size());
    for (size_t k = 0; k < b1.entries().size(); ++k) {
      const auto& e1 = b1.entries()[k];
      const auto& e2 = b2.entries()[k];
      ASSERT_EQ(e1.type, e2.type);
      ASSERT_EQ(e1.id.view(), e2.id.view());
      if (b1.json(e1) == b2.json(e2)) continue;
      ++changed;
      if (e1.type == ResourceType::kObservation) {
        EXPECT_NE(b1.json(e1).find("4548-4"), std::string_view::npos);
        EXPECT_NE(b2.json(e2).find("dataAbsentReason"), std::string_view::npos);
      } else {
        ASSERT_EQ(e1.type, ResourceType::kEncounter);
        EXPECT_NE(b2.json(e2).find("http://www.ama-assn.org/go/cpt"), std::string_view::npos);
      }
    }
    added += static_cast<int>(b2.entries().size() - b1.entries().size());
  }
  EXPECT_GT(added, 50);
  EXPECT_GT(changed, 500);
}

// How many patients each definition holds for (true, or a non-empty list), over 2,000 patients
// and the Measurement Period 2024.
TEST(MeasuresTest, EveryCriterionOfCms122AndCms130IsReached) {
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  const fs::path ecqm = fs::path(shared ? shared : "") / "ecqm";
  if (shared == nullptr || !fs::exists(ecqm / "measures")) {
    GTEST_SKIP() << "ecqm not found under VESTA_SHARED_DATA";
  }
  struct Case {
    std::string measure;  // the file stem of the Measure and its value sets' folder
    std::string version;
    // (library alias or "" for the measure's own library, definition)
    std::vector<std::pair<std::string, std::string>> definitions;
  };
  const std::vector<Case> cases = {
      {"DiabetesHemoglobinA1cHbA1cPoorControl9FHIR",
       "0.0.015",
       {{"", "Initial Population"},
        {"", "Telehealth Services"},
        {"", "Has Most Recent Elevated HbA1c"},
        {"", "Has Most Recent HbA1c Without Result"},
        {"", "Has No Record Of HbA1c"},
        {"", "Numerator"},
        {"", "Denominator Exclusions"},
        {"Hospice", "Has Hospice"},
        {"FrailtyLTI", "Advanced Illness and Frailty Exclusion Not Including Over Age 80"},
        {"PalliativeCare", "Palliative Care in the Measurement Period"}}},
      {"ColorectalCancerScreeningsFHIR",
       "0.0.003",
       {{"", "Initial Population"},
        {"", "Telehealth Services"},
        {"", "Colonoscopy Performed"},
        {"", "Fecal Occult Blood Test Performed"},
        {"", "Fecal Immunochemical Test DNA Performed"},
        {"", "Flexible Sigmoidoscopy Performed"},
        {"", "CT Colonography Performed"},
        {"", "Numerator"},
        {"", "Malignant Neoplasm"},
        {"", "Total Colectomy Performed"},
        {"", "Denominator Exclusions"},
        {"Hospice", "Has Hospice"},
        {"FrailtyLTI", "Advanced Illness and Frailty Exclusion Not Including Over Age 80"},
        {"PalliativeCare", "Palliative Care in the Measurement Period"}}},
  };

  GenerateOptions options;
  options.patients = 2000;
  options.measures = true;
  Generator generator(options);
  std::vector<std::vector<json::Document>> patients;
  for (int64_t i = 0; i < options.patients; ++i) {
    ResourceBatch batch;
    generator.GeneratePatient(i, &batch);
    // Only adults who can be in either measure's initial population are evaluated.
    std::vector<json::Document> docs;
    for (const auto& e : batch.entries()) {
      Result<json::Document> doc = json::Parse(batch.json(e));
      ASSERT_TRUE(doc.ok());
      docs.push_back(std::move(doc).value());
    }
    const std::string birth(docs[0].root().FindString("birthDate"));
    if (birth < "1948-01-01" || birth > "2006-01-01") continue;
    patients.push_back(std::move(docs));
  }

  std::deque<json::Document> files;  // the artifacts point into them
  for (const Case& c : cases) {
    measure::MemoryArtifacts artifacts;
    for (const auto& entry : fs::directory_iterator(ecqm / "libraries")) {
      files.push_back(json::Parse(ReadFile(entry.path())).value());
      artifacts.Add(files.back().root());
    }
    files.push_back(json::Parse(ReadFile(ecqm / "tests" / c.measure /
                                         ("valuesets-" + c.measure + "-bundle.json")))
                        .value());
    artifacts.Add(files.back().root());
    files.push_back(json::Parse(ReadFile(ecqm / "measures" /
                                         ("Measure-" + c.measure + "-" + c.version + ".json")))
                        .value());
    auto prepared = measure::PrepareMeasure(files.back().root(), artifacts);
    ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
    const cql::Library* primary = (*prepared)->libraries.Find(c.measure, c.version);
    ASSERT_NE(primary, nullptr);

    cql::EvaluationSettings settings;
    cql::DateTime start, end;
    static_cast<cql::Temporal&>(start) =
        *cql::ParseTemporal("2024-01-01T00:00:00.000Z", cql::Value::Kind::kDateTime, 0);
    static_cast<cql::Temporal&>(end) =
        *cql::ParseTemporal("2024-12-31T23:59:59.999Z", cql::Value::Kind::kDateTime, 0);
    settings.parameters.emplace_back(
        "Measurement Period", cql::Value::FromInterval(cql::Value::FromDateTime(start),
                                                       cql::Value::FromDateTime(end), true, true));
    static_cast<cql::Temporal&>(settings.now) =
        *cql::ParseTemporal("2025-06-30T12:00:00.000Z", cql::Value::Kind::kDateTime, 0);

    std::map<std::string, int> held;
    for (const auto& docs : patients) {
      cql::InMemoryDataProvider data;
      for (const json::Document& d : docs) data.Add(d.root());
      cql::Evaluator evaluator((*prepared)->libraries, (*prepared)->terminology, data, settings);
      for (const auto& [alias, name] : c.definitions) {
        const cql::Library* lib = alias.empty() ? primary : primary->FindInclude(alias);
        ASSERT_NE(lib, nullptr) << alias;
        Result<cql::Value> v = evaluator.Evaluate(*lib, name);
        ASSERT_TRUE(v.ok()) << name << ": " << v.status().ToString();
        const bool holds = v->kind() == cql::Value::Kind::kBoolean
                               ? v->boolean()
                               : (v->is_list() && !v->list().empty());
        held[name] += holds ? 1 : 0;
      }
    }
    std::string table;
    for (const auto& [alias, name] : c.definitions) {
      table += "  " + name + ": " + std::to_string(held[name]) + "\n";
      EXPECT_GT(held[name], 0) << c.measure << ": nobody in " << name;
    }
    std::printf("%s, %zu adults of 2,000 patients, 2024:\n%s", c.measure.c_str(), patients.size(),
                table.c_str());
  }
}

}  // namespace
}  // namespace vesta::generate

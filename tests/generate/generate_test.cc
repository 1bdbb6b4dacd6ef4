// Tests of the synthetic population generator: determinism, references that resolve, and a
// clinical model whose prevalences and values stay within stated bounds. R4 validity is checked
// with the project's validator in generate_validate_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "generate/calendar.h"
#include "generate/generator.h"
#include "generate/output.h"
#include "generate/rng.h"
#include "generate/tables.h"
#include "json/parse.h"

namespace vesta::generate {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every file of a directory, by name.
std::map<std::string, std::string> ReadDir(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    files[entry.path().filename().string()] = ReadFile(entry.path());
  }
  return files;
}

fs::path TempDir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("vesta_generate_" + name);
  fs::remove_all(dir);
  return dir;
}

void CollectReferences(const json::Value& v, std::vector<std::string>* out) {
  if (v.is_object()) {
    for (const json::Member& m : v.members()) {
      if (m.key == "reference" && m.value.is_string()) {
        out->emplace_back(m.value.string_value());
      } else {
        CollectReferences(m.value, out);
      }
    }
  } else if (v.is_array()) {
    for (const json::Value& item : v.items()) CollectReferences(item, out);
  }
}

// ---- Building blocks ------------------------------------------------------------------------

TEST(RngTest, FixedByItsOwnCode) {
  // Pins the generator's bits: if this changes, every seed's output changes.
  Rng a(42), b(42);
  const uint64_t first = a.Next();
  EXPECT_EQ(first, b.Next());
  Rng c(43);
  EXPECT_NE(first, c.Next());
  Rng d(Rng::Mix(1, 2, 3));
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = d.Below(10);
    ASSERT_LT(x, 10u);
    const int r = d.Range(-3, 3);
    ASSERT_GE(r, -3);
    ASSERT_LE(r, 3);
  }
  char uuid[37] = {};
  d.Uuid(uuid);
  EXPECT_EQ(std::string(uuid).size(), 36u);
  EXPECT_EQ(uuid[14], '4');
}

TEST(RngTest, NormalHasRoughlyTheAskedMoments) {
  Rng rng(7);
  double sum = 0, sum2 = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Normal(10, 2);
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(mean, 10, 0.1);
  EXPECT_NEAR(sd, 2, 0.1);
}

TEST(CalendarTest, RoundTripsAndFormats) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(FormatDate(DaysFromCivil(2024, 2, 29)), "2024-02-29");
  for (Days d = -40000; d < 40000; d += 37) {
    const CivilDate c = CivilFromDays(d);
    ASSERT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(FormatDateTime(DaysFromCivil(2021, 3, 4) * kDay + 9 * 3600 + 15 * 60, "-05:00"),
            "2021-03-04T09:15:00-05:00");
  Days parsed = 0;
  EXPECT_TRUE(ParseDate("2025-06-30", &parsed));
  EXPECT_EQ(parsed, DaysFromCivil(2025, 6, 30));
  EXPECT_FALSE(ParseDate("2025-02-30", &parsed));
  EXPECT_FALSE(ParseDate("2025-6-30", &parsed));
  EXPECT_EQ(YearsBetween(DaysFromCivil(2000, 7, 1), DaysFromCivil(2025, 6, 30)), 24);
  EXPECT_EQ(YearsBetween(DaysFromCivil(2000, 6, 30), DaysFromCivil(2025, 6, 30)), 25);
}

TEST(JsonOutTest, DecimalsKeepTheirPlaces) {
  std::string s;
  JsonOut j(&s);
  j.BeginArray().Dec(1.5, 2).Dec(-0.001, 1).Dec(7.25, 0).Dec(120, 0).Dec(0.05, 1).EndArray();
  EXPECT_EQ(s, "[1.50,0.0,7,120,0.1]");
}

TEST(TablesTest, IcdCodesAreBillableCodesOfIcd10Cm) {
  const char* data = std::getenv("VESTA_SHARED_DATA");
  const fs::path list =
      fs::path(data ? data : "") / "icd10cm/derived-fy2022-order/icd10cm_codes_2022.txt";
  if (data == nullptr || !fs::exists(list)) {
    GTEST_SKIP() << "ICD-10-CM code list not found (set VESTA_SHARED_DATA)";
  }
  std::set<std::string> codes;
  std::ifstream in(list);
  std::string line;
  for (int i = 0; i < 200000 && std::getline(in, line); ++i) {
    codes.insert(line.substr(0, line.find_first_of(" \t")));
  }
  auto check = [&](const Diagnosis& dx) {
    std::string code(dx.icd10);
    std::erase(code, '.');
    EXPECT_TRUE(codes.count(code)) << dx.icd10 << " " << dx.icd10_display;
  };
  for (int c = 0; c < kChronicCount; ++c) {
    for (const Diagnosis& dx : ChronicTable(static_cast<Chronic>(c)).variants) check(dx);
  }
  for (const AcuteDef& a : AcuteTable()) check(a.dx);
  check(MeasureTable().colon_cancer);
  check(MeasureTable().frailty);
  for (const Diagnosis& dx : MeasureTable().advanced_illness) check(dx);
}

// ---- Determinism ----------------------------------------------------------------------------

TEST(GenerateTest, SameSeedSameBytesAnyThreadCount) {
  GenerateOptions options;
  options.patients = 80;
  options.seed = 7;
  for (OutputFormat format : {OutputFormat::kNdjson, OutputFormat::kBundles}) {
    const fs::path a = TempDir("a"), b = TempDir("b"), c = TempDir("c");
    ASSERT_TRUE(WritePopulation(options, format, a.string(), 1).ok());
    ASSERT_TRUE(WritePopulation(options, format, b.string(), 2).ok());
    options.seed = 8;
    ASSERT_TRUE(WritePopulation(options, format, c.string(), 1).ok());
    options.seed = 7;
    const auto fa = ReadDir(a), fb = ReadDir(b), fc = ReadDir(c);
    ASSERT_FALSE(fa.empty());
    EXPECT_TRUE(fa == fb) << "the same seed gave different output";
    EXPECT_TRUE(fa != fc) << "a different seed gave the same output";
    if (format == OutputFormat::kNdjson) {
      EXPECT_TRUE(fa.count("Patient.ndjson"));
      EXPECT_TRUE(fa.count("Observation.ndjson"));
    } else {
      EXPECT_TRUE(fa.count("00-shared.json"));
      EXPECT_TRUE(fa.count("patient-0000080.json"));
      EXPECT_EQ(fa.size(), 81u);
    }
    for (const fs::path& d : {a, b, c}) fs::remove_all(d);
  }
}

TEST(GenerateTest, RejectsBadOptionsAndHandlesAnEmptyPopulation) {
  GenerateOptions options;
  options.years = 0;
  EXPECT_FALSE(Validate(options).ok());
  options.years = 5;
  options.patients = -1;
  EXPECT_FALSE(WritePopulation(options, OutputFormat::kNdjson, TempDir("bad").string(), 1).ok());
  options.patients = 0;
  EXPECT_FALSE(WritePopulation(options, OutputFormat::kNdjson, TempDir("bad").string(), 0).ok());
  const fs::path dir = TempDir("empty");
  Result<WriteStats> stats = WritePopulation(options, OutputFormat::kNdjson, dir.string(), 1);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->patients, 0);
  const auto files = ReadDir(dir);
  EXPECT_TRUE(files.count("Organization.ndjson"));
  EXPECT_FALSE(files.count("Patient.ndjson"));
  fs::remove_all(dir);
  fs::remove_all(TempDir("bad"));
}

TEST(GenerateTest, PatientsDoNotDependOnPopulationSize) {
  // Patient i is the same in a population of 10 and of 11 (only the shared resources differ
  // when the organization count changes, which happens per thousand patients).
  GenerateOptions small, large;
  small.patients = 10;
  large.patients = 11;
  Generator g1(small), g2(large);
  ResourceBatch b1, b2;
  g1.GeneratePatient(5, &b1);
  g2.GeneratePatient(5, &b2);
  ASSERT_EQ(b1.entries().size(), b2.entries().size());
  EXPECT_EQ(b1.json(b1.entries()[0]), b2.json(b2.entries()[0]));
}

// --legacy-icd9: problem-list Conditions whose onset is before the ICD-10-CM transition carry the
// ICD-9-CM code instead of the ICD-10-CM one; nothing else changes (no random draw is added).
TEST(GenerateTest, LegacyIcd9CodesConditionsBeforeTheTransition) {
  GenerateOptions plain, legacy;
  plain.patients = legacy.patients = 60;
  legacy.legacy_icd9 = true;
  Generator g1(plain), g2(legacy);
  int icd9 = 0, icd10 = 0, differing = 0;
  for (int64_t i = 0; i < plain.patients; ++i) {
    ResourceBatch b1, b2;
    g1.GeneratePatient(i, &b1);
    g2.GeneratePatient(i, &b2);
    ASSERT_EQ(b1.entries().size(), b2.entries().size());
    for (size_t k = 0; k < b1.entries().size(); ++k) {
      const std::string_view a = b1.json(b1.entries()[k]);
      const std::string_view b = b2.json(b2.entries()[k]);
      if (a == b) {
        EXPECT_EQ(b.find("icd-9-cm"), std::string_view::npos);
        continue;
      }
      ++differing;
      ASSERT_EQ(b2.entries()[k].type, ResourceType::kCondition);
      auto doc = json::Parse(b);
      ASSERT_TRUE(doc.ok());
      const std::string onset(doc->root().FindString("onsetDateTime"));
      EXPECT_LT(onset, "2015-10-01") << b;
      EXPECT_NE(b.find("\"system\":\"http://hl7.org/fhir/sid/icd-9-cm\""), std::string_view::npos);
      EXPECT_EQ(b.find("icd-10-cm"), std::string_view::npos) << b;
      ++icd9;
    }
    for (const auto& e : b2.entries()) {
      if (e.type == ResourceType::kCondition &&
          b2.json(e).find("problem-list-item") != std::string_view::npos &&
          b2.json(e).find("icd-10-cm") != std::string_view::npos) {
        ++icd10;
      }
    }
  }
  EXPECT_EQ(differing, icd9);
  EXPECT_GT(icd9, 5);
  EXPECT_GT(icd10, 5);  // diagnosed since the transition: ICD-10-CM as before
  EXPECT_STREQ(Icd9For("E11.9")->icd9.data(), "250.00");
  EXPECT_EQ(Icd9For("Z99.9"), nullptr);
}

// A current smoker whose smoking case was dropped (its onset fell after the patient's death) once
// got a smoking-cessation Procedure whose reasonReference was "Condition/" and 36 NUL bytes: the
// id of a Condition never written. Patient 4477 of 10,000 with seed 7 was such a patient.
TEST(GenerateTest, ReasonReferencesPointAtConditionsOfThePatient) {
  GenerateOptions options;
  options.patients = 10000;
  options.seed = 7;
  Generator generator(options);
  ResourceBatch batch;
  generator.GeneratePatient(4477, &batch);
  std::set<std::string> conditions;
  std::vector<std::string> reasons;
  int cessation = 0;  // smoking-cessation education procedures: the case in point
  for (const auto& e : batch.entries()) {
    Result<json::Document> doc = json::Parse(batch.json(e));
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    if (doc->root().FindString("resourceType") == "Condition") {
      conditions.insert("Condition/" + std::string(doc->root().FindString("id")));
    }
    if (batch.json(e).find("\"225323000\"") != std::string_view::npos) ++cessation;
    if (const json::Value* rr = doc->root().Find("reasonReference")) {
      for (const json::Value& r : rr->items()) reasons.emplace_back(r.FindString("reference"));
    }
  }
  ASSERT_GT(cessation, 0);
  for (const std::string& r : reasons) {
    EXPECT_EQ(r.find('\0'), std::string::npos) << "a NUL in a reference";
    EXPECT_TRUE(conditions.count(r)) << "unresolved " << r;
  }
}

// ---- A population of 500, generated once ------------------------------------------------------

struct Resource {
  ResourceType type;
  json::Document doc;
};

class PopulationTest : public ::testing::Test {
 protected:
  static constexpr int kPatients = 500;

  static void SetUpTestSuite() {
    resources_ = new std::vector<Resource>();
    GenerateOptions options;
    options.patients = kPatients;
    options.seed = 2024;
    end_date_ = options.end_date;
    Generator generator(options);
    ResourceBatch batch;
    generator.GenerateShared(&batch);
    Take(batch);
    for (int64_t i = 0; i < options.patients; ++i) {
      batch.Clear();
      generator.GeneratePatient(i, &batch);
      Take(batch);
    }
  }
  static void TearDownTestSuite() {
    delete resources_;
    resources_ = nullptr;
  }
  static void Take(const ResourceBatch& batch) {
    for (const auto& e : batch.entries()) {
      Result<json::Document> doc = json::Parse(batch.json(e));
      ASSERT_TRUE(doc.ok()) << doc.status().ToString() << "\n" << batch.json(e);
      resources_->push_back({e.type, std::move(doc).value()});
    }
  }

  static std::vector<Resource>* resources_;
  static Days end_date_;
};
std::vector<Resource>* PopulationTest::resources_ = nullptr;
Days PopulationTest::end_date_ = 0;

TEST_F(PopulationTest, IdsAreUniqueAndEveryReferenceResolves) {
  std::set<std::string> ids;
  std::map<ResourceType, int> counts;
  for (const Resource& r : *resources_) {
    const std::string key = std::string(r.doc.root().FindString("resourceType")) + "/" +
                            std::string(r.doc.root().FindString("id"));
    EXPECT_TRUE(ids.insert(key).second) << "duplicate " << key;
    EXPECT_EQ(r.doc.root().FindString("resourceType"), TypeName(r.type));
    ++counts[r.type];
  }
  int references = 0;
  for (const Resource& r : *resources_) {
    std::vector<std::string> refs;
    CollectReferences(r.doc.root(), &refs);
    for (const std::string& ref : refs) {
      ++references;
      EXPECT_TRUE(ids.count(ref)) << "unresolved " << ref;
    }
  }
  EXPECT_GT(references, kPatients * 50);
  // Every kind of resource appears.
  for (int t = 0; t < kResourceTypeCount; ++t) {
    EXPECT_GT(counts[static_cast<ResourceType>(t)], 0) << TypeName(static_cast<ResourceType>(t));
  }
  EXPECT_EQ(counts[ResourceType::kPatient], kPatients);
}

// Per-patient facts the clinical checks need.
struct PatientFacts {
  int age = 0;
  bool female = false;
  bool deceased = false;
  std::set<std::string> icd10;  // chronic (problem-list) conditions
  std::vector<double> sbp;
  std::vector<double> a1c;
  std::vector<std::string> encounter_starts;
  std::string deceased_at;
};

std::map<std::string, PatientFacts> Facts(const std::vector<Resource>& resources, Days end) {
  std::map<std::string, PatientFacts> facts;
  for (const Resource& r : resources) {
    const json::Value& root = r.doc.root();
    if (r.type == ResourceType::kPatient) {
      PatientFacts& f = facts["Patient/" + std::string(root.FindString("id"))];
      Days birth = 0;
      EXPECT_TRUE(ParseDate(root.FindString("birthDate"), &birth));
      f.age = YearsBetween(birth, end);
      f.female = root.FindString("gender") == "female";
      f.deceased_at = std::string(root.FindString("deceasedDateTime"));
      f.deceased = !f.deceased_at.empty();
      continue;
    }
    const json::Value* subject = root.Find("subject");
    if (subject == nullptr) subject = root.Find("patient");
    if (subject == nullptr) continue;
    PatientFacts& f = facts[std::string(subject->FindString("reference"))];
    if (r.type == ResourceType::kCondition) {
      const json::Value* cat = root.Find("category");
      const std::string_view category =
          cat->items()[0].Find("coding")->items()[0].FindString("code");
      if (category != "problem-list-item") continue;
      for (const json::Value& c : root.Find("code")->Find("coding")->items()) {
        if (c.FindString("system") == kIcd10Cm) f.icd10.emplace(c.FindString("code"));
      }
    } else if (r.type == ResourceType::kObservation) {
      const std::string_view code =
          root.Find("code")->Find("coding")->items()[0].FindString("code");
      if (code == "85354-9") {
        const json::Value& systolic = root.Find("component")->items()[0];
        EXPECT_EQ(systolic.Find("code")->Find("coding")->items()[0].FindString("code"), "8480-6");
        f.sbp.push_back(
            std::stod(std::string(systolic.Find("valueQuantity")->Find("value")->number_text())));
      } else if (code == "4548-4") {
        f.a1c.push_back(
            std::stod(std::string(root.Find("valueQuantity")->Find("value")->number_text())));
      }
    } else if (r.type == ResourceType::kEncounter) {
      f.encounter_starts.emplace_back(root.Find("period")->FindString("start"));
    }
  }
  return facts;
}

bool HasPrefix(const std::set<std::string>& codes, std::string_view prefix) {
  for (const std::string& c : codes) {
    if (c.starts_with(prefix)) return true;
  }
  return false;
}

TEST_F(PopulationTest, PrevalenceFollowsAgeWithinBounds) {
  const auto facts = Facts(*resources_, end_date_);
  ASSERT_EQ(facts.size(), static_cast<size_t>(kPatients));
  int adults40 = 0, htn40 = 0, adults18 = 0, dm18 = 0, young = 0, htn_young = 0, children = 0,
      chronic_children = 0, asthma = 0, deceased = 0, old = 0, deceased_old = 0;
  for (const auto& [id, f] : facts) {
    const bool htn = f.icd10.count("I10") > 0;
    if (f.age >= 40) {
      ++adults40;
      htn40 += htn;
    }
    if (f.age >= 18) {
      ++adults18;
      dm18 += HasPrefix(f.icd10, "E11");
    }
    if (f.age >= 18 && f.age < 40) {
      ++young;
      htn_young += htn;
    }
    if (f.age < 18) {
      ++children;
      chronic_children += htn || HasPrefix(f.icd10, "E11") || HasPrefix(f.icd10, "N18") ||
                          HasPrefix(f.icd10, "J44");
    }
    asthma += HasPrefix(f.icd10, "J45");
    deceased += f.deceased;
    if (f.age >= 75) {
      ++old;
      deceased_old += f.deceased;
    }
  }
  // Stated targets (docs/generate.md): diagnosed hypertension about 45% of adults 40+, type 2
  // diabetes about 11% of adults, asthma about 8% of everyone; bounds allow for n = 500.
  ASSERT_GT(adults40, 150);
  const double htn_rate = static_cast<double>(htn40) / adults40;
  EXPECT_GT(htn_rate, 0.32) << htn40 << "/" << adults40;
  EXPECT_LT(htn_rate, 0.60) << htn40 << "/" << adults40;
  EXPECT_LT(static_cast<double>(htn_young) / young, htn_rate / 2) << "hypertension should rise "
                                                                     "with age";
  const double dm_rate = static_cast<double>(dm18) / adults18;
  EXPECT_GT(dm_rate, 0.05);
  EXPECT_LT(dm_rate, 0.18);
  const double asthma_rate = static_cast<double>(asthma) / kPatients;
  EXPECT_GT(asthma_rate, 0.03);
  EXPECT_LT(asthma_rate, 0.15);
  EXPECT_EQ(chronic_children, 0) << "no adult chronic disease in children";
  EXPECT_GT(deceased, 0);
  EXPECT_LT(deceased, kPatients / 10);
  if (old > 10) {
    EXPECT_GT(static_cast<double>(deceased_old) / old, static_cast<double>(deceased) / kPatients);
  }
}

TEST_F(PopulationTest, ObservationsFollowConditions) {
  const auto facts = Facts(*resources_, end_date_);
  double htn_sum = 0, other_sum = 0;
  int htn_n = 0, other_n = 0, a1c_dm = 0, a1c_dm_high = 0, a1c_other = 0, a1c_other_high = 0;
  for (const auto& [id, f] : facts) {
    if (f.age < 18) continue;
    const bool htn = f.icd10.count("I10") > 0;
    for (double s : f.sbp) {
      (htn ? htn_sum : other_sum) += s;
      ++(htn ? htn_n : other_n);
    }
    const bool dm = HasPrefix(f.icd10, "E11");
    for (double a : f.a1c) {
      if (dm) {
        ++a1c_dm;
        a1c_dm_high += a >= 6.5;
      } else {
        ++a1c_other;
        a1c_other_high += a >= 6.5;
      }
    }
  }
  ASSERT_GT(htn_n, 50);
  ASSERT_GT(other_n, 50);
  const double htn_mean = htn_sum / htn_n, other_mean = other_sum / other_n;
  // Hypertensive adults: mean systolic about 140-150 mm Hg; others about 115-125.
  EXPECT_GT(htn_mean, 135) << htn_mean;
  EXPECT_LT(htn_mean, 155) << htn_mean;
  EXPECT_GT(other_mean, 110) << other_mean;
  EXPECT_LT(other_mean, 128) << other_mean;
  // Diabetics' HbA1c is mostly at or above the 6.5% diagnostic threshold; others' rarely.
  ASSERT_GT(a1c_dm, 20);
  EXPECT_GT(static_cast<double>(a1c_dm_high) / a1c_dm, 0.8);
  ASSERT_GT(a1c_other, 20);
  EXPECT_LT(static_cast<double>(a1c_other_high) / a1c_other, 0.02);
}

TEST_F(PopulationTest, NothingHappensAfterDeathOrTheEndDate) {
  const auto facts = Facts(*resources_, end_date_);
  const std::string end = FormatDate(end_date_ + 1);
  for (const auto& [id, f] : facts) {
    for (const std::string& start : f.encounter_starts) {
      EXPECT_LT(start, end) << id;
      // Same offset for a patient's times, so text order is time order.
      if (f.deceased) {
        EXPECT_LT(start.substr(0, 10), f.deceased_at.substr(0, 10)) << id;
      }
    }
  }
}

TEST_F(PopulationTest, ScreeningsHaveData) {
  int mammograms = 0, smoking_status = 0, cvx = 0;
  for (const Resource& r : *resources_) {
    const json::Value& root = r.doc.root();
    if (r.type == ResourceType::kProcedure) {
      mammograms += root.Find("code")->Find("coding")->items()[0].FindString("code") == "24623002";
    } else if (r.type == ResourceType::kObservation) {
      smoking_status +=
          root.Find("code")->Find("coding")->items()[0].FindString("code") == "72166-2";
    } else if (r.type == ResourceType::kImmunization) {
      cvx += root.Find("vaccineCode")->Find("coding")->items()[0].FindString("system") == kCvx;
    }
  }
  EXPECT_GT(mammograms, 20);
  EXPECT_GT(smoking_status, 500);
  EXPECT_GT(cvx, 500);
}

TEST(BundleTest, TransactionEntriesArePutsOfTheirResources) {
  GenerateOptions options;
  options.patients = 3;
  Generator generator(options);
  ResourceBatch batch;
  generator.GeneratePatient(1, &batch);
  std::string text;
  AppendTransactionBundle(batch, &text);
  Result<json::Document> doc = json::Parse(text);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const json::Value& root = doc->root();
  EXPECT_EQ(root.FindString("type"), "transaction");
  const json::Value* entries = root.Find("entry");
  ASSERT_NE(entries, nullptr);
  ASSERT_EQ(entries->size(), batch.entries().size());
  for (const json::Value& e : entries->items()) {
    const json::Value* resource = e.Find("resource");
    ASSERT_NE(resource, nullptr);
    const std::string url = std::string(resource->FindString("resourceType")) + "/" +
                            std::string(resource->FindString("id"));
    EXPECT_EQ(e.Find("request")->FindString("method"), "PUT");
    EXPECT_EQ(e.Find("request")->FindString("url"), url);
    EXPECT_EQ(e.FindString("fullUrl"), "urn:uuid:" + std::string(resource->FindString("id")));
  }
}

}  // namespace
}  // namespace vesta::generate

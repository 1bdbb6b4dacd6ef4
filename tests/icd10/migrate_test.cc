// The ICD-9-CM -> ICD-10-CM migration on a SQLite store in a temp directory, with the
// terminology fixtures of tests/terminology/testdata (the GEM excerpt has an exact row 0010 ->
// A000, an approximate single target 2500 -> E119, alternatives 4280 -> I50814 / I509, a No Map
// row 36570 and the combination entry 8962).
#include "icd10/migrate.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "fhir/model/model.h"
#include "fhir/resource/resource_json.h"
#include "fhir/validate/validator.h"
#include "json/parse.h"
#include "store/sqlite/sqlite_store.h"
#include "terminology/loaders.h"
#include "terminology/terminology_service.h"
#include "terminology/test_util.h"

namespace vesta::icd10 {
namespace {

using terminology::testing::TempDir;

const std::string kData = VESTA_TERMINOLOGY_TESTDATA;
constexpr std::string_view kIcd9 = "http://hl7.org/fhir/sid/icd-9-cm";
constexpr std::string_view kIcd10 = "http://hl7.org/fhir/sid/icd-10-cm";

std::string Concept(std::string_view system, std::string_view code, std::string_view display = "") {
  std::string c = R"({"coding":[{"system":")" + std::string(system) + R"(","code":")" +
                  std::string(code) + "\"";
  if (!display.empty()) c += R"(,"display":")" + std::string(display) + "\"";
  return c + "}]}";
}

std::string ConditionJson(std::string_view id, const std::string& code) {
  return R"({"resourceType":"Condition","id":")" + std::string(id) + R"(","code":)" + code +
         R"(,"subject":{"reference":"Patient/p1"}})";
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string db = terminology::TerminologyDbPath(dir_.path());
    ASSERT_TRUE(terminology::LoadIcd10CmTabular(db, kData + "/icd10cm_tabular_mini.xml").ok());
    for (const char* f : {"/2018_I9gem_mini.txt", "/2018_I10gem_mini.txt"}) {
      auto gem = terminology::LoadGem(db, kData + f);
      ASSERT_TRUE(gem.ok()) << gem.status().ToString();
    }
    auto terms = terminology::TerminologyService::Open(db, {});
    ASSERT_TRUE(terms.ok()) << terms.status().ToString();
    terms_ = std::move(terms).value();
    store::SqliteStoreOptions options;
    options.directory = dir_.path() + "/store";
    auto store = store::OpenSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();

    Put("Condition", ConditionJson("exact", Concept(kIcd9, "0010", "Cholera d/t vib cholerae")));
    Put("Condition", ConditionJson("approx", Concept("urn:oid:2.16.840.1.113883.6.103", "250.0")));
    Put("Condition", ConditionJson("choice", Concept(kIcd9, "4280")));
    Put("Condition", ConditionJson("nomap", Concept(kIcd9, "36570")));
    Put("Condition", ConditionJson("combo", Concept(kIcd9, "896.2")));
    Put("Condition", ConditionJson("unknown", Concept(kIcd9, "999.99")));
    Put("Condition", ConditionJson("icd10only", Concept(kIcd10, "E11.9")));
    Put("Condition", ConditionJson("deleted", Concept(kIcd9, "0010")));
    Delete("Condition", "deleted");
    // ICD-9-CM in an old version only: the current version is what counts.
    Put("Condition", ConditionJson("old", Concept(kIcd9, "0010")));
    Put("Condition", ConditionJson("old", Concept("http://snomed.info/sct", "42343007")));
    Put("Encounter",
        R"({"resourceType":"Encounter","id":"enc","status":"finished",)"
        R"("class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},)"
        R"("reasonCode":[{"text":"checkup"},)" +
            Concept(kIcd9, "2500") + "]}");
  }

  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }

  void Put(const std::string& type, const std::string& json) {
    auto doc = fhir::ParseResourceBody(json, type, fhir::Model::R4());
    ASSERT_TRUE(doc.ok()) << doc.status().ToString() << "\n" << json;
    std::string id(doc->root().FindString("id"));
    auto cur = store_->Read(type, id);
    store::WriteOp op;
    op.kind = cur.ok() ? store::WriteKind::kUpdate : store::WriteKind::kCreate;
    op.expected_version = cur.ok() ? cur->version : store::kExpectNone;
    op.type = type;
    op.id = id;
    op.last_updated = clock_.Now();
    op.json = fhir::StoredJson(*doc, id, op.expected_version + 1, op.last_updated);
    ASSERT_TRUE(store_->Write({&op, 1}).ok());
  }

  void Delete(const std::string& type, const std::string& id) {
    auto cur = store_->Read(type, id);
    ASSERT_TRUE(cur.ok());
    store::WriteOp op;
    op.kind = store::WriteKind::kDelete;
    op.type = type;
    op.id = id;
    op.expected_version = cur->version;
    op.last_updated = clock_.Now();
    ASSERT_TRUE(store_->Write({&op, 1}).ok());
  }

  Result<MigrateReport> Run(RunMode mode = RunMode::kApply) {
    MigrateOptions options;
    options.mode = mode;
    options.page_size = 3;  // several history pages
    return MigrateIcd9(*store_, *terms_, options);
  }

  int64_t Version(const std::string& type, const std::string& id) {
    auto v = store_->Read(type, id);
    return v.ok() ? v->version : -1;
  }

  std::vector<store::StoredVersion> Provenances() {
    store::HistoryQuery q;
    q.type = "Provenance";
    q.count = 100;
    auto page = store_->History(q);
    EXPECT_TRUE(page.ok());
    std::vector<store::StoredVersion> out;
    if (page.ok()) {
      for (auto& e : page->entries) out.push_back(e.version);
    }
    return out;
  }

  // The codings of the CodeableConcept at `member` (an object or the `index`th array item).
  std::vector<std::pair<std::string, std::string>> Codings(const std::string& type,
                                                           const std::string& id,
                                                           std::string_view member,
                                                           size_t index = 0) {
    std::vector<std::pair<std::string, std::string>> out;
    auto v = store_->Read(type, id);
    EXPECT_TRUE(v.ok());
    if (!v.ok()) return out;
    auto doc = json::Parse(v->json);
    EXPECT_TRUE(doc.ok());
    const json::Value* cc = doc->root().Find(member);
    if (cc != nullptr && cc->is_array()) cc = &cc->items()[index];
    if (cc == nullptr || cc->Find("coding") == nullptr) return out;
    for (const json::Value& c : cc->Find("coding")->items()) {
      out.emplace_back(c.FindString("system"), c.FindString("code"));
    }
    return out;
  }

  const WorklistRow* Row(const MigrateReport& r, std::string_view id) {
    for (const WorklistRow& row : r.worklist) {
      if (row.id == id) return &row;
    }
    return nullptr;
  }

  TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<terminology::TerminologyService> terms_;
  std::unique_ptr<store::Store> store_;
};

using Codes = std::vector<std::pair<std::string, std::string>>;

TEST_F(MigrateTest, AddsSingleTargetsKeepsIcd9AndRecordsProvenance) {
  auto r = Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // 8 current Conditions (not the deleted one) and the Encounter.
  EXPECT_EQ(r->scanned, 9);
  EXPECT_EQ(r->changed, 3);
  EXPECT_EQ(r->applied_exact, 1);
  EXPECT_EQ(r->applied_approximate, 2);
  EXPECT_EQ(r->gem_release, "CMS diagnosis GEMs 2018 (2018_I9gem_mini.txt)");

  EXPECT_EQ(Version("Condition", "exact"), 2);
  EXPECT_EQ(Codings("Condition", "exact", "code"),
            (Codes{{std::string(kIcd9), "0010"}, {std::string(kIcd10), "A00.0"}}));
  EXPECT_EQ(Version("Condition", "approx"), 2);
  EXPECT_EQ(Codings("Condition", "approx", "code"),
            (Codes{{"urn:oid:2.16.840.1.113883.6.103", "250.0"}, {std::string(kIcd10), "E11.9"}}));
  EXPECT_EQ(Version("Encounter", "enc"), 2);
  EXPECT_EQ(Codings("Encounter", "enc", "reasonCode", 1),
            (Codes{{std::string(kIcd9), "2500"}, {std::string(kIcd10), "E11.9"}}));
  // The ICD-10-CM display comes from the terminology; the ICD-9-CM coding is byte for byte kept.
  auto exact = store_->Read("Condition", "exact");
  ASSERT_TRUE(exact.ok());
  EXPECT_NE(exact->json.find(R"({"system":"http://hl7.org/fhir/sid/icd-9-cm","code":"0010",)"
                             R"("display":"Cholera d/t vib cholerae"})"),
            std::string::npos)
      << exact->json;
  EXPECT_NE(exact->json.find("Cholera due to Vibrio cholerae 01, biovar cholerae"),
            std::string::npos);
  EXPECT_NE(exact->json.find(R"("versionId":"2")"), std::string::npos);

  for (const char* untouched : {"choice", "nomap", "combo", "unknown", "icd10only"}) {
    EXPECT_EQ(Version("Condition", untouched), 1) << untouched;
  }
  EXPECT_EQ(Version("Condition", "old"), 2);
  auto deleted = store_->Read("Condition", "deleted");
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(deleted->version, 2);

  // One Provenance per changed resource, valid R4.
  std::vector<store::StoredVersion> provs = Provenances();
  ASSERT_EQ(provs.size(), 3u);
  bool found_exact = false;
  for (const store::StoredVersion& p : provs) {
    auto doc = json::Parse(p.json);
    ASSERT_TRUE(doc.ok());
    Status valid = fhir::ValidateResource(doc->root(), fhir::Model::R4());
    EXPECT_TRUE(valid.ok()) << valid.ToString() << "\n" << p.json;
    const json::Value& root = doc->root();
    EXPECT_EQ(root.Find("activity")->Find("coding")->items()[0].FindString("code"), "UPDATE");
    EXPECT_EQ(root.Find("agent")->items()[0].Find("who")->FindString("display"),
              "vesta icd10 migrate");
    EXPECT_NE(p.json.find("2018_I9gem_mini.txt"), std::string::npos);
    if (root.Find("target")->items()[0].FindString("reference") == "Condition/exact/_history/2") {
      found_exact = true;
      const json::Value& entity = root.Find("entity")->items()[0];
      EXPECT_EQ(entity.FindString("role"), "source");
      EXPECT_EQ(entity.Find("what")->FindString("reference"), "Condition/exact/_history/1");
    }
  }
  EXPECT_TRUE(found_exact);

  // The worklist: every ICD-9-CM coding of a current resource.
  ASSERT_EQ(r->worklist.size(), 7u);
  const WorklistRow* row = Row(*r, "exact");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->outcome, Outcome::kApplied);
  EXPECT_EQ(row->proposed, "A00.0");
  EXPECT_EQ(row->equivalence, "equivalent");
  EXPECT_EQ(row->version, 2);
  EXPECT_EQ(row->path, "Condition.code.coding[0]");
  row = Row(*r, "approx");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->outcome, Outcome::kAppliedApproximate);
  EXPECT_EQ(row->equivalence, "inexact");
  row = Row(*r, "choice");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->outcome, Outcome::kChoice);
  EXPECT_EQ(row->proposed, "I50.814|I50.9");
  EXPECT_EQ(row->equivalence, "narrower|narrower");
  row = Row(*r, "nomap");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->outcome, Outcome::kNoMap);
  EXPECT_EQ(row->proposed, "");
  row = Row(*r, "combo");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->outcome, Outcome::kCombination);
  EXPECT_EQ(row->proposed,
            "S98.911A+S98.912A|S98.911A+S98.922A|S98.921A+S98.912A|S98.921A+S98.922A");
  row = Row(*r, "unknown");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->outcome, Outcome::kUnknownCode);
  row = Row(*r, "enc");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->type, "Encounter");
  EXPECT_EQ(row->path, "Encounter.reasonCode[1].coding[0]");
  EXPECT_EQ(row->outcome, Outcome::kAppliedApproximate);
  EXPECT_EQ(r->by_outcome[static_cast<int>(Outcome::kChoice)], 1);
  EXPECT_EQ(r->by_outcome[static_cast<int>(Outcome::kAppliedApproximate)], 2);

  std::string csv = WorklistCsv(r->worklist);
  EXPECT_TRUE(
      csv.starts_with("resource_type,id,version,path,icd9_code,icd9_display,outcome,"
                      "proposed_icd10,equivalence\r\n"));
  EXPECT_NE(csv.find("Condition,exact,2,Condition.code.coding[0],0010,Cholera d/t vib cholerae,"
                     "applied,A00.0,equivalent\r\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("Condition,nomap,1,Condition.code.coding[0],36570,,no-map,,unmatched\r\n"),
            std::string::npos)
      << csv;
}

TEST_F(MigrateTest, SecondRunChangesNothing) {
  ASSERT_TRUE(Run().ok());
  auto again = Run();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->changed, 0);
  EXPECT_EQ(again->applied_exact + again->applied_approximate, 0);
  EXPECT_EQ(again->already_present, 3);
  EXPECT_EQ(Version("Condition", "exact"), 2);
  EXPECT_EQ(Version("Encounter", "enc"), 2);
  EXPECT_EQ(Provenances().size(), 3u);
  // The open cases are still listed.
  EXPECT_EQ(again->worklist.size(), 7u);
  ASSERT_NE(Row(*again, "combo"), nullptr);
}

TEST_F(MigrateTest, DryRunWritesNothing) {
  std::vector<Change> changes;
  MigrateOptions options;
  options.mode = RunMode::kDryRun;
  options.on_change = [&changes](const Change& c) { changes.push_back(c); };
  auto r = MigrateIcd9(*store_, *terms_, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->changed, 3);
  EXPECT_EQ(r->applied_exact, 1);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_TRUE(changes[0].provenance_id.empty());
  EXPECT_EQ(Version("Condition", "exact"), 1);
  EXPECT_EQ(Version("Encounter", "enc"), 1);
  EXPECT_TRUE(Provenances().empty());
  EXPECT_EQ(r->worklist.size(), 7u);
}

TEST_F(MigrateTest, TypesRestrictTheScanAndUnknownTypesAreRefused) {
  MigrateOptions options;
  options.types = {"Encounter"};
  auto r = MigrateIcd9(*store_, *terms_, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->scanned, 1);
  EXPECT_EQ(Version("Condition", "exact"), 1);
  options.types = {"Patient"};
  EXPECT_EQ(MigrateIcd9(*store_, *terms_, options).status().code(), StatusCode::kInvalid);
}

TEST_F(MigrateTest, ClaimDiagnosesAndObservationValues) {
  Put("Claim",
      R"({"resourceType":"Claim","id":"cl","status":"active","type":{"text":"x"},"use":"claim",)"
      R"("patient":{"reference":"Patient/p1"},"created":"2014-01-01","provider":{"display":"x"},)"
      R"("priority":{"text":"normal"},"insurance":[{"sequence":1,"focal":true,)"
      R"("coverage":{"display":"c"}}],"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":)" +
          Concept(kIcd9, "4280") + R"(},{"sequence":2,"diagnosisCodeableConcept":)" +
          Concept(kIcd9, "001.0") + "}]}");
  // Two ICD-9-CM codings with the same target: it is added once.
  Put("Observation",
      R"({"resourceType":"Observation","id":"obs","status":"final","code":{"text":"problem"},)"
      R"("valueCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-9-cm",)"
      R"("code":"0010"},{"system":"http://hl7.org/fhir/sid/icd-9-cm","code":"001.0"}]}})");
  MigrateOptions options;
  options.types = {"Claim", "Observation"};
  auto r = MigrateIcd9(*store_, *terms_, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->changed, 2);
  EXPECT_EQ(Version("Claim", "cl"), 2);
  ASSERT_EQ(r->worklist.size(), 4u);
  EXPECT_EQ(r->worklist[0].path, "Claim.diagnosis[0].diagnosisCodeableConcept.coding[0]");
  EXPECT_EQ(r->worklist[0].outcome, Outcome::kChoice);
  EXPECT_EQ(r->worklist[1].path, "Claim.diagnosis[1].diagnosisCodeableConcept.coding[0]");
  EXPECT_EQ(r->worklist[1].outcome, Outcome::kApplied);
  EXPECT_EQ(Codings("Observation", "obs", "valueCodeableConcept"),
            (Codes{{std::string(kIcd9), "0010"},
                   {std::string(kIcd9), "001.0"},
                   {std::string(kIcd10), "A00.0"}}));
  EXPECT_EQ(r->applied_exact, 2);  // Claim.diagnosis[1] and the Observation, once
}

TEST(MigrateWithoutGems, FailsClearly) {
  TempDir dir;
  const std::string db = terminology::TerminologyDbPath(dir.path());
  ASSERT_TRUE(terminology::LoadIcd10CmTabular(db, kData + "/icd10cm_tabular_mini.xml").ok());
  auto terms = terminology::TerminologyService::Open(db, {});
  ASSERT_TRUE(terms.ok());
  store::SqliteStoreOptions options;
  options.directory = dir.path() + "/store";
  auto store = store::OpenSqliteStore(options);
  ASSERT_TRUE(store.ok());
  auto r = MigrateIcd9(**store, **terms, {});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("vesta terminology load gems"), std::string::npos);
  EXPECT_TRUE((*store)->Close().ok());
}

TEST(WorklistCsv, QuotesPerRfc4180) {
  WorklistRow row;
  row.type = "Condition";
  row.id = "a";
  row.version = 3;
  row.path = "Condition.code.coding[0]";
  row.icd9_code = "428.0";
  row.icd9_display = "CHF, \"unspecified\"";
  row.outcome = Outcome::kChoice;
  row.proposed = "I50.814|I50.9";
  row.equivalence = "narrower|narrower";
  EXPECT_EQ(WorklistCsv({row}).substr(WorklistCsv({}).size()),
            "Condition,a,3,Condition.code.coding[0],428.0,\"CHF, \"\"unspecified\"\"\",choice,"
            "I50.814|I50.9,narrower|narrower\r\n");
}

}  // namespace
}  // namespace vesta::icd10

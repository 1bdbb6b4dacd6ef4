// FHIR package loading (terminology/loaders.h LoadFhirPackage): the compose rules on a small
// hand-written package (testdata/mini_package, with the expected members of each ValueSet in
// value_sets.tsv), then the real R4 package hl7.fhir.r4.examples@4.0.1 from node_modules
// through the terminology operations, and the cache behind the search modifiers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "terminology/expansion_cache.h"
#include "terminology/loaders.h"
#include "terminology/terminology_service.h"
#include "terminology/test_util.h"

namespace vesta::terminology {
namespace {

using testing::Output;
using testing::TempDir;

const std::string kMiniPackage = std::string(VESTA_TERMINOLOGY_TESTDATA) + "/mini_package";
const std::string kShapes = "http://example.org/fhir/CodeSystem/shapes";
const std::string kVs = "http://example.org/fhir/ValueSet/";

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

std::vector<std::string> Codes(const CodeList& list) {
  std::vector<std::string> out;
  for (const SystemCode& c : list) out.push_back(c.code);
  return out;
}

Output Parsed(Result<std::string> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return Output(r.ok() ? *r : "{}");
}

class MiniPackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VESTA_FRESH_LOCATION(db_, dir_.path());
    // The folder holding package/ is accepted as well as package/ itself.
    auto loaded = LoadFhirPackage(db_, kMiniPackage);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    report_ = *loaded;
    auto service = TerminologyService::Open(db_, {});
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(service).value();
  }

  Output Call(Result<std::string> (TerminologyService::*op)(const OperationParams&),
              std::vector<std::pair<std::string, std::string>> query) {
    return Parsed((service_.get()->*op)(OperationParams::FromQuery(query)));
  }

  TempDir dir_;
  std::string db_;
  PackageLoadReport report_;
  std::unique_ptr<TerminologyService> service_;
};

TEST_F(MiniPackageTest, Report) {
  EXPECT_EQ(report_.package, "vesta.test.mini@0.1.0");
  EXPECT_EQ(report_.code_systems, 3);
  EXPECT_EQ(report_.code_systems_loaded, 2);  // the supplement is not a code system
  EXPECT_EQ(report_.concepts, 11);
  EXPECT_EQ(report_.value_sets, 19);
  EXPECT_EQ(report_.value_sets_complete, 14);
  EXPECT_EQ(report_.value_sets_from_expansion, 1);
}

// Every row of value_sets.tsv: the members, or why the value set is not complete.
TEST_F(MiniPackageTest, ValueSetMembersFromTable) {
  std::ifstream in(kMiniPackage + "/value_sets.tsv");
  ASSERT_TRUE(in) << "missing value_sets.tsv";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols = Split(line, '\t');
    ASSERT_GE(cols.size(), 3u) << line;
    const std::string url = kVs + cols[0];
    auto codes = service_->ValueSetCodes(url, 1000);
    if (cols[1] == "complete") {
      ASSERT_TRUE(codes.ok()) << url << ": " << codes.status().ToString();
      EXPECT_EQ(Codes(**codes), Split(cols[2], ' ')) << url;
    } else {
      ASSERT_FALSE(codes.ok()) << url;
      EXPECT_EQ(codes.status().code(), StatusCode::kUnprocessable) << url;
      ASSERT_GE(cols.size(), 4u) << line;
      EXPECT_NE(codes.status().message().find(cols[3]), std::string::npos)
          << url << ": " << codes.status().message();
      // The certain part is still known: its codes validate.
      for (const std::string& code : Split(cols[2], ' ')) {
        Output v = Call(&TerminologyService::ValidateCodeInValueSet,
                        {{"url", url}, {"system", kShapes}, {"code", code}});
        EXPECT_TRUE(v.Bool("result")) << url << " " << code << "\n" << v.text();
      }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 19);
}

TEST_F(MiniPackageTest, HierarchyPropertiesAndAbstractConcepts) {
  // square is below polygon (nesting) and rhombus (the `child` property).
  Output sq = Call(&TerminologyService::Lookup, {{"system", kShapes}, {"code", "square"}});
  EXPECT_EQ(sq.String("name"), "Shapes");
  EXPECT_EQ(sq.String("version"), "1.0.0");
  EXPECT_EQ(sq.Property("parent"), (std::vector<std::string>{"polygon", "rhombus"}));
  EXPECT_EQ(sq.Property("sides"), (std::vector<std::string>{"4"}));
  EXPECT_TRUE(sq.Property("billable").empty());  // an ICD-10-CM property only
  Output shape = Call(&TerminologyService::Lookup, {{"system", kShapes}, {"code", "shape"}});
  EXPECT_EQ(shape.Property("definition"), (std::vector<std::string>{"Any shape."}));
  EXPECT_EQ(shape.Property("child"), (std::vector<std::string>{"polygon", "round"}));
  EXPECT_EQ(shape.Property("notSelectable"), (std::vector<std::string>{"true"}));
  EXPECT_EQ(Call(&TerminologyService::Subsumes,
                 {{"system", kShapes}, {"codeA", "rhombus"}, {"codeB", "square"}})
                .String("outcome"),
            "subsumes");

  // notSelectable: not a valid code unless the context allows abstract ones.
  Output v =
      Call(&TerminologyService::ValidateCodeInCodeSystem, {{"url", kShapes}, {"code", "shape"}});
  EXPECT_FALSE(v.Bool("result"));
  EXPECT_NE(v.String("message").find("abstract"), std::string::npos) << v.text();
  EXPECT_TRUE(Call(&TerminologyService::ValidateCodeInCodeSystem,
                   {{"url", kShapes}, {"code", "shape"}, {"abstract", "true"}})
                  .Bool("result"));
  EXPECT_FALSE(Call(&TerminologyService::ValidateCodeInValueSet,
                    {{"url", kVs + "all-shapes"}, {"system", kShapes}, {"code", "shape"}})
                   .Bool("result"));
  // Implicit value sets of any loaded system.
  EXPECT_TRUE(Call(&TerminologyService::ValidateCodeInValueSet,
                   {{"url", kShapes + "?fhir_vs=isa/polygon"}, {"code", "square"}})
                  .Bool("result"));
}

TEST_F(MiniPackageTest, ValidateCodeInValueSet) {
  Output ok = Call(&TerminologyService::ValidateCodeInValueSet,
                   {{"url", kVs + "polygons"}, {"system", kShapes}, {"code", "triangle"}});
  EXPECT_TRUE(ok.Bool("result")) << ok.text();
  EXPECT_EQ(ok.String("display"), "Triangle");
  // The value set's one system is the default when only a code is given.
  EXPECT_TRUE(Call(&TerminologyService::ValidateCodeInValueSet,
                   {{"url", kVs + "polygons"}, {"code", "square"}})
                  .Bool("result"));
  Output out = Call(&TerminologyService::ValidateCodeInValueSet,
                    {{"url", kVs + "polygons"}, {"system", kShapes}, {"code", "circle"}});
  EXPECT_FALSE(out.Bool("result"));
  EXPECT_NE(out.String("message").find("not in value set"), std::string::npos) << out.text();
  Output bad_display = Call(
      &TerminologyService::ValidateCodeInValueSet,
      {{"url", kVs + "polygons"}, {"system", kShapes}, {"code", "square"}, {"display", "Box"}});
  EXPECT_FALSE(bad_display.Bool("result"));
  // A system that is not loaded: the value set's own list decides, and its display.
  EXPECT_TRUE(Call(&TerminologyService::ValidateCodeInValueSet,
                   {{"url", kVs + "lab-codes"}, {"system", "http://loinc.org"}, {"code", "8480-6"}})
                  .Bool("result"));
  // valueSetVersion pins the value set's version.
  EXPECT_TRUE(Call(&TerminologyService::ValidateCodeInValueSet,
                   {{"url", kVs + "polygons"}, {"valueSetVersion", "1.0.0"}, {"code", "square"}})
                  .Bool("result"));
  auto unknown = service_->ValidateCodeInValueSet(OperationParams::FromQuery(
      {{"url", kVs + "polygons"}, {"valueSetVersion", "9"}, {"code", "square"}}));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  Output partial = Call(&TerminologyService::ValidateCodeInValueSet,
                        {{"url", kVs + "partly-known"}, {"system", kShapes}, {"code", "square"}});
  EXPECT_FALSE(partial.Bool("result"));
  EXPECT_NE(partial.String("message").find("only in part"), std::string::npos) << partial.text();
}

TEST_F(MiniPackageTest, Expand) {
  Output all = Call(&TerminologyService::Expand, {{"url", kVs + "not-round"}});
  EXPECT_EQ(all.root().Find("expansion")->Find("total")->number_text(), "6");
  EXPECT_NE(all.text().find("\"abstract\":true,\"code\":\"shape\""), std::string::npos)
      << all.text();
  Output filtered =
      Call(&TerminologyService::Expand, {{"url", kVs + "all-shapes"}, {"filter", "tri"}});
  EXPECT_EQ(filtered.root().Find("expansion")->Find("total")->number_text(), "2")
      << filtered.text();
  Output page = Call(&TerminologyService::Expand,
                     {{"url", kVs + "all-shapes"}, {"offset", "8"}, {"count", "5"}});
  EXPECT_NE(page.text().find("\"code\":\"ellipse\""), std::string::npos) << page.text();
  EXPECT_EQ(page.text().find("\"code\":\"circle\""), std::string::npos) << page.text();
  auto refused = service_->Expand(OperationParams::FromQuery({{"url", kVs + "unloaded-system"}}));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnprocessable);
}

TEST_F(MiniPackageTest, ResourcesAsPublished) {
  auto cs = service_->CodeSystems();
  ASSERT_TRUE(cs.ok());
  EXPECT_EQ(cs->size(), 3u);  // the package's three, the supplement included
  auto vs = service_->ReadResource("ValueSet", "polygons");
  ASSERT_TRUE(vs.ok()) << vs.status().ToString();
  EXPECT_NE(vs->find("\"url\":\"http://example.org/fhir/ValueSet/polygons\""), std::string::npos);
  EXPECT_EQ(service_->ReadResource("ValueSet", "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(MiniPackageTest, ReloadGivesTheSameDatabaseAndSkipLeavesIt) {
  auto again = LoadFhirPackage(db_, kMiniPackage + "/package");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->concepts, report_.concepts);
  EXPECT_EQ(again->members, report_.members);
  auto cs = service_->CodeSystems();
  ASSERT_TRUE(cs.ok());
  EXPECT_EQ(cs->size(), 3u);
  auto skipped = LoadFhirPackage(db_, kMiniPackage, IfLoaded::kSkip);
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(skipped->already_loaded);
  EXPECT_EQ(LoadFhirPackage(db_, dir_.path() + "/none").status().code(), StatusCode::kNotFound);
}

TEST_F(MiniPackageTest, SearchCodeListsAreCachedUntilTheDatabaseChanges) {
  auto below = service_->CodesBelow(kShapes, "polygon", 100);
  ASSERT_TRUE(below.ok()) << below.status().ToString();
  EXPECT_EQ(Codes(**below),
            (std::vector<std::string>{"polygon", "triangle", "equilateral", "rhombus", "square"}));
  auto again = service_->CodesBelow(kShapes, "polygon", 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(below->get(), again->get());  // the cached list
  EXPECT_EQ(service_->CodesBelow(kShapes, "polygon", 3).status().code(),
            StatusCode::kUnprocessable);
  EXPECT_EQ(service_->CodesBelow(kShapes, "hexagon", 100).status().code(), StatusCode::kNotFound);
  auto above = service_->CodesAbove(kShapes, "square");
  ASSERT_TRUE(above.ok());
  EXPECT_EQ(Codes(**above).front(), "square");
  EXPECT_EQ((*above)->size(), 4u);  // square, polygon, rhombus, shape

  auto by_id = service_->ValueSetCodes("ValueSet/rhombus-isa", 100);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(Codes(**by_id), (std::vector<std::string>{"rhombus", "square"}));
  EXPECT_EQ(service_->ValueSetCodes("ValueSet/nope", 100).status().code(), StatusCode::kNotFound);

  // A load by another connection empties the cache.
  ASSERT_TRUE(LoadFhirPackage(db_, kMiniPackage).ok());
  auto after = service_->CodesBelow(kShapes, "polygon", 100);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(below->get(), after->get());
  EXPECT_EQ(Codes(**after), Codes(**below));
}

TEST(ExpansionCacheTest, EvictsLeastRecentlyUsedWithinBothBounds) {
  internal::ExpansionCache cache(/*max_entries=*/2, /*max_codes=*/5);
  auto list = [](size_t n) { return std::make_shared<const CodeList>(n, SystemCode{"s", "c"}); };
  cache.Put("a", list(2));
  cache.Put("b", list(2));
  ASSERT_NE(cache.Find("a"), nullptr);  // a is now the most recent
  cache.Put("c", list(1));              // over 2 entries: b goes
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_NE(cache.Find("a"), nullptr);
  cache.Put("d", list(4));  // over 5 codes: the older ones go
  EXPECT_EQ(cache.codes(), 4u);
  EXPECT_EQ(cache.entries(), 1u);
  cache.Put("huge", list(6));  // larger than the whole budget: not kept
  EXPECT_EQ(cache.Find("huge"), nullptr);
  cache.Clear();
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.codes(), 0u);
}

// The R4 package as `npm ci` installs it.
class R4PackageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/vesta_term_r4_" + std::to_string(getpid()));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    auto location = testing::FreshLocation(*dir_);
    if (!location.ok()) {
      skip_ = new std::string(location.status().message());
      return;
    }
    auto loaded = LoadFhirPackage(*location, VESTA_FHIR_PACKAGE_DIR);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    report_ = new PackageLoadReport(*loaded);
    auto service = TerminologyService::Open(*location, {});
    ASSERT_TRUE(service.ok());
    service_ = service->release();
  }
  static void TearDownTestSuite() {
    delete service_;
    delete report_;
    delete skip_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    if (skip_ != nullptr) GTEST_SKIP() << *skip_;
    ASSERT_NE(service_, nullptr);
  }

  static Output Call(Result<std::string> (TerminologyService::*op)(const OperationParams&),
                     std::vector<std::pair<std::string, std::string>> query) {
    return Parsed((service_->*op)(OperationParams::FromQuery(query)));
  }

  static std::string* dir_;
  static std::string* skip_;  // why the suite skips, or null
  static PackageLoadReport* report_;
  static TerminologyService* service_;
};

std::string* R4PackageTest::dir_ = nullptr;
std::string* R4PackageTest::skip_ = nullptr;
PackageLoadReport* R4PackageTest::report_ = nullptr;
TerminologyService* R4PackageTest::service_ = nullptr;

TEST_F(R4PackageTest, Counts) {
  EXPECT_EQ(report_->package, "hl7.fhir.r4.examples@4.0.1");
  EXPECT_EQ(report_->code_systems, 1062);
  EXPECT_EQ(report_->value_sets, 1316);
  EXPECT_GT(report_->value_sets_complete, 1200);
  std::printf(
      "R4 package loaded in %.2f s: %lld concepts, %lld complete value sets, %lld members\n",
      report_->seconds, static_cast<long long>(report_->concepts),
      static_cast<long long>(report_->value_sets_complete),
      static_cast<long long>(report_->members));
}

TEST_F(R4PackageTest, AdministrativeGender) {
  const std::string vs = "http://hl7.org/fhir/ValueSet/administrative-gender";
  const std::string cs = "http://hl7.org/fhir/administrative-gender";
  Output male = Call(&TerminologyService::ValidateCodeInValueSet,
                     {{"url", vs}, {"code", "male"}, {"system", cs}});
  EXPECT_TRUE(male.Bool("result")) << male.text();
  EXPECT_EQ(male.String("display"), "Male");
  Output female2 = Call(&TerminologyService::ValidateCodeInValueSet,
                        {{"url", vs}, {"code", "female2"}, {"system", cs}});
  EXPECT_FALSE(female2.Bool("result"));
  EXPECT_NE(female2.String("message").find("female2"), std::string::npos) << female2.text();
  EXPECT_TRUE(Call(&TerminologyService::ValidateCodeInCodeSystem, {{"url", cs}, {"code", "other"}})
                  .Bool("result"));
  Output lookup = Call(&TerminologyService::Lookup, {{"system", cs}, {"code", "unknown"}});
  EXPECT_EQ(lookup.String("name"), "AdministrativeGender");
  EXPECT_EQ(lookup.String("display"), "Unknown");
  Output expansion = Call(&TerminologyService::Expand, {{"url", vs}});
  EXPECT_EQ(expansion.root().Find("expansion")->Find("total")->number_text(), "4");
}

TEST_F(R4PackageTest, V3HierarchyAndValueSetsBuiltOnIt) {
  const std::string act = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
  Output amb = Call(&TerminologyService::Lookup, {{"system", act}, {"code", "AMB"}});
  EXPECT_EQ(amb.Property("parent"), (std::vector<std::string>{"_ActEncounterCode"}));
  EXPECT_EQ(Call(&TerminologyService::Subsumes,
                 {{"system", act}, {"codeA", "_ActEncounterCode"}, {"codeB", "AMB"}})
                .String("outcome"),
            "subsumes");
  // is-a _ActEncounterCode minus the abstract root itself.
  const std::string enc = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode";
  EXPECT_TRUE(Call(&TerminologyService::ValidateCodeInValueSet, {{"url", enc}, {"code", "AMB"}})
                  .Bool("result"));
  EXPECT_FALSE(Call(&TerminologyService::ValidateCodeInValueSet,
                    {{"url", enc}, {"code", "_ActEncounterCode"}, {"abstract", "true"}})
                   .Bool("result"));
  // include.valueSet: no / yes from v2-0136 (in its order), then "asked-unknown".
  auto yes_no = service_->ValueSetCodes("http://hl7.org/fhir/ValueSet/yesnodontknow", 100);
  ASSERT_TRUE(yes_no.ok()) << yes_no.status().ToString();
  EXPECT_EQ(Codes(**yes_no), (std::vector<std::string>{"N", "Y", "asked-unknown"}));
}

TEST_F(R4PackageTest, ValueSetsOfSystemsNotLoaded) {
  // SNOMED CT is not part of the package: the value set cannot be evaluated.
  auto condition_code = service_->ValueSetCodes("http://hl7.org/fhir/ValueSet/condition-code", 100);
  EXPECT_EQ(condition_code.status().code(), StatusCode::kUnprocessable);
  EXPECT_NE(condition_code.status().message().find("snomed"), std::string::npos);
  auto status = service_->ValueSetCodes("ValueSet/observation-status", 100);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)->size(), 8u);
}

}  // namespace
}  // namespace vesta::terminology

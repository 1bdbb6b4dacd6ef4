// The terminology loaders and operations on small hand-written fixtures in the official file
// layouts (testdata/): a Tabular List excerpt with <sevenChrDef>s, an order file, and both GEMs
// with approximate, No Map and combination rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "terminology/icd10cm/codes.h"
#include "terminology/loaders.h"
#include "terminology/terminology_service.h"
#include "terminology/test_util.h"

namespace vesta::terminology {
namespace {

using testing::Output;
using testing::TempDir;

const std::string kData = VESTA_TERMINOLOGY_TESTDATA;
const std::string kIcd10(kIcd10CmSystem);
const std::string kIcd9(kIcd9CmSystem);

class TerminologyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VESTA_FRESH_LOCATION(db_, dir_.path());
    auto tab = LoadIcd10CmTabular(db_, kData + "/icd10cm_tabular_mini.xml");
    ASSERT_TRUE(tab.ok()) << tab.status().ToString();
    tabular_ = *tab;
    auto order = LoadIcd10CmOrder(db_, kData + "/icd10cm_order_2022.txt");
    ASSERT_TRUE(order.ok()) << order.status().ToString();
    order_ = *order;
    for (const char* f : {"/2018_I9gem_mini.txt", "/2018_I10gem_mini.txt"}) {
      auto gem = LoadGem(db_, kData + f);
      ASSERT_TRUE(gem.ok()) << gem.status().ToString();
    }
    auto service = TerminologyService::Open(db_, {});
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(service).value();
  }

  Output Call(Result<std::string> (TerminologyService::*op)(const OperationParams&),
              std::vector<std::pair<std::string, std::string>> query) {
    Result<std::string> r = (service_.get()->*op)(OperationParams::FromQuery(query));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return Output(r.ok() ? *r : "{}");
  }
  Output Lookup(const std::string& code, const std::string& system = kIcd10) {
    return Call(&TerminologyService::Lookup, {{"system", system}, {"code", code}});
  }
  Output Validate(const std::string& code, const std::string& system = kIcd10) {
    return Call(&TerminologyService::ValidateCodeInCodeSystem, {{"url", system}, {"code", code}});
  }
  Output Translate(const std::string& code, const std::string& system) {
    return Call(&TerminologyService::Translate, {{"system", system}, {"code", code}});
  }
  // The codes of the matches of a $translate output; each entry is "concept+product+...".
  static std::vector<std::string> Matches(const Output& out, std::vector<std::string>* eq) {
    std::vector<std::string> codes;
    for (const json::Value* m : out.Params("match")) {
      std::string codes_of_match;
      for (const json::Value& part : m->Find("part")->items()) {
        std::string_view name = part.FindString("name");
        if (name == "equivalence" && eq != nullptr) eq->emplace_back(part.FindString("valueCode"));
        if (name == "concept") codes_of_match += part.Find("valueCoding")->FindString("code");
        if (name == "product") {
          for (const json::Value& pp : part.Find("part")->items()) {
            if (pp.FindString("name") == "concept") {
              codes_of_match += "+" + std::string(pp.Find("valueCoding")->FindString("code"));
            }
          }
        }
      }
      codes.push_back(codes_of_match);
    }
    return codes;
  }

  TempDir dir_;
  std::string db_;
  LoadReport tabular_, order_;
  std::unique_ptr<TerminologyService> service_;
};

TEST_F(TerminologyTest, TabularCounts) {
  EXPECT_EQ(tabular_.version, "2023");
  // A00.0, E11.65, E11.9, I50.814, I50.9, H40.111x and H40.112x (5 stages each),
  // S06.0X0x and S06.0X1x (A, D, S), T14.8XXx, T14.90Xx, T14.91Xx.
  EXPECT_EQ(tabular_.valid_codes, 1 + 2 + 2 + 10 + 6 + 9);
  EXPECT_GT(tabular_.notes, 5);
}

TEST_F(TerminologyTest, SeventhCharacterCodesAreValidAndBillable) {
  Output v = Validate("S06.0X0A");
  EXPECT_TRUE(v.Bool("result")) << v.text();
  EXPECT_EQ(v.String("display"), "Concussion without loss of consciousness, initial encounter");
  Output l = Lookup("S06.0X0A");
  EXPECT_EQ(l.Property("billable"), std::vector<std::string>{"true"});
  EXPECT_EQ(l.Property("parent"), std::vector<std::string>{"S06.0X0"});

  Output t = Validate("T14.90XA");
  EXPECT_TRUE(t.Bool("result")) << t.text();
  EXPECT_EQ(Lookup("T14.90XA").Property("billable"), std::vector<std::string>{"true"});
  EXPECT_TRUE(Validate("T14.8XXS").Bool("result"));
  // The nearest <sevenChrDef> wins: H40.11's stages, not a letter.
  EXPECT_TRUE(Validate("H40.1113").Bool("result"));
  EXPECT_FALSE(Validate("H40.111A").Bool("result"));
}

TEST_F(TerminologyTest, HeadersAreCodesButNotBillable) {
  Output s06 = Lookup("S06");
  EXPECT_EQ(s06.Property("billable"), std::vector<std::string>{"false"});
  EXPECT_EQ(s06.String("display"), "Intracranial injury");
  EXPECT_EQ(s06.Property("parent"), std::vector<std::string>{"S00-S09"});
  EXPECT_EQ(s06.Property("child"), std::vector<std::string>{"S06.0"});
  Output v = Validate("S06");
  EXPECT_TRUE(v.Bool("result"));
  EXPECT_NE(v.String("message").find("not billable"), std::string::npos) << v.text();

  Output t = Lookup("T14.90");
  EXPECT_EQ(t.Property("billable"), std::vector<std::string>{"false"});
  EXPECT_EQ(t.Property("child"), (std::vector<std::string>{"T14.90XA", "T14.90XD", "T14.90XS"}));
}

TEST_F(TerminologyTest, NotACode) {
  Output v = Validate("T14.90XB");
  EXPECT_FALSE(v.Bool("result"));
  EXPECT_NE(v.String("message").find("Unknown code"), std::string::npos);
  Result<std::string> l =
      service_->Lookup(OperationParams::FromQuery({{"system", kIcd10}, {"code", "T14.90XB"}}));
  EXPECT_EQ(l.status().code(), StatusCode::kNotFound);
  // Chapters and blocks are groupings, not codes, unless abstract=true; a placeholder header
  // (<diag placeholder="true">) is a non-billable code, as in the CMS order file.
  EXPECT_TRUE(Validate("S06.0X").Bool("result"));
  EXPECT_EQ(Lookup("S06.0X").Property("billable"), std::vector<std::string>{"false"});
  EXPECT_FALSE(Validate("E08-E13").Bool("result"));
  Output a = Call(&TerminologyService::ValidateCodeInCodeSystem,
                  {{"url", kIcd10}, {"code", "E08-E13"}, {"abstract", "true"}});
  EXPECT_TRUE(a.Bool("result"));
  // The release files' undotted spelling is a hint, not a code.
  Output u = Validate("E119");
  EXPECT_FALSE(u.Bool("result"));
  EXPECT_NE(u.String("message").find("E11.9"), std::string::npos);
}

TEST_F(TerminologyTest, DisplayIsChecked) {
  Output ok = Call(&TerminologyService::ValidateCodeInCodeSystem,
                   {{"url", kIcd10},
                    {"code", "E11.9"},
                    {"display", "type 2 diabetes mellitus without complications"}});
  EXPECT_TRUE(ok.Bool("result")) << ok.text();
  Output bad = Call(&TerminologyService::ValidateCodeInCodeSystem,
                    {{"url", kIcd10}, {"code", "E11.9"}, {"display", "Cholera"}});
  EXPECT_FALSE(bad.Bool("result"));
}

TEST_F(TerminologyTest, IsAAndSubsumes) {
  EXPECT_TRUE(*service_->IsA(kIcd10, "E11.9", "E11"));
  EXPECT_TRUE(*service_->IsA(kIcd10, "E11.9", "E00-E89"));
  EXPECT_TRUE(*service_->IsA(kIcd10, "E11", "E11"));
  EXPECT_FALSE(*service_->IsA(kIcd10, "E11", "E11.9"));
  EXPECT_TRUE(*service_->IsA(kIcd10, "S06.0X0A", "S06"));
  auto subsumes = [&](const char* a, const char* b) {
    return Call(&TerminologyService::Subsumes, {{"system", kIcd10}, {"codeA", a}, {"codeB", b}})
        .String("outcome");
  };
  EXPECT_EQ(subsumes("E11", "E11.9"), "subsumes");
  EXPECT_EQ(subsumes("E11.9", "E11"), "subsumed-by");
  EXPECT_EQ(subsumes("E11.9", "E11.9"), "equivalent");
  EXPECT_EQ(subsumes("E11.9", "S06"), "not-subsumed");

  auto below = service_->CodesBelow(kIcd10, "T14.9", 100);
  ASSERT_TRUE(below.ok()) << below.status().ToString();
  EXPECT_EQ((*below)->size(), 1u + 2u + 6u);
  EXPECT_EQ((*below)->front().code, "T14.9");
  EXPECT_EQ((*below)->front().system, kIcd10);
  // The undotted spelling names the same code; the limit is kept.
  auto undotted = service_->CodesBelow(kIcd10, "T149", 100);
  ASSERT_TRUE(undotted.ok());
  EXPECT_EQ((*undotted)->size(), 9u);
  EXPECT_EQ(service_->CodesBelow(kIcd10, "T14.9", 5).status().code(), StatusCode::kUnprocessable);
  auto above = service_->CodesAbove(kIcd10, "E11.65");
  ASSERT_TRUE(above.ok());
  std::vector<std::string> up;
  for (const SystemCode& c : **above) up.push_back(c.code);
  EXPECT_EQ(up, (std::vector<std::string>{"E11.65", "E11.6", "E11", "E08-E13", "E00-E89"}));
}

TEST_F(TerminologyTest, ValueSetValidateAndExpand) {
  const std::string all = kIcd10 + "?fhir_vs";
  const std::string isa_e11 = kIcd10 + "?fhir_vs=isa/E11";
  auto vs_validate = [&](const std::string& url, const std::string& code) {
    return Call(&TerminologyService::ValidateCodeInValueSet,
                {{"url", url}, {"system", kIcd10}, {"code", code}})
        .Bool("result");
  };
  EXPECT_TRUE(vs_validate(all, "S06.0X0A"));
  EXPECT_TRUE(vs_validate(isa_e11, "E11.9"));
  EXPECT_TRUE(vs_validate(isa_e11, "E11"));
  EXPECT_FALSE(vs_validate(isa_e11, "I50.9"));
  EXPECT_FALSE(vs_validate(all, "T14.90XB"));

  Output e = Call(&TerminologyService::Expand, {{"url", isa_e11}});
  EXPECT_EQ(e.root().Find("expansion")->Find("total")->number_text(), "4");
  const json::Value* contains = e.root().Find("expansion")->Find("contains");
  ASSERT_NE(contains, nullptr);
  EXPECT_EQ(contains->items()[0].FindString("code"), "E11");

  Output f = Call(&TerminologyService::Expand, {{"url", all}, {"filter", "concussion initial"}});
  EXPECT_EQ(f.root().Find("expansion")->Find("total")->number_text(), "2") << f.text();

  // Inclusion terms are searched too; words with digits are code prefixes.
  Output inc = Call(&TerminologyService::Expand, {{"url", all}, {"filter", "congestive"}});
  EXPECT_EQ(inc.root().Find("expansion")->Find("contains")->items()[0].FindString("code"), "I50.9");
  Output prefix = Call(&TerminologyService::Expand, {{"url", all}, {"filter", "E11.6"}});
  EXPECT_EQ(prefix.root().Find("expansion")->Find("total")->number_text(), "2");
  Output both = Call(&TerminologyService::Expand,
                     {{"url", kIcd10 + "?fhir_vs=isa/S06"}, {"filter", "consciousness"}});
  EXPECT_EQ(both.root().Find("expansion")->Find("total")->number_text(), "8");
  Output none = Call(&TerminologyService::Expand, {{"url", isa_e11}, {"filter", "concussion"}});
  EXPECT_EQ(none.root().Find("expansion")->Find("total")->number_text(), "0");

  Output page = Call(&TerminologyService::Expand, {{"url", all}, {"offset", "2"}, {"count", "3"}});
  EXPECT_EQ(page.root().Find("expansion")->Find("contains")->size(), 3u);
  EXPECT_EQ(page.root().Find("expansion")->Find("offset")->number_text(), "2");
}

TEST_F(TerminologyTest, ExpandTooLargeWithoutCount) {
  ServiceOptions options;
  options.max_expansion = 10;
  auto small = TerminologyService::Open(db_, options);
  ASSERT_TRUE(small.ok());
  Result<std::string> r =
      (*small)->Expand(OperationParams::FromQuery({{"url", kIcd10 + "?fhir_vs"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnprocessable);
  ASSERT_EQ(r.status().issues().size(), 1u);
  EXPECT_EQ(r.status().issues()[0].type, "too-costly");
}

TEST_F(TerminologyTest, OrderFileMakesItsOwnVersion) {
  EXPECT_EQ(order_.version, "2022");
  EXPECT_EQ(order_.rows, 17);
  EXPECT_EQ(order_.valid_codes, 7);
  Output l = Call(&TerminologyService::Lookup,
                  {{"system", kIcd10}, {"code", "S06.0X0A"}, {"version", "2022"}});
  EXPECT_EQ(l.String("version"), "2022");
  EXPECT_EQ(l.Property("billable"), std::vector<std::string>{"true"});
  EXPECT_EQ(l.Property("parent"), std::vector<std::string>{"S06.0X0"});
  Output h =
      Call(&TerminologyService::Lookup, {{"system", kIcd10}, {"code", "S06"}, {"version", "2022"}});
  EXPECT_EQ(h.Property("billable"), std::vector<std::string>{"false"});
  // The newest version (the Tabular's 2023) is the default.
  EXPECT_EQ(Lookup("E11.9").String("version"), "2023");
  // $expand and ValueSet/$validate-code pin a version with system-version / systemVersion.
  Output e =
      Call(&TerminologyService::Expand,
           {{"url", kIcd10 + "?fhir_vs"}, {"system-version", kIcd10 + "|2022"}, {"count", "0"}});
  EXPECT_EQ(e.root().Find("expansion")->Find("total")->number_text(), "17");
  Output v = Call(
      &TerminologyService::ValidateCodeInValueSet,
      {{"url", kIcd10 + "?fhir_vs"}, {"code", "T14.90XD"}, {"systemVersion", kIcd10 + "|2022"}});
  EXPECT_FALSE(v.Bool("result"));  // only in the 2023 Tabular excerpt
}

TEST_F(TerminologyTest, OrderFileMergesIntoTheSameTabularVersion) {
  auto merged = LoadIcd10CmOrder(db_, kData + "/icd10cm_order_2022.txt", "2023");
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  Output l = Lookup("S06.0X0A");
  EXPECT_EQ(l.Params("designation").size(), 2u) << l.text();
  // Still the Tabular's 30 valid codes: the order excerpt adds none.
  EXPECT_EQ(merged->valid_codes, 30);
}

TEST_F(TerminologyTest, LoadsAreIdempotent) {
  auto again = LoadIcd10CmTabular(db_, kData + "/icd10cm_tabular_mini.xml");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->concepts, tabular_.concepts);
  auto gem = LoadGem(db_, kData + "/2018_I9gem_mini.txt");
  ASSERT_TRUE(gem.ok());
  EXPECT_EQ(gem->rows, 11);
  auto cs = service_->ReadResource("CodeSystem", "icd-10-cm");
  ASSERT_TRUE(cs.ok());
  Output o(*cs);
  EXPECT_EQ(o.root().FindString("content"), "not-present");
  EXPECT_EQ(o.root().Find("count")->number_text(), "51");  // 30 valid codes + 21 headers
}

TEST_F(TerminologyTest, TranslateForward) {
  std::vector<std::string> eq;
  Output t = Translate("4280", kIcd9);  // the GEM's spelling of 428.0
  EXPECT_TRUE(t.Bool("result"));
  std::vector<std::string> codes = Matches(t, &eq);
  EXPECT_NE(std::find(codes.begin(), codes.end(), "I50.9"), codes.end()) << t.text();
  // Two alternatives, neither shared with another ICD-9-CM code: each is narrower.
  EXPECT_EQ(eq, (std::vector<std::string>{"narrower", "narrower"}));

  eq.clear();
  Output exact = Translate("001.0", kIcd9);
  EXPECT_EQ(Matches(exact, &eq), std::vector<std::string>{"A00.0"});
  EXPECT_EQ(eq, std::vector<std::string>{"equivalent"});
  EXPECT_EQ(exact.Params("match").size(), 1u);
}

TEST_F(TerminologyTest, TranslateNoMapIsUnmatched) {
  std::vector<std::string> eq;
  Output t = Translate("365.70", kIcd9);
  EXPECT_FALSE(t.Bool("result"));
  Matches(t, &eq);
  EXPECT_EQ(eq, std::vector<std::string>{"unmatched"});
  Output b = Translate("Z68.51", kIcd10);
  EXPECT_FALSE(b.Bool("result"));
}

TEST_F(TerminologyTest, TranslateCombinationGivesClusters) {
  std::vector<std::string> eq;
  Output t = Translate("896.2", kIcd9);
  EXPECT_TRUE(t.Bool("result"));
  // One scenario, two choice lists of two codes each: four clusters (CMS guide, sample entry 1).
  EXPECT_EQ(Matches(t, &eq), (std::vector<std::string>{"S98.911A+S98.912A", "S98.911A+S98.922A",
                                                       "S98.921A+S98.912A", "S98.921A+S98.922A"}));
  EXPECT_EQ(eq, std::vector<std::string>(4, "inexact"));

  eq.clear();
  Output b = Translate("R65.21", kIcd10);
  EXPECT_EQ(Matches(b, &eq), std::vector<std::string>{"785.52+995.92"});
}

TEST_F(TerminologyTest, TranslateBackwardAndReverse) {
  std::vector<std::string> eq;
  // B37.41 -> 112.2, shared by B37.41, B37.42 and B37.49: the target is wider.
  Output b = Translate("B37.41", kIcd10);
  EXPECT_EQ(Matches(b, &eq), std::vector<std::string>{"112.2"});
  EXPECT_EQ(eq, std::vector<std::string>{"wider"});
  // Reverse: which ICD-10-CM codes map to ICD-9-CM 428.0 in the backward GEM.
  eq.clear();
  Output r = Call(&TerminologyService::Translate,
                  {{"system", kIcd9}, {"code", "428.0"}, {"reverse", "true"}});
  EXPECT_EQ(Matches(r, &eq), std::vector<std::string>{"I50.9"}) << r.text();
  auto maps = service_->ConceptMaps();
  ASSERT_TRUE(maps.ok());
  EXPECT_EQ(maps->size(), 2u);
  // ICD-9-CM codes come from the GEMs; 001.0's display is its identical ICD-10-CM code's.
  EXPECT_TRUE(Validate("428.0", kIcd9).Bool("result"));
  EXPECT_EQ(Lookup("001.0", kIcd9).String("display"),
            "Cholera due to Vibrio cholerae 01, biovar cholerae");
}

TEST_F(TerminologyTest, ConceptMapWithGroupsHasEveryRow) {
  auto cm = service_->ConceptMapWithGroups("gem-icd9cm-to-icd10cm");
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  Output o(*cm);
  const json::Value* elements = o.root().Find("group")->items()[0].Find("element");
  ASSERT_NE(elements, nullptr);
  std::map<std::string, std::vector<std::string>> eq;  // source -> target equivalences
  for (const json::Value& e : elements->items()) {
    for (const json::Value& t : e.Find("target")->items()) {
      eq[std::string(e.FindString("code"))].emplace_back(t.FindString("equivalence"));
      // R4 cmd-1: narrower and inexact need a comment.
      if (t.FindString("equivalence") == "narrower" || t.FindString("equivalence") == "inexact") {
        EXPECT_FALSE(t.FindString("comment").empty());
      }
    }
  }
  EXPECT_EQ(eq.size(), 6u);  // 001.0, 112.2, 250.00, 365.70, 428.0, 896.2
  EXPECT_EQ(eq["428.0"], (std::vector<std::string>{"narrower", "narrower"}));
  EXPECT_EQ(eq["365.70"], std::vector<std::string>{"unmatched"});
  EXPECT_EQ(eq["896.2"], std::vector<std::string>(4, "inexact"));
  EXPECT_EQ(eq["001.0"], std::vector<std::string>{"equivalent"});
  EXPECT_EQ(service_->ConceptMapWithGroups("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(TerminologyTest, ParametersBody) {
  auto in = OperationParams::FromParametersJson(R"({"resourceType": "Parameters", "parameter": [
      {"name": "coding", "valueCoding": {"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                          "code": "E11.9"}},
      {"name": "property", "valueCode": "parent"}]})");
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  auto out = service_->Lookup(*in);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Output o(*out);
  EXPECT_EQ(o.Property("parent"), std::vector<std::string>{"E11"});
  EXPECT_TRUE(o.Property("billable").empty());
}

TEST_F(TerminologyTest, CodeableConceptIsValidWhenOneCodingIs) {
  auto in = OperationParams::FromParametersJson(R"({"resourceType": "Parameters", "parameter": [
      {"name": "url", "valueUri": "http://hl7.org/fhir/sid/icd-10-cm?fhir_vs"},
      {"name": "codeableConcept", "valueCodeableConcept": {"coding": [
          {"system": "http://snomed.info/sct", "code": "44054006"},
          {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}]}}]})");
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  auto out = service_->ValidateCodeInValueSet(*in);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(Output(*out).Bool("result")) << *out;
  auto same = service_->Invoke("ValueSet", "validate-code", *in);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *out);
  EXPECT_EQ(service_->Invoke("ValueSet", "lookup", *in).status().code(), StatusCode::kNotFound);
}

TEST_F(TerminologyTest, BadFilesAreRefusedAndChangeNothing) {
  auto write = [&](const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  };
  auto xml = LoadIcd10CmTabular(db_, write("bad.xml", "<ICD10CM.tabular><version>2023</ver"));
  EXPECT_EQ(xml.status().code(), StatusCode::kInvalid);
  auto no_version = LoadIcd10CmTabular(db_, write("nov.xml", "<ICD10CM.tabular/>"));
  EXPECT_EQ(no_version.status().code(), StatusCode::kInvalid);
  auto gem = LoadGem(db_, write("2018_I9gem_bad.txt", "4280  I509    1000X\n"));
  EXPECT_EQ(gem.status().code(), StatusCode::kInvalid);
  auto order = LoadIcd10CmOrder(db_, write("icd10cm_order_2023.txt", "garbage\n"));
  EXPECT_EQ(order.status().code(), StatusCode::kInvalid);
  auto missing = LoadGem(db_, dir_.path() + "/absent.txt");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  // What was loaded before is intact.
  EXPECT_TRUE(Validate("S06.0X0A").Bool("result"));
  EXPECT_TRUE(Translate("428.0", kIcd9).Bool("result"));
}

TEST(CodeSpelling, FhirFormOfReleaseFileCodes) {
  EXPECT_EQ(Icd10CmDotted("E119"), "E11.9");
  EXPECT_EQ(Icd10CmDotted("S060X0A"), "S06.0X0A");
  EXPECT_EQ(Icd10CmDotted("E11"), "E11");
  EXPECT_EQ(Icd10CmDotted("E11.9"), "E11.9");
  EXPECT_EQ(Icd10CmDotted("E08-E13"), "E08-E13");
  EXPECT_EQ(Icd9CmDotted("4280"), "428.0");
  EXPECT_EQ(Icd9CmDotted("V0381"), "V03.81");
  EXPECT_EQ(Icd9CmDotted("E8558"), "E855.8");
  EXPECT_EQ(Icd9CmDotted("042"), "042");
  EXPECT_EQ(Undotted("S06.0X0A"), "S060X0A");
}

}  // namespace
}  // namespace vesta::terminology

// UCUM canonical forms (fhir/ucum.h) and their use by quantity search
// (https://hl7.org/fhir/R4/search.html#quantity: "the server SHOULD ... canonical units").
#include "fhir/ucum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "json/parse.h"
#include "search/extract.h"
#include "search/plan.h"
#include "search/registry.h"
#include "search/rendered_plan.h"

namespace vesta::search {
namespace {

TEST(UcumTest, CanonicalizesCommonClinicalUnits) {
  struct Case {
    double value;
    const char* unit;
    double canonical;
    const char* code;
  };
  const Case cases[] = {
      {5500, "ug", 0.0055, "g"},
      {0.0055, "g", 0.0055, "g"},
      {5.5, "mg", 0.0055, "g"},
      {2, "kg", 2000, "g"},
      {1, "[lb_av]", 453.59237, "g"},
      {120, "mm[Hg]", 15998640, "g.m-1.s-2"},
      {16, "kPa", 16000000, "g.m-1.s-2"},
      {100, "mg/dL", 1000, "g/m3"},
      {1, "g/L", 1000, "g/m3"},
      {72, "/min", 1.2, "/s"},
      {72, "{beats}/min", 1.2, "/s"},
      {4.5, "10*3/uL", 4.5e12, "/m3"},
      {4.5, "10*9/L", 4.5e12, "/m3"},
      {25, "kg/m2", 25000, "g/m2"},
      {37, "Cel", 310.15, "K"},
      {98.6, "[degF]", 310.15, "K"},
      {50, "%", 0.5, "1"},
      {3, "{score}", 3, "1"},
      {1, "h", 3600, "s"},
      {10, "[IU]/L", 10000, "[IU]/m3"},
      {1.5, "m", 1.5, "m"},
      {150, "cm", 1.5, "m"},
  };
  for (const Case& c : cases) {
    std::optional<ucum::Canonical> got = ucum::Canonicalize(c.value, c.unit);
    ASSERT_TRUE(got.has_value()) << c.unit;
    EXPECT_EQ(got->code, c.code) << c.unit;
    EXPECT_NEAR(got->value, c.canonical, std::fabs(c.canonical) * 1e-9) << c.unit;
  }
}

TEST(UcumTest, OneQuantityInTwoUnitsHasOneCanonicalValue) {
  // Rounded to 12 significant digits: equal quantities compare equal, not one ulp apart.
  EXPECT_EQ(ucum::Canonicalize(5.4, "mg")->value, ucum::Canonicalize(5400, "ug")->value);
  EXPECT_EQ(ucum::Canonicalize(0.0054, "g")->value, ucum::Canonicalize(5400, "ug")->value);
  EXPECT_EQ(ucum::Canonicalize(1.2, "L")->value, ucum::Canonicalize(1200, "mL")->value);
}

TEST(UcumTest, UnknownOrMalformedUnitsHaveNoCanonicalForm) {
  for (const char* unit :
       {"mmHg", "beats", "mg/", "(mg", "[lb_av", "m0", "xyz/L", "Cel/h", "{unclosed", "mg..L", "/",
        "kCel", "m-", "m99999999999", "10*99999999999999999999"}) {
    EXPECT_FALSE(ucum::Canonicalize(1, unit).has_value()) << unit;
  }
  EXPECT_TRUE(ucum::Canonicalize(1, "((mg)/(dL))").has_value());
  EXPECT_FALSE(
      ucum::Canonicalize(1, std::string(100000, '(') + "g" + std::string(100000, ')')).has_value());
  // A factor too large for a double.
  EXPECT_FALSE(ucum::Canonicalize(1, std::string(400, '9')).has_value());
  EXPECT_FALSE(ucum::Canonicalize(std::nan(""), "mg").has_value());
}

TEST(UcumTest, KindsOfQuantityAreKeptApart) {
  auto unit = [](const char* code) { return *ucum::ParseUnit(code); };
  EXPECT_TRUE(ucum::Commensurable(unit("mg/dL"), unit("g/L")));
  EXPECT_TRUE(ucum::Commensurable(unit("mm[Hg]"), unit("kPa")));
  EXPECT_FALSE(ucum::Commensurable(unit("mg"), unit("mL")));
  // [IU] is arbitrary: not the same as a plain number or an enzyme unit (U = umol/min).
  EXPECT_FALSE(ucum::Commensurable(unit("[IU]/L"), unit("/L")));
  EXPECT_FALSE(ucum::Commensurable(unit("[IU]/L"), unit("U/L")));
  EXPECT_TRUE(ucum::Commensurable(unit("U"), unit("mmol/s")));
  EXPECT_EQ(ucum::CanonicalCode(unit("1")), "1");
  EXPECT_EQ(ucum::CanonicalCode(unit("N")), "m.g/s2");
}

// Extraction stores the canonical form next to the value as written, for UCUM quantities only.
TEST(UcumTest, QuantityRowsCarryTheCanonicalForm) {
  auto doc = json::Parse(R"({"resourceType":"Observation","status":"final",
    "code":{"text":"glucose"},
    "valueQuantity":{"value":5500,"unit":"µg","system":"http://unitsofmeasure.org",
                     "code":"ug"}})");
  ASSERT_TRUE(doc.ok());
  IndexRows rows = ExtractIndexRows(Registry::R4(), doc->root());
  const QuantityRow* q = nullptr;
  for (const QuantityRow& r : rows.quantities) {
    if (r.param == "value-quantity") q = &r;
  }
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->value, 5500);
  EXPECT_EQ(q->code, "ug");
  EXPECT_EQ(q->canonical_code, "g");
  EXPECT_DOUBLE_EQ(q->canonical_value, 0.0055);

  auto other = json::Parse(R"({"resourceType":"Observation","status":"final",
    "code":{"text":"glucose"},
    "valueQuantity":{"value":5,"system":"http://example.org/units","code":"mg"}})");
  ASSERT_TRUE(other.ok());
  rows = ExtractIndexRows(Registry::R4(), other->root());
  for (const QuantityRow& r : rows.quantities) {
    EXPECT_EQ(r.canonical_code, "") << "only UCUM quantities are canonicalised";
  }
}

// A search with the UCUM system and a known unit compares the canonical columns; the eq range
// is the precision of the value given, converted.
TEST(UcumTest, UcumSearchesCompareCanonicalValues) {
  SearchSpec spec;
  spec.types = {"Observation"};
  spec.params = {{"value-quantity", "5.4|http://unitsofmeasure.org|mg"}};
  auto plan = PlanAndRender(Registry::R4(), spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const std::string& sql = plan->where.text;
  EXPECT_NE(sql.find("canonical_code = ?"), std::string::npos) << sql;
  EXPECT_NE(sql.find("canonical_value >= ?"), std::string::npos) << sql;
  bool g = false, low = false, high = false;
  for (const SqlArg& a : plan->where.args) {
    if (const std::string* s = std::get_if<std::string>(&a)) g |= *s == "g";
    if (const double* d = std::get_if<double>(&a)) {
      low |= std::fabs(*d - 0.00535) < 1e-12;  // [5.35, 5.45) mg in g
      high |= std::fabs(*d - 0.00545) < 1e-12;
    }
  }
  EXPECT_TRUE(g && low && high) << sql;

  // Another system, or a UCUM code the server does not know: the unit as written.
  for (const char* value :
       {"5.4|http://example.org/units|mg", "5.4||mg", "5.4|http://unitsofmeasure.org|[pH]"}) {
    spec.params = {{"value-quantity", value}};
    auto exact = PlanAndRender(Registry::R4(), spec);
    ASSERT_TRUE(exact.ok()) << value;
    EXPECT_EQ(exact->where.text.find("canonical"), std::string::npos) << value;
    EXPECT_NE(exact->where.text.find("code = ?"), std::string::npos) << value;
  }
}

// R4's common UCUM units (ValueSet ucum-common, 1,364 codes): every one on a ratio scale is
// known; those on a logarithmic or other special scale are not (their values do not convert by a
// factor), and are compared as written.
TEST(UcumTest, KnowsEveryRatioUnitOfTheR4CommonUnits) {
  std::ifstream in(std::string(VESTA_FHIR_PACKAGE_DIR) + "/ValueSet-ucum-common.json");
  if (!in) GTEST_SKIP() << "the R4 examples package is not installed";
  std::stringstream text;
  text << in.rdbuf();
  auto doc = json::Parse(text.str());
  ASSERT_TRUE(doc.ok());
  const std::set<std::string> special = {
      "[pH]",  "dB",    "%[slope]", "[hp_C]", "[hp_M]", "[hp_Q]", "[hp_X]", "[p'diop]", "B",
      "B[kW]", "B[mV]", "B[SPL]",   "B[uV]",  "B[V]",   "B[W]",   "bit_s",  "Np"};
  int known = 0;
  std::vector<std::string> unknown;
  for (const json::Value& include : doc->root().Find("compose")->Find("include")->items()) {
    for (const json::Value& entry : include.Find("concept")->items()) {
      std::string code(entry.FindString("code"));
      bool parsed = ucum::ParseUnit(code).has_value();
      if (parsed) ++known;
      if (parsed == (special.count(code) > 0)) unknown.push_back(code);
    }
  }
  EXPECT_EQ(known, 1347);
  EXPECT_TRUE(unknown.empty()) << "known though special, or unknown though a ratio unit: "
                               << ::testing::PrintToString(unknown);
}

TEST(UcumTest, ConvertsTheWiderTable) {
  struct Case {
    double value;
    const char* unit;
    double same_value;
    const char* same_unit;
  };
  const Case cases[] = {
      {1, "[psi]", 6894.757293168, "Pa"},
      {20, "[drp]", 1, "mL"},
      {1, "[tsp_us]", 4.92892159375, "mL"},
      {1, "[gal_br]", 4.54609, "L"},
      {1, "[stone_av]", 6.35029318, "kg"},
      {1, "[oz_tr]", 31.1034768, "g"},
      {1, "[gr]", 64.79891, "mg"},
      {1, "[ft_us]", 0.304800609601219, "m"},
      {1, "[nmi_i]", 1.852, "km"},
      {1, "atm", 101.325, "kPa"},
      {1, "[in_i'Hg]", 25.4, "mm[Hg]"},
      {1, "mA", 1, "mC/s"},
      {1, "V", 1, "W/A"},
      {1, "Ohm", 1, "V/A"},
      {1, "S", 1, "/Ohm"},
      {1, "T", 1e4, "G"},
      {1, "Ci", 37, "GBq"},
      {1, "Sv", 100, "REM"},
      {1, "[Btu_IT]", 1055.05585262, "J"},
      {1, "[HP]", 745.69987158227, "W"},
      {1, "eV", 1.60217733e-19, "J"},
      {1, "lx", 1, "lm/m2"},
      {10, "10*6.[CFU]/L", 10, "[CFU]/uL"},
      {1, "[PRU]", 1, "mm[Hg].s/mL"},
      {1, "[LPF]", 100, "[HPF]"},
  };
  for (const Case& c : cases) {
    std::optional<ucum::Canonical> a = ucum::Canonicalize(c.value, c.unit);
    std::optional<ucum::Canonical> b = ucum::Canonicalize(c.same_value, c.same_unit);
    ASSERT_TRUE(a.has_value()) << c.unit;
    ASSERT_TRUE(b.has_value()) << c.same_unit;
    EXPECT_EQ(a->code, b->code) << c.unit << " against " << c.same_unit;
    EXPECT_NEAR(a->value, b->value, std::fabs(b->value) * 1e-9) << c.unit;
  }
  auto unit = [](const char* code) { return *ucum::ParseUnit(code); };
  // Each arbitrary unit is commensurable only with itself.
  EXPECT_FALSE(ucum::Commensurable(unit("[CFU]/mL"), unit("[PFU]/mL")));
  EXPECT_FALSE(ucum::Commensurable(unit("[CFU]/mL"), unit("/mL")));
  EXPECT_FALSE(ucum::Commensurable(unit("[arb'U]"), unit("[IU]")));
  EXPECT_TRUE(ucum::Commensurable(unit("k[CFU]/L"), unit("[CFU]/mL")));
  EXPECT_EQ(ucum::CanonicalCode(unit("[CFU]/mL")), "[CFU]/m3");
  // Charge and light are dimensions of their own.
  EXPECT_FALSE(ucum::Commensurable(unit("C"), unit("1")));
  EXPECT_FALSE(ucum::Commensurable(unit("cd"), unit("1")));
  EXPECT_EQ(ucum::CanonicalCode(unit("V")), "m2.g.s-2.C-1");
}

}  // namespace
}  // namespace vesta::search

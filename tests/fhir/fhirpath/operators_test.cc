// Operators: equality, three-valued Boolean logic, comparison, math, collections:
// http://hl7.org/fhirpath/N1/#operations
#include <gtest/gtest.h>

#include "fhir/fhirpath/test_util.h"

namespace vesta::fhirpath::testing {
namespace {

// http://hl7.org/fhirpath/N1/#boolean-logic: the truth tables with empty ({}) as unknown.
TEST(FhirPathLogic, ThreeValuedTruthTables) {
  struct Row {
    const char* expr;
    const char* result;
  };
  const Row rows[] = {
      {"true and {}", "[]"},        {"false and {}", "[false]"},
      {"{} and {}", "[]"},          {"{} and false", "[false]"},
      {"true or {}", "[true]"},     {"false or {}", "[]"},
      {"{} or true", "[true]"},     {"{} or {}", "[]"},
      {"true xor {}", "[]"},        {"true xor true", "[false]"},
      {"true xor false", "[true]"}, {"{} implies true", "[true]"},
      {"{} implies false", "[]"},   {"false implies {}", "[true]"},
      {"true implies {}", "[]"},    {"{}.not()", "[]"},
      {"true.not()", "[false]"},
  };
  for (const Row& r : rows) EXPECT_EQ(Eval(r.expr), r.result) << r.expr;
}

TEST(FhirPathLogic, OperandsMustBeSingletons) {
  EXPECT_TRUE(IsError(Eval("(true | false) and true")));
  EXPECT_EQ(Eval("'text' and true"), "[true]");     // a single non-Boolean item counts as true
  EXPECT_EQ(Eval("false and (1 | 2)"), "[false]");  // the right side is not needed
}

TEST(FhirPathEquality, EmptyPropagationAndCollections) {
  EXPECT_EQ(Eval("{} = {}"), "[]");
  EXPECT_EQ(Eval("1 = {}"), "[]");
  EXPECT_EQ(Eval("{} != 1"), "[]");
  EXPECT_EQ(Eval("{} ~ {}"), "[true]");
  EXPECT_EQ(Eval("1 ~ {}"), "[false]");
  EXPECT_EQ(Eval("(1 | 2) = (1 | 2)"), "[true]");
  EXPECT_EQ(Eval("(1 | 2) = (2 | 1)"), "[false]");  // order matters for =
  EXPECT_EQ(Eval("(1 | 2) ~ (2 | 1)"), "[true]");   // but not for ~
  EXPECT_EQ(Eval("(1 | 2) = (1 | 2 | 3)"), "[false]");
  EXPECT_EQ(Eval("1 = 'a'"), "[false]");
  EXPECT_EQ(Eval("name[0] = name[0]"), "[true]");
  EXPECT_EQ(Eval("name[0] = name[1]"), "[false]");
}

TEST(FhirPathEquality, DecimalPrecision) {
  EXPECT_EQ(Eval("1.0 = 1.00"), "[true]");
  EXPECT_EQ(Eval("1 = 1.0"), "[true]");
  EXPECT_EQ(Eval("1.01 = 1.0"), "[false]");
  EXPECT_EQ(Eval("1.01 ~ 1.0"), "[true]");  // rounded to the least precise operand
  EXPECT_EQ(Eval("1.05 ~ 1.0"), "[false]");
  EXPECT_EQ(Eval("0.1 + 0.2 = 0.3"), "[true]");  // exact decimals, no binary rounding
  EXPECT_EQ(Eval("1.50.toString()"), R"(["1.50"])");
  EXPECT_EQ(Eval("'abc' ~ 'ABC'"), "[true]");
  EXPECT_EQ(Eval("'a  b' ~ 'a b'"), "[true]");
}

TEST(FhirPathComparison, TypesAndEmpty) {
  EXPECT_EQ(Eval("1 < 2.5"), "[true]");
  EXPECT_EQ(Eval("'abc' < 'abd'"), "[true]");
  EXPECT_EQ(Eval("{} < 1"), "[]");
  EXPECT_TRUE(IsError(Eval("1 < 'a'")));
  EXPECT_TRUE(IsError(Eval("(1 | 2) < 3")));
  EXPECT_TRUE(IsError(Eval("true < false")));
}

TEST(FhirPathMath, IntegerAndDecimal) {
  EXPECT_EQ(Eval("7 div 2"), "[3]");
  EXPECT_EQ(Eval("-7 div 2"), "[-3]");
  EXPECT_EQ(Eval("7 mod 2"), "[1]");
  EXPECT_EQ(Eval("7.5 mod 2"), "[1.5]");
  EXPECT_EQ(Eval("7 / 2"), "[3.5]");
  EXPECT_EQ(Eval("1 / 3"), "[0.33333333]");
  EXPECT_EQ(Eval("1 / 0"), "[]");
  EXPECT_EQ(Eval("1 div 0"), "[]");
  EXPECT_EQ(Eval("1 mod 0"), "[]");
  EXPECT_EQ(Eval("9223372036854775807 + 1"), "[]");  // overflow: empty, not wrapped
  EXPECT_EQ(Eval("1.25 * 2"), "[2.50]");
  EXPECT_EQ(Eval("{} + 1"), "[]");
  EXPECT_TRUE(IsError(Eval("'a' - 'b'")));
  EXPECT_EQ(Eval("'a' + 'b'"), R"(["ab"])");
  EXPECT_EQ(Eval("'a' & {}"), R"(["a"])");
  EXPECT_EQ(Eval("{} & {}"), R"([""])");
}

TEST(FhirPathCollections, MembershipAndUnion) {
  EXPECT_EQ(Eval("2 in (1 | 2)"), "[true]");
  EXPECT_EQ(Eval("{} in (1 | 2)"), "[]");
  EXPECT_EQ(Eval("3 in {}"), "[false]");
  EXPECT_EQ(Eval("(1 | 2) contains 3"), "[false]");
  EXPECT_TRUE(IsError(Eval("(1 | 2) in (1 | 2)")));
  EXPECT_EQ(Eval("(1 | 1.0 | 2)"), "[1,2]");  // 1 = 1.0: one of them is kept
  // A chain of unions is the union of all its operands, in order of first appearance, also past
  // the size where duplicates are found by hashing.
  EXPECT_EQ(Eval("1 | 2 | 1 | (3 | 2) | 4"), "[1,2,3,4]");
  EXPECT_EQ(Eval("(1|2|3|4|5|6|7|8|9|10|11|12|13|14|15|16|17|18|1|18|19).count()"), "[19]");
  EXPECT_EQ(Eval("(name.given | name.given).count()"), "[3]");
  EXPECT_EQ(Eval("name.use | {}"), R"(["official","usual"])");
}

TEST(FhirPathTypes, IsAsType) {
  EXPECT_EQ(Eval("1 is Integer"), "[true]");
  EXPECT_EQ(Eval("1 is System.Decimal"), "[false]");
  EXPECT_EQ(Eval("active is boolean"), "[true]");
  EXPECT_EQ(Eval("active is FHIR.boolean"), "[true]");
  EXPECT_EQ(Eval("Patient is DomainResource"), "[true]");
  EXPECT_EQ(Eval("gender is string"), "[true]");  // code derives from string
  EXPECT_EQ(Eval("gender.as(string)"), "[]");     // but as() casts exactly
  EXPECT_EQ(Eval("(1 as Integer) + 1"), "[2]");
  EXPECT_EQ(Eval("{} is Integer"), "[]");
  EXPECT_TRUE(IsError(Eval("(1 | 2) is Integer")));
  EXPECT_EQ(Eval("name.first().type().name"), R"(["HumanName"])");
  EXPECT_EQ(Eval("1.5.type().namespace"), R"(["System"])");
}

}  // namespace
}  // namespace vesta::fhirpath::testing

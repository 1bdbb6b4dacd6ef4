// Lexer and parser: http://hl7.org/fhirpath/N1/grammar.html
#include <gtest/gtest.h>

#include "fhir/fhirpath/test_util.h"

namespace vesta::fhirpath::testing {
namespace {

TEST(FhirPathParser, CommentsAndWhitespace) {
  EXPECT_EQ(Eval("1 + /* two */ 2 // three"), "[3]");
  EXPECT_EQ(Eval("\n\t1\r\n+\n1"), "[2]");
  EXPECT_TRUE(IsError(Eval("1 + /* open")));
}

TEST(FhirPathParser, StringEscapes) {
  EXPECT_EQ(Eval(R"('a\'b\\c\u0041\n')"), R"(["a'b\\cA\n"])");
  EXPECT_TRUE(IsError(Eval(R"('bad \q escape')")));
  EXPECT_TRUE(IsError(Eval("'unterminated")));
}

TEST(FhirPathParser, DelimitedIdentifiersAndKeywordsAsNames) {
  EXPECT_EQ(Eval("Patient.`name`.`given`.first()"), R"(["Peter"])");
  EXPECT_EQ(Eval("name.given.contains('et')"),
            "ERROR: FHIRPath: contains() needs a single string "
            "at position 11");
  EXPECT_EQ(Eval("name.first().given.first().contains('et')"), "[true]");
}

TEST(FhirPathParser, Precedence) {
  EXPECT_EQ(Eval("1 + 2 * 3"), "[7]");
  EXPECT_EQ(Eval("(1 + 2) * 3"), "[9]");
  EXPECT_EQ(Eval("-2.abs()"), "[-2]");  // unary minus binds looser than '.'
  EXPECT_EQ(Eval("(-2).abs()"), "[2]");
  EXPECT_EQ(Eval("true or false and false"), "[true]");  // and binds tighter than or
  EXPECT_EQ(Eval("false implies false or true"), "[true]");
  EXPECT_EQ(Eval("1 | 2 = 1 | 2"), "[true]");  // '|' binds tighter than '='
  EXPECT_EQ(Eval("1 + 1 is Integer"), "[true]");
}

TEST(FhirPathParser, Literals) {
  EXPECT_EQ(Eval("@2015-02-04T14:34:28.123+09:00"), R"(["2015-02-04T14:34:28.123+09:00"])");
  EXPECT_EQ(Eval("@2015T.is(DateTime)"), "[true]");
  EXPECT_EQ(Eval("@2015.is(Date)"), "[true]");
  EXPECT_EQ(Eval("@T14:34"), R"(["14:34"])");
  EXPECT_TRUE(IsError(Eval("@T14:34:28Z")));  // a time has no timezone
  EXPECT_TRUE(IsError(Eval("@2015-13-01")));
  EXPECT_EQ(Eval("4.50 'mg'"), R"([{"value":4.50,"unit":"mg"}])");
  EXPECT_EQ(Eval("3 weeks"), R"([{"value":3,"unit":"weeks"}])");
  EXPECT_EQ(Eval("{}"), "[]");
  EXPECT_EQ(Eval("9223372036854775807"), "[9223372036854775807]");
  EXPECT_TRUE(IsError(Eval("99999999999999999999")));
}

TEST(FhirPathParser, ErrorsNameThePosition) {
  EXPECT_EQ(Eval("name.given.frist()"), "ERROR: FHIRPath: unknown function 'frist' at position 11");
  EXPECT_EQ(Eval("name.where()"),
            "ERROR: FHIRPath: wrong number of arguments for where(): 0 at "
            "position 5");
  EXPECT_EQ(Eval("1 +"), "ERROR: FHIRPath: unexpected end of expression at position 3");
  EXPECT_EQ(Eval("(1"), "ERROR: FHIRPath: expected ')' before the end at position 2");
  EXPECT_EQ(Eval("1 ; 2"), "ERROR: FHIRPath: unexpected character ';' at position 2");
  EXPECT_EQ(Eval("$that"), "ERROR: FHIRPath: unknown special variable '$that' at position 0");
  EXPECT_TRUE(IsError(Eval("name.is(NoSuchType)")));
}

TEST(FhirPathParser, DeepNestingIsRefusedNotCrashed) {
  std::string deep(5000, '(');
  deep += "1";
  deep += std::string(5000, ')');
  EXPECT_TRUE(IsError(Eval(deep)));
  std::string minus(5000, '-');
  EXPECT_TRUE(IsError(Eval(minus + "1")));
}

TEST(FhirPathParser, CompileOnceEvaluateMany) {
  Result<Expression> e = Expression::Compile("name.given.count()");
  ASSERT_TRUE(e.ok());
  for (int i = 0; i < 3; ++i) {
    Result<json::Document> doc = json::Parse(kPatient);
    ASSERT_TRUE(doc.ok());
    Result<Collection> r = e->Evaluate(doc->root());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(CollectionToJson(*r), "[3]");
  }
  EXPECT_EQ(e->text(), "name.given.count()");
}

}  // namespace
}  // namespace vesta::fhirpath::testing

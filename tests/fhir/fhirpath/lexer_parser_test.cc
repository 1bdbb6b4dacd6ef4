// Lexer and parser: http://hl7.org/fhirpath/N1/grammar.html
#include <gtest/gtest.h>

#include "fhir/fhirpath/test_util.h"

namespace vesta::fhirpath::testing {
namespace {

TEST(FhirPathParser, CommentsAndWhitespace) { EXPECT_EQ(Eval("\n\t1\r\n+\n1"), "[2]"); }

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

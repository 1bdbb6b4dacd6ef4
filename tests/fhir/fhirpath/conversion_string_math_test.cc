// Conversions, string manipulation and math:
// http://hl7.org/fhirpath/N1/#conversion, #string-manipulation, #math
#include <gtest/gtest.h>

#include "fhir/fhirpath/test_util.h"

namespace vesta::fhirpath::testing {
namespace {

TEST(FhirPathConversion, ToAndConvertsTo) {
  EXPECT_EQ(Eval("'1.0'.toInteger()"), "[]");
  EXPECT_EQ(Eval("'-12'.toInteger()"), "[-12]");
  EXPECT_EQ(Eval("true.toInteger()"), "[1]");
  EXPECT_EQ(Eval("'1.50'.toDecimal()"), "[1.50]");
  EXPECT_EQ(Eval("'1.'.convertsToDecimal()"), "[false]");
  EXPECT_EQ(Eval("'Yes'.toBoolean()"), "[true]");
  EXPECT_EQ(Eval("2.toBoolean()"), "[]");
  EXPECT_EQ(Eval("'2020-02'.toDate()"), R"(["2020-02"])");
  EXPECT_EQ(Eval("'2020-02-30'.convertsToDate()"), "[false]");
  EXPECT_EQ(Eval("@2020-02-03.toDateTime().is(DateTime)"), "[true]");
  EXPECT_EQ(Eval("'10:30'.toTime()"), R"(["10:30"])");
  EXPECT_EQ(Eval("'5 \\'mg\\''.toQuantity()"), R"([{"value":5,"unit":"mg"}])");
  EXPECT_EQ(Eval("'5 days'.toQuantity()"), R"([{"value":5,"unit":"days"}])");
  EXPECT_EQ(Eval("'5 parsecs'.convertsToQuantity()"), "[false]");
  EXPECT_EQ(Eval("1000 'mg'.toQuantity('g')"), R"([{"value":1.000,"unit":"g"}])");
  EXPECT_EQ(Eval("1 'm'.toQuantity('g')"), "[]");
  EXPECT_EQ(Eval("4 days.toString()"), R"(["4 days"])");
  EXPECT_EQ(Eval("4 'd'.toString()"), R"(["4 'd'"])");
  EXPECT_EQ(Eval("{}.toString()"), "[]");
  EXPECT_TRUE(IsError(Eval("(1 | 2).toString()")));
  EXPECT_EQ(Eval("iif({}, 1, 2)"), "[2]");
  EXPECT_EQ(Eval("iif(true, 1)"), "[1]");
  EXPECT_EQ(Eval("iif(false, 1)"), "[]");
}

TEST(FhirPathString, EdgeCases) {
  EXPECT_EQ(Eval("'abc'.substring(1)"), R"(["bc"])");
  EXPECT_EQ(Eval("'abc'.substring(1, 100)"), R"(["bc"])");
  EXPECT_EQ(Eval("'abc'.substring(3)"), "[]");
  EXPECT_EQ(Eval("'abc'.substring(-1)"), "[]");
  EXPECT_EQ(Eval("'abc'.substring(1, -1)"), R"([""])");
  EXPECT_EQ(Eval("'abc'.indexOf('')"), "[0]");
  EXPECT_EQ(Eval("'abc'.indexOf('x')"), "[-1]");
  EXPECT_EQ(Eval("'abc'.startsWith('')"), "[true]");
  EXPECT_EQ(Eval("'abcabc'.replace('b', 'XY')"), R"(["aXYcaXYc"])");
  EXPECT_EQ(Eval("'abc'.upper().lower()"), R"(["abc"])");
  EXPECT_EQ(Eval("'héllo'.length()"), "[5]");  // characters, not bytes
  EXPECT_EQ(Eval("'ab'.toChars()"), R"(["a","b"])");
  EXPECT_EQ(Eval("'a,b,,c'.split(',')"), R"(["a","b","","c"])");
  EXPECT_EQ(Eval("('a' | 'b').join('-')"), R"(["a-b"])");
  EXPECT_EQ(Eval("'  x '.trim()"), R"(["x"])");
  EXPECT_EQ(Eval("'hi'.encode('base64')"), R"(["aGk="])");
  EXPECT_EQ(Eval("'aGk='.decode('base64')"), R"(["hi"])");
  EXPECT_EQ(Eval("'hi'.encode('hex')"), R"(["6869"])");
  EXPECT_EQ(Eval("'<a>'.escape('html')"), R"(["&lt;a&gt;"])");
  EXPECT_EQ(Eval("'a1b22'.replaceMatches('[0-9]+', '#')"), R"(["a#b#"])");
  EXPECT_EQ(Eval("'abc'.matches('^a.c$')"), "[true]");
  EXPECT_EQ(Eval("'abc'.matchesFull('b')"), "[false]");
  EXPECT_TRUE(IsError(Eval("'abc'.matches('(')")));  // a bad pattern is an error, not a crash
  // Patterns that make a backtracking engine take exponential time are refused.
  EXPECT_TRUE(IsError(Eval("'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab'.matches('(a+)+c')")));
  EXPECT_TRUE(IsError(Eval("'aaaa'.matches('a*+c')")));
  EXPECT_EQ(Eval("'123-4567'.matches('^([0-9]{3}-)?[0-9]{4}$')"), "[true]");
  EXPECT_EQ(Eval("'ab'.matches('(a|b)+')"), "[true]");  // no nested repetition: allowed
  EXPECT_TRUE(IsError(Eval("name.startsWith('a')")));   // not a string
  EXPECT_EQ(Eval("{}.upper()"), "[]");
}

TEST(FhirPathMath, Functions) {
  EXPECT_EQ(Eval("(-5).abs()"), "[5]");
  EXPECT_EQ(Eval("(-5.5 'mg').abs()"), R"([{"value":5.5,"unit":"mg"}])");
  EXPECT_EQ(Eval("1.1.ceiling()"), "[2]");
  EXPECT_EQ(Eval("(-1.1).floor()"), "[-2]");
  EXPECT_EQ(Eval("(-1.9).truncate()"), "[-1]");
  EXPECT_EQ(Eval("3.14159.round(3)"), "[3.142]");
  EXPECT_EQ(Eval("2.5.round()"), "[3]");
  EXPECT_EQ(Eval("(-1).sqrt()"), "[]");
  EXPECT_EQ(Eval("16.sqrt()"), "[4]");
  EXPECT_EQ(Eval("2.power(10)"), "[1024]");
  EXPECT_EQ(Eval("(-1).power(0.5)"), "[]");
  EXPECT_EQ(Eval("100.log(10)"), "[2]");
  EXPECT_EQ(Eval("0.ln()"), "[]");
  EXPECT_EQ(Eval("1.exp()"), "[2.71828183]");
  EXPECT_TRUE(IsError(Eval("'a'.abs()")));
}

TEST(FhirPathBoundaries, DecimalsAndDates) {
  EXPECT_EQ(Eval("1.587.lowBoundary()"), "[1.58650000]");
  EXPECT_EQ(Eval("1.587.highBoundary(2)"), "[1.59]");
  EXPECT_EQ(Eval("1.587.precision()"), "[3]");
  EXPECT_EQ(Eval("@2014.highBoundary(8)"), R"(["2014-12-31"])");
  EXPECT_EQ(Eval("@2016-02.highBoundary(8)"), R"(["2016-02-29"])");
  EXPECT_EQ(Eval("@T10:30.lowBoundary(9)"), R"(["10:30:00.000"])");
}

}  // namespace
}  // namespace vesta::fhirpath::testing

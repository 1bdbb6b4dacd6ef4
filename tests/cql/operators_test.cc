// The ELM evaluator's operators, one group per test, with CQL's edge cases
// (https://cql.hl7.org/09-b-cqlreference.html): null propagation and three-valued logic, interval
// boundaries (open, closed, null), DateTime comparisons across precisions that give null,
// calendar arithmetic, UCUM conversions, lists, queries, overloads, retrieves, and the check of
// node types at load. Each expression is ELM JSON built with the small helpers below.
#include <gtest/gtest.h>

#include <string>

#include "cql/evaluator.h"
#include "cql/library.h"
#include "json/parse.h"

namespace vesta::cql {
namespace {

std::string Lit(std::string_view type, std::string_view value) {
  return R"({"type":"Literal","valueType":"{urn:hl7-org:elm-types:r1})" + std::string(type) +
         R"(","value":")" + std::string(value) + R"("})";
}
std::string I(int v) { return Lit("Integer", std::to_string(v)); }
std::string Dec(std::string_view v) { return Lit("Decimal", v); }
std::string S(std::string_view v) { return Lit("String", v); }
std::string B(bool v) { return Lit("Boolean", v ? "true" : "false"); }
const std::string N = R"({"type":"Null"})";
std::string Q(std::string_view value, std::string_view unit) {
  return R"({"type":"Quantity","value":)" + std::string(value) + R"(,"unit":")" +
         std::string(unit) + R"("})";
}
// A DateTime (or Date with `type` "Date") with as many components as given.
std::string DT(std::initializer_list<int> parts, std::string_view type = "DateTime",
               std::string tz = "") {
  static const char* kNames[] = {"year", "month", "day", "hour", "minute", "second", "millisecond"};
  std::string s = R"({"type":")" + std::string(type) + R"(")";
  int i = 0;
  for (int p : parts) s += R"(,")" + std::string(kNames[i++]) + R"(":)" + I(p);
  if (!tz.empty()) s += R"(,"timezoneOffset":)" + Dec(tz);
  return s + "}";
}
std::string Op(std::string_view type, std::initializer_list<std::string> operands,
               std::string extra = "") {
  std::string s = R"({"type":")" + std::string(type) + R"(","operand":[)";
  bool first = true;
  for (const std::string& o : operands) {
    s += (first ? "" : ",") + o;
    first = false;
  }
  return s + "]" + extra + "}";
}
std::string Op1(std::string_view type, const std::string& operand, std::string extra = "") {
  return R"({"type":")" + std::string(type) + R"(","operand":)" + operand + extra + "}";
}
std::string Iv(const std::string& lo, const std::string& hi, bool lc = true, bool hc = true) {
  return R"({"type":"Interval","low":)" + lo + R"(,"high":)" + hi + R"(,"lowClosed":)" +
         (lc ? "true" : "false") + R"(,"highClosed":)" + (hc ? "true" : "false") + "}";
}
std::string L(std::initializer_list<std::string> items) {
  std::string s = R"({"type":"List","element":[)";
  bool first = true;
  for (const std::string& i : items) {
    s += (first ? "" : ",") + i;
    first = false;
  }
  return s + "]}";
}
std::string Prec(std::string_view p) { return R"(,"precision":")" + std::string(p) + R"(")"; }

class Elm : public ::testing::Test {
 protected:
  // Evaluates `expr` as definition "X" of a library that also holds `defs` (more statements).
  Result<Value> Run(const std::string& expr, const std::string& defs = "",
                    const std::string& sections = "") {
    LibrarySet libs;
    std::string text = R"({"library":{"identifier":{"id":"T","version":"1"},)" + sections +
                       R"("statements":{"def":[{"name":"X","context":"Patient","expression":)" +
                       expr + "}" + defs + "]}}}";
    Status s = libs.AddElmJson(text);
    if (!s.ok()) return s;
    RETURN_IF_ERROR(libs.Link());
    EvaluationSettings settings;
    settings.now.year = 2019;
    Evaluator ev(libs, terminology_, data_, settings);
    return ev.Evaluate(*libs.Find("T"), "X");
  }
  // The result as text, or "error: ..." for a failed evaluation.
  std::string Eval(const std::string& expr, const std::string& defs = "",
                   const std::string& sections = "") {
    Result<Value> v = Run(expr, defs, sections);
    if (!v.ok()) return "error: " + v.status().message();
    return ToDebugString(*v);
  }

  Terminology terminology_;
  InMemoryDataProvider data_;
};

TEST_F(Elm, NullPropagationAndThreeValuedLogic) {
  EXPECT_EQ(Eval(Op("Add", {I(1), N})), "null");
  EXPECT_EQ(Eval(Op("Equal", {I(1), N})), "null");
  EXPECT_EQ(Eval(Op("Equivalent", {N, N})), "true");
  EXPECT_EQ(Eval(Op("Equivalent", {I(1), N})), "false");
  EXPECT_EQ(Eval(Op("And", {N, B(false)})), "false");
  EXPECT_EQ(Eval(Op("And", {N, B(true)})), "null");
  EXPECT_EQ(Eval(Op("Or", {N, B(true)})), "true");
  EXPECT_EQ(Eval(Op("Or", {N, B(false)})), "null");
  EXPECT_EQ(Eval(Op1("Not", N)), "null");
  EXPECT_EQ(Eval(Op("Implies", {B(false), N})), "true");
  EXPECT_EQ(Eval(Op("Xor", {B(true), N})), "null");
  EXPECT_EQ(Eval(Op1("IsNull", N)), "true");
  EXPECT_EQ(Eval(Op1("IsTrue", N)), "false");
  EXPECT_EQ(Eval(Op("Coalesce", {N, N, I(3)})), "3");
  EXPECT_EQ(Eval(Op("Concatenate", {S("a"), N})), "null");
  // If with a null condition takes the else branch.
  EXPECT_EQ(
      Eval(R"({"type":"If","condition":)" + N + R"(,"then":)" + I(1) + R"(,"else":)" + I(2) + "}"),
      "2");
}

TEST_F(Elm, ArithmeticAndStrings) {
  EXPECT_EQ(Eval(Op("Add", {I(2), I(3)})), "5");
  EXPECT_EQ(Eval(Op("Divide", {Dec("1.0"), Dec("0.0")})), "null");
  EXPECT_EQ(Eval(Op("Divide", {Dec("10.0"), Dec("4.0")})), "2.5");
  EXPECT_EQ(Eval(Op("Modulo", {I(7), I(3)})), "1");
  EXPECT_EQ(Eval(Op("TruncatedDivide", {I(7), I(2)})), "3");
  EXPECT_EQ(Eval(Op1("Negate", I(4))), "-4");
  EXPECT_EQ(Eval(Op("Concatenate", {S("a"), S("b")})), "'ab'");
  EXPECT_EQ(Eval(R"({"type":"Split","stringToSplit":)" + S("Patient/123") + R"(,"separator":)" +
                 S("/") + "}"),
            "{'Patient', '123'}");
  EXPECT_EQ(Eval(Op("Indexer", {S("abc"), I(1)})), "'b'");
  EXPECT_EQ(Eval(Op("Indexer", {L({I(1)}), I(5)})), "null");
  EXPECT_EQ(Eval(Op("Equivalent", {S("Hello  World"), S("hello world")})), "true");
  EXPECT_EQ(Eval(Op("Equal", {S("Hello"), S("hello")})), "false");
  EXPECT_EQ(Eval(Op("EndsWith", {S("Patient/123"), S("123")})), "true");
}

TEST_F(Elm, DateTimePrecisionComparisons) {
  // https://cql.hl7.org/09-b-cqlreference.html#equal: different precisions that agree -> null.
  EXPECT_EQ(Eval(Op("Equal", {DT({2012, 1, 1}), DT({2012, 1, 1, 10})})), "null");
  EXPECT_EQ(Eval(Op("Less", {DT({2012, 1}), DT({2012, 1, 15})})), "null");
  EXPECT_EQ(Eval(Op("Less", {DT({2012}), DT({2013, 1, 1})})), "true");
  EXPECT_EQ(Eval(Op("Equal", {DT({2012, 2}), DT({2012, 1, 1})})), "false");
  // Seconds and milliseconds are one precision.
  EXPECT_EQ(Eval(Op("Equal", {DT({2012, 1, 1, 0, 0, 5}), DT({2012, 1, 1, 0, 0, 5, 0})})), "true");
  // Offsets are normalised: 00:00Z is 17:00 the day before at -07:00.
  EXPECT_EQ(Eval(Op("Equal", {DT({2019, 1, 1, 0, 0, 0, 0}, "DateTime", "0.0"),
                              DT({2018, 12, 31, 17, 0, 0, 0}, "DateTime", "-7.0")})),
            "true");
  // Comparison at a precision: same day although the hours differ.
  EXPECT_EQ(Eval(Op("SameAs", {DT({2019, 3, 1, 8}), DT({2019, 3, 1, 23})}, Prec("Day"))), "true");
  EXPECT_EQ(Eval(Op("SameAs", {DT({2019, 3}), DT({2019, 3, 1})}, Prec("Day"))), "null");
  EXPECT_EQ(Eval(Op("SameOrBefore", {DT({2019, 3, 1, 8}), DT({2019, 3, 1, 2})}, Prec("Day"))),
            "true");
  EXPECT_EQ(Eval(Op("Before", {DT({2019, 3, 1, 8}), DT({2019, 3, 1, 9})})), "true");
  EXPECT_EQ(Eval(Op("After", {DT({2019, 3, 2}), DT({2019, 3, 1})}, Prec("Day"))), "true");
}

TEST_F(Elm, DateTimeArithmeticAndDurations) {
  // Month arithmetic clamps to the end of the month.
  EXPECT_EQ(Eval(Op("Add", {DT({2019, 1, 31}, "Date"), Q("1", "month")})),
            Eval(DT({2019, 2, 28}, "Date")));
  EXPECT_EQ(Eval(Op("Subtract", {DT({2020, 2, 29}, "Date"), Q("1", "year")})),
            Eval(DT({2019, 2, 28}, "Date")));
  EXPECT_EQ(Eval(Op("Add", {DT({2019, 12, 31, 23}), Q("2", "hours")})), Eval(DT({2020, 1, 1, 1})));
  // A finer quantity than the value's precision is truncated to it.
  EXPECT_EQ(Eval(Op("Add", {DT({2019, 1}), Q("45", "days")})), Eval(DT({2019, 2})));
  // Whole years between a birth date and a date: the birthday decides.
  EXPECT_EQ(Eval(Op("DurationBetween", {DT({1965, 6, 30}, "Date"), DT({2019, 1, 1}, "Date")},
                    Prec("Year"))),
            "53");
  EXPECT_EQ(Eval(Op("CalculateAgeAt", {DT({1965, 6, 30}, "Date"), DT({2019, 6, 30}, "Date")},
                    Prec("Year"))),
            "54");
  EXPECT_EQ(Eval(Op("DurationBetween", {DT({2019, 1, 31}, "Date"), DT({2019, 3, 30}, "Date")},
                    Prec("Month"))),
            "1");
  EXPECT_EQ(Eval(Op("DurationBetween", {DT({2019, 1, 1, 23}), DT({2019, 1, 2, 1})}, Prec("Day"))),
            "0");
  EXPECT_EQ(Eval(Op("DifferenceBetween", {DT({2019, 1, 1, 23}), DT({2019, 1, 2, 1})}, Prec("Day"))),
            "1");
  // Years between a birth year and a date: computed at year precision, as the reference engine.
  EXPECT_EQ(
      Eval(Op("DurationBetween", {DT({1965}, "Date"), DT({2019, 1, 1}, "Date")}, Prec("Year"))),
      "54");
  // Both on the last day of February: whole years
  // (https://cql.hl7.org/15-h-timeintervalcalculations.html).
  EXPECT_EQ(Eval(Op("DurationBetween", {DT({2012, 2, 29}, "Date"), DT({2014, 2, 28}, "Date")},
                    Prec("Year"))),
            "2");
  // Too coarse for the precision asked: an uncertainty interval, which compares where all its
  // values agree (https://cql.hl7.org/05-languagesemantics.html#uncertainty).
  const std::string months =
      Op("DurationBetween", {DT({2018}, "Date"), DT({2019, 6, 15}, "Date")}, Prec("Month"));
  EXPECT_EQ(Eval(months), "Interval[5, 17]");
  EXPECT_EQ(Eval(Op("GreaterOrEqual", {months, I(5)})), "true");
  EXPECT_EQ(Eval(Op("Less", {months, I(5)})), "false");
  EXPECT_EQ(Eval(Op("GreaterOrEqual", {months, I(12)})), "null");
  EXPECT_EQ(Eval(Op("Equal", {months, I(5)})), "null");
  EXPECT_EQ(Eval(Op("In", {months, Iv(I(0), I(24), true, false)})), "true");
  EXPECT_EQ(Eval(Op1("DateFrom", DT({2019, 5, 6, 7}))), Eval(DT({2019, 5, 6}, "Date")));
  EXPECT_EQ(Eval(Op1("DateTimeComponentFrom", DT({2019, 5}), Prec("Year"))), "2019");
  EXPECT_EQ(Eval(Op1("DateTimeComponentFrom", DT({2019, 5}), Prec("Day"))), "null");
  EXPECT_EQ(Eval(Op1("ToString", DT({2019, 5, 6}, "Date"))), "'2019-05-06'");
}

TEST_F(Elm, IntervalBoundaries) {
  EXPECT_EQ(Eval(Op("In", {I(5), Iv(I(1), I(5), true, false)})), "false");
  EXPECT_EQ(Eval(Op("In", {I(5), Iv(I(1), I(5))})), "true");
  EXPECT_EQ(Eval(Op("In", {I(1), Iv(I(1), I(5), false, true)})), "false");
  // A closed null bound is the point type's extreme; an open null bound is unknown.
  EXPECT_EQ(Eval(Op("In", {I(100), Iv(I(1), N)})), "true");
  EXPECT_EQ(Eval(Op("In", {I(3), Iv(N, I(5), false, true)})), "null");
  EXPECT_EQ(Eval(Op1("End", Iv(DT({2019, 1, 1}), N))), Eval(DT({9999, 12, 31, 23, 59, 59, 999})));
  EXPECT_EQ(Eval(Op1("Start", Iv(I(1), I(5), false, true))), "2");
  EXPECT_EQ(Eval(Op("In", {N, Iv(I(1), I(5))})), "null");
  EXPECT_EQ(Eval(Op("Overlaps", {Iv(I(1), I(5)), Iv(I(5), I(10))})), "true");
  EXPECT_EQ(Eval(Op("Overlaps", {Iv(I(1), I(5), true, false), Iv(I(5), I(10))})), "false");
  EXPECT_EQ(Eval(Op("Meets", {Iv(I(1), I(5)), Iv(I(6), I(10))})), "true");
  EXPECT_EQ(Eval(Op("IncludedIn", {Iv(I(2), I(4)), Iv(I(1), I(5))})), "true");
  EXPECT_EQ(Eval(Op("IncludedIn", {Iv(I(2), I(6)), Iv(I(1), I(5))})), "false");
  EXPECT_EQ(Eval(Op("Contains", {Iv(I(1), I(5)), I(3)})), "true");
  EXPECT_EQ(Eval(Op1("Width", Iv(I(1), I(5)))), "4");
  // "during" at day precision: a DateTime in a period given as dates.
  EXPECT_EQ(Eval(Op("In", {DT({2019, 12, 31, 10}), Iv(DT({2019, 1, 1}), DT({2019, 12, 31}))},
                    Prec("Day"))),
            "true");
  EXPECT_EQ(Eval(Op("Collapse",
                    {L({Iv(I(1), I(5)), Iv(I(4), I(8)), Iv(I(9), I(9)), Iv(I(12), I(13))}), N})),
            "{Interval[1, 9], Interval[12, 13]}");
  EXPECT_EQ(Eval(Op("Expand", {L({Iv(I(1), I(3))}), N})),
            "{Interval[1, 1], Interval[2, 2], Interval[3, 3]}");
  EXPECT_EQ(Eval(Op("Union", {Iv(I(1), I(5)), Iv(I(6), I(8))})), "Interval[1, 8]");
  EXPECT_EQ(Eval(Op("Intersect", {Iv(I(1), I(5)), Iv(I(3), I(8))})), "Interval[3, 5]");
}

TEST_F(Elm, IntervalRelations) {
  EXPECT_EQ(Eval(Op("Starts", {Iv(I(1), I(3)), Iv(I(1), I(5))})), "true");
  EXPECT_EQ(Eval(Op("Starts", {Iv(I(2), I(3)), Iv(I(1), I(5))})), "false");
  EXPECT_EQ(Eval(Op("Ends", {Iv(I(3), I(5)), Iv(I(1), I(5))})), "true");
  EXPECT_EQ(Eval(Op("Ends", {Iv(I(3), I(6), true, false), Iv(I(1), I(5))})), "true");
  EXPECT_EQ(Eval(Op("MeetsBefore", {Iv(I(1), I(5)), Iv(I(6), I(9))})), "true");
  EXPECT_EQ(Eval(Op("MeetsAfter", {Iv(I(1), I(5)), Iv(I(6), I(9))})), "false");
  EXPECT_EQ(Eval(Op("OverlapsBefore", {Iv(I(1), I(5)), Iv(I(3), I(9))})), "true");
  EXPECT_EQ(Eval(Op("OverlapsAfter", {Iv(I(1), I(5)), Iv(I(3), I(9))})), "false");
  EXPECT_EQ(Eval(Op("ProperIncludedIn", {Iv(I(1), I(5)), Iv(I(1), I(5))})), "false");
  EXPECT_EQ(Eval(Op("ProperIncludedIn", {Iv(I(2), I(5)), Iv(I(1), I(5))})), "true");
  EXPECT_EQ(Eval(Op("ProperIncludes", {L({I(1), I(2)}), L({I(2)})})), "true");
  // Starts at day precision: the hours do not count.
  EXPECT_EQ(Eval(Op("Starts",
                    {Iv(DT({2019, 1, 1, 8}), DT({2019, 1, 2})),
                     Iv(DT({2019, 1, 1, 1}), DT({2019, 2, 1}))},
                    Prec("Day"))),
            "true");
}

TEST_F(Elm, MathAndStrings) {
  EXPECT_EQ(Eval(Op1("Round", Dec("2.5"))), "3");
  EXPECT_EQ(Eval(Op1("Round", Dec("-2.5"))), "-2");
  EXPECT_EQ(
      Eval(R"({"type":"Round","operand":)" + Dec("3.14159") + R"(,"precision":)" + I(2) + "}"),
      "3.14");
  EXPECT_EQ(Eval(Op1("Floor", Dec("-1.5"))), "-2");
  EXPECT_EQ(Eval(Op1("Ceiling", Dec("1.1"))), "2");
  EXPECT_EQ(Eval(Op1("Truncate", Dec("-1.7"))), "-1");
  EXPECT_EQ(Eval(Op("Power", {I(2), I(10)})), "1024");
  EXPECT_EQ(Eval(Op1("Ln", Dec("0.0"))), "null");
  EXPECT_EQ(Eval(Op1("Floor", N)), "null");
  EXPECT_EQ(Eval(R"({"type":"Substring","stringToSub":)" + S("abcdef") + R"(,"startIndex":)" +
                 I(2) + R"(,"length":)" + I(3) + "}"),
            "'cde'");
  EXPECT_EQ(
      Eval(R"({"type":"Substring","stringToSub":)" + S("abc") + R"(,"startIndex":)" + I(9) + "}"),
      "null");
  EXPECT_EQ(
      Eval(R"({"type":"PositionOf","pattern":)" + S("cd") + R"(,"string":)" + S("abcdef") + "}"),
      "2");
}

// Codes as Instance selectors: system, code, version, display.
std::string Code(std::string_view system, std::string_view code, std::string_view version = "",
                 std::string_view display = "") {
  std::string s = R"({"type":"Instance","classType":"{urn:hl7-org:elm-types:r1}Code","element":[)";
  s += R"({"name":"system","value":)" + S(system) + R"(},{"name":"code","value":)" + S(code) + "}";
  if (!version.empty()) s += R"(,{"name":"version","value":)" + S(version) + "}";
  if (!display.empty()) s += R"(,{"name":"display","value":)" + S(display) + "}";
  return s + "]}";
}

TEST_F(Elm, CodesAndTerminology) {
  // Equality is tuple equality over code, system and version (a version on one side only makes
  // it unknown); the display is not compared. Equivalence is system and code.
  EXPECT_EQ(Eval(Op("Equal", {Code("s", "1"), Code("s", "1", "", "One")})), "true");
  EXPECT_EQ(Eval(Op("Equal", {Code("s", "1"), Code("s", "1", "2019")})), "null");
  EXPECT_EQ(Eval(Op("Equal", {Code("s", "1"), Code("t", "1")})), "false");
  EXPECT_EQ(Eval(Op("Equivalent", {Code("s", "1"), Code("s", "1", "2019")})), "true");
  EXPECT_EQ(Eval(Op("Equivalent",
                    {Op1("ToConcept", L({Code("s", "1"), Code("s", "2")})), Code("s", "2")})),
            "true");
  EXPECT_EQ(Eval(Op("In", {Code("s", "1"), L({Code("s", "2"), Code("s", "1")})})), "true");
  Result<json::Document> vs = json::Parse(R"({"resourceType":"ValueSet","url":"urn:vs:1",
    "compose":{"include":[{"system":"s","concept":[{"code":"1"},{"code":"3"}]}]}})");
  ASSERT_TRUE(vs.ok());
  terminology_.AddValueSet(vs->root());
  const std::string sections = R"("valueSets":{"def":[{"name":"VS","id":"urn:vs:1"}]},)";
  auto in_vs = [&](const std::string& code) {
    return Eval(R"({"type":"InValueSet","code":)" + code + R"(,"valueset":{"name":"VS"}})", "",
                sections);
  };
  EXPECT_EQ(in_vs(Code("s", "3", "v9")), "true");
  EXPECT_EQ(in_vs(Code("t", "3")), "false");
  EXPECT_EQ(in_vs(N), "false");
  EXPECT_EQ(in_vs(S("3")), "true");
  EXPECT_EQ(in_vs(S("2")), "false");
  EXPECT_EQ(Eval(R"({"type":"AnyInValueSet","codes":)" + L({Code("t", "1"), Code("s", "1")}) +
                     R"(,"valueset":{"name":"VS"}})",
                 "", sections),
            "true");
}

TEST_F(Elm, QuantitiesWithUcum) {
  EXPECT_EQ(Eval(Op("Equal", {Q("1", "g"), Q("1000", "mg")})), "true");
  EXPECT_EQ(Eval(Op("Greater", {Q("5.5", "mg"), Q("5400", "ug")})), "true");
  EXPECT_EQ(Eval(Op("Equal", {Q("1", "m"), Q("1", "g")})), "null");
  EXPECT_EQ(Eval(Op("Greater", {Q("9.1", "%"), Q("9", "%")})), "true");
  EXPECT_EQ(Eval(Op("Equal", {Q("1", "year"), Q("12", "mo")})), "true");
  EXPECT_EQ(Eval(Op("Add", {Q("1", "g"), Q("500", "mg")})), "1.5 'g'");
  EXPECT_EQ(Eval(Op("Multiply", {Q("24", "hours"), Op1("ToQuantity", I(2))})), "48 'hours'");
}

TEST_F(Elm, Lists) {
  EXPECT_EQ(Eval(Op1("Exists", L({N}))), "false");
  EXPECT_EQ(Eval(Op1("Exists", N)), "false");
  EXPECT_EQ(Eval(R"({"type":"Count","source":)" + L({I(1), N, I(3)}) + "}"), "2");
  EXPECT_EQ(Eval(R"({"type":"Count","source":)" + N + "}"), "0");
  EXPECT_EQ(Eval(R"({"type":"Sum","source":)" + L({I(1), N, I(3)}) + "}"), "4");
  EXPECT_EQ(Eval(R"({"type":"Max","source":)" + L({DT({2019}), DT({2020})}) + "}"),
            Eval(DT({2020})));
  EXPECT_EQ(Eval(R"({"type":"Min","source":)" + L({}) + "}"), "null");
  EXPECT_EQ(Eval(R"({"type":"First","source":)" + L({}) + "}"), "null");
  EXPECT_EQ(Eval(R"({"type":"Last","source":)" + L({I(1), I(2)}) + "}"), "2");
  EXPECT_EQ(Eval(Op("Union", {L({I(1), I(2)}), L({I(2), I(3)})})), "{1, 2, 3}");
  EXPECT_EQ(Eval(Op("Union", {L({I(1)}), N})), "{1}");
  EXPECT_EQ(Eval(Op("Intersect", {L({I(1), I(2)}), L({I(2), I(3)})})), "{2}");
  EXPECT_EQ(Eval(Op("Except", {L({I(1), I(2)}), L({I(2)})})), "{1}");
  EXPECT_EQ(Eval(Op1("Flatten", L({L({I(1)}), L({I(2), I(3)})}))), "{1, 2, 3}");
  EXPECT_EQ(Eval(Op1("Distinct", L({I(1), I(1), N, N}))), "{1, null}");
  EXPECT_EQ(Eval(Op1("SingletonFrom", L({}))), "null");
  EXPECT_TRUE(Eval(Op1("SingletonFrom", L({I(1), I(2)}))).starts_with("error: "));
  EXPECT_EQ(
      Eval(R"({"type":"IndexOf","source":)" + L({I(5), I(7)}) + R"(,"element":)" + I(7) + "}"),
      "1");
  EXPECT_EQ(Eval(Op("In", {I(2), L({I(1), I(2)})})), "true");
  EXPECT_EQ(Eval(Op("In", {N, L({I(1), N})})), "true");
  EXPECT_EQ(Eval(Op1("ToList", N)), "{}");
}

TEST_F(Elm, Queries) {
  const std::string src = R"({"alias":"X","expression":)" + L({I(3), I(1), I(2), I(3)}) + "}";
  auto alias = [](std::string_view a) {
    return R"({"type":"AliasRef","name":")" + std::string(a) + R"("})";
  };
  // where, return (distinct by default), sort descending.
  EXPECT_EQ(Eval(R"({"type":"Query","source":[)" + src + R"(],"where":)" +
                 Op("Greater", {alias("X"), I(1)}) + R"(,"return":{"expression":)" + alias("X") +
                 R"(},"sort":{"by":[{"type":"ByDirection","direction":"desc"}]}})"),
            "{3, 2}");
  // Without a return clause duplicates stay.
  EXPECT_EQ(Eval(R"({"type":"Query","source":[)" + src + "]}"), "{3, 1, 2, 3}");
  // let, and a with clause.
  EXPECT_EQ(
      Eval(R"({"type":"Query","source":[)" + src + R"(],"let":[{"identifier":"Y","expression":)" +
           Op("Add", {alias("X"), I(10)}) +
           R"(}],"relationship":[{"type":"With","alias":"Z","expression":)" + L({I(12)}) +
           R"(,"suchThat":)" + Op("Equal", {R"({"type":"QueryLetRef","name":"Y"})", alias("Z")}) +
           R"(}],"return":{"expression":{"type":"QueryLetRef","name":"Y"}}})"),
      "{12}");
  // without.
  EXPECT_EQ(Eval(R"({"type":"Query","source":[)" + src +
                 R"(],"relationship":[{"type":"Without","alias":"Z","expression":)" + L({I(3)}) +
                 R"(,"suchThat":)" + Op("Equal", {alias("X"), alias("Z")}) + "}]}"),
            "{1, 2}");
  // aggregate.
  EXPECT_EQ(Eval(R"({"type":"Query","source":[)" + src +
                 R"(],"aggregate":{"identifier":"R","starting":)" + I(0) + R"(,"expression":)" +
                 Op("Add", {R"({"type":"AliasRef","name":"R"})", alias("X")}) + "}}"),
            "9");
  // A single non-list source gives a single value.
  EXPECT_EQ(Eval(R"({"type":"Query","source":[{"alias":"X","expression":)" + I(4) +
                 R"(}],"return":{"expression":)" + Op("Add", {alias("X"), I(1)}) + "}}"),
            "5");
}

TEST_F(Elm, FunctionOverloadsByOperandType) {
  const std::string defs =
      R"(,{"type":"FunctionDef","name":"F","context":"Patient","operand":[{"name":"a",
      "operandTypeSpecifier":{"type":"NamedTypeSpecifier","name":"{urn:hl7-org:elm-types:r1}Integer"}}],
      "expression":)" +
      S("integer") +
      R"(},{"type":"FunctionDef","name":"F","context":"Patient","operand":[{"name":"a",
      "operandTypeSpecifier":{"type":"NamedTypeSpecifier","name":"{urn:hl7-org:elm-types:r1}String"}}],
      "expression":)" +
      Op("Concatenate", {S("string "), R"({"type":"OperandRef","name":"a"})"}) + "}";
  EXPECT_EQ(Eval(R"({"type":"FunctionRef","name":"F","operand":[)" + I(1) + "]}", defs),
            "'integer'");
  EXPECT_EQ(Eval(R"({"type":"FunctionRef","name":"F","operand":[)" + S("x") + "]}", defs),
            "'string x'");
  // Several overloads and none accepts the argument: an error, not a guess.
  EXPECT_TRUE(Eval(R"({"type":"FunctionRef","name":"F","operand":[)" + B(true) + "]}", defs)
                  .find("no function F(Boolean)") != std::string::npos);
}

TEST_F(Elm, RetrieveWithValueSetAndFhirNavigation) {
  Result<json::Document> bundle = json::Parse(R"({"resourceType":"Bundle","entry":[
    {"resource":{"resourceType":"Patient","id":"p","birthDate":"1965-06-30"}},
    {"resource":{"resourceType":"Observation","id":"o1","status":"final",
      "subject":{"reference":"Patient/p"},
      "code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},
      "effectiveDateTime":"2019-05-01T10:00:00Z","valueQuantity":{"value":9.5,"code":"%"}}},
    {"resource":{"resourceType":"Observation","id":"o2","status":"final",
      "code":{"coding":[{"system":"http://loinc.org","code":"0000-0"}]}}}]})");
  ASSERT_TRUE(bundle.ok());
  data_.AddBundle(bundle->root());
  Result<json::Document> vs = json::Parse(R"({"resourceType":"ValueSet","url":"urn:vs:a1c",
    "expansion":{"contains":[{"system":"http://loinc.org","code":"4548-4"}]}})");
  ASSERT_TRUE(vs.ok());
  terminology_.AddValueSet(vs->root());
  const std::string sections = R"("valueSets":{"def":[{"name":"HbA1c","id":"urn:vs:a1c"}]},)";
  const std::string retrieve =
      R"({"type":"Retrieve","dataType":"{http://hl7.org/fhir}Observation","codeProperty":"code",
      "codeComparator":"in","codes":{"type":"ValueSetRef","name":"HbA1c"}})";
  EXPECT_EQ(Eval(retrieve, "", sections), "{FHIR.Observation}");
  // A choice element resolves by the JSON name present: value -> valueQuantity.
  const std::string first = R"({"type":"First","source":)" + retrieve + "}";
  EXPECT_EQ(Eval(R"({"type":"Property","path":"value.value.value","source":)" + first + "}", "",
                 sections),
            "9.5");
  EXPECT_EQ(
      Eval(
          R"({"type":"Is","operand":{"type":"Property","path":"effective","source":)" + first +
              R"(},"isTypeSpecifier":{"type":"NamedTypeSpecifier","name":"{http://hl7.org/fhir}dateTime"}})",
          "", sections),
      "true");
  EXPECT_EQ(
      Eval(R"({"type":"Property","path":"effective.value","source":)" + first + "}", "", sections),
      Eval(DT({2019, 5, 1, 10, 0, 0}, "DateTime", "0.0")));
  // A date range on the retrieve: the Observation effective in May 2019 only.
  auto ranged = [&](const std::string& range) {
    return Eval(R"({"type":"Retrieve","dataType":"{http://hl7.org/fhir}Observation",
        "dateProperty":"effective","dateRange":)" +
                range + "}");
  };
  // (Bounds at day precision would compare with the second-precision time as null.)
  EXPECT_EQ(ranged(Iv(DT({2019, 5, 1, 0, 0, 0, 0}, "DateTime", "0.0"),
                      DT({2019, 5, 31, 23, 59, 59, 999}, "DateTime", "0.0"))),
            "{FHIR.Observation}");
  EXPECT_EQ(ranged(Iv(DT({2019, 6, 1, 0, 0, 0, 0}), DT({2019, 6, 30, 0, 0, 0, 0}))), "{}");
  // A value set the terminology does not hold is an error, not an empty answer.
  EXPECT_TRUE(Eval(retrieve, "", R"("valueSets":{"def":[{"name":"HbA1c","id":"urn:vs:none"}]},)")
                  .starts_with("error: "));
}

TEST_F(Elm, UnsupportedNodeTypesAreRefusedAtLoad) {
  Result<Value> v = Run(Op("Add", {I(1), R"({"type":"Foo"})"}));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(v.status().message().find("ELM node type Foo"), std::string::npos);
  Result<Value> r = Run(R"({"type":"Retrieve","dataType":"{http://hl7.org/fhir}Observation",
      "dateLowProperty":"issued","dateRange":)" +
                        N + "}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace vesta::cql

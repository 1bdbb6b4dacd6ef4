// Dates, times and quantities: http://hl7.org/fhirpath/N1/#datetime-arithmetic,
// #comparison (partial precision), #quantity-equality (UCUM and calendar durations).
#include <gtest/gtest.h>

#include "fhir/fhirpath/test_util.h"

namespace vesta::fhirpath::testing {
namespace {

TEST(FhirPathDates, PrecisionComparisons) {
  EXPECT_EQ(Eval("@2012 = @2012-01"), "[]");  // different precisions: unknown
  EXPECT_EQ(Eval("@2012 ~ @2012-01"), "[false]");
  EXPECT_EQ(Eval("@2012-02 > @2012"), "[]");
  EXPECT_EQ(Eval("@2013-01 > @2012"), "[true]");  // decided at the common precision
  EXPECT_EQ(Eval("@2012-01-01 < @2012-01-02"), "[true]");
  EXPECT_EQ(Eval("@T10:30:00 = @T10:30:00.000"), "[true]");  // seconds and ms: one precision
  EXPECT_EQ(Eval("@T10:30 = @T10:30:00"), "[]");
  EXPECT_EQ(Eval("@2012-01-01T10:00:00+02:00 = @2012-01-01T08:00:00Z"), "[true]");
  EXPECT_EQ(Eval("@2012-01-01T23:00:00-02:00 > @2012-01-02T00:00:00Z"), "[true]");
  EXPECT_EQ(Eval("@2012-01-01T10:00:00Z = @2012-01-01T10:00:00"), "[]");  // one without zone
  EXPECT_EQ(Eval("birthDate < @2000-01-01"), "[true]");
  EXPECT_EQ(Eval("birthDate = @1974-12-25"), "[true]");
  EXPECT_TRUE(IsError(Eval("@T10:00 < @2012-01-01")));
}

TEST(FhirPathDates, Arithmetic) {
  EXPECT_EQ(Eval("@2020-01-31 + 1 month"), R"(["2020-02-29"])");  // clamped to month end
  EXPECT_EQ(Eval("@2019-02-28 + 1 year"), R"(["2020-02-28"])");
  EXPECT_EQ(Eval("@2020-03-01 - 1 day"), R"(["2020-02-29"])");
  EXPECT_EQ(Eval("@2020 + 18 months"), R"(["2021"])");
  EXPECT_EQ(Eval("@2020-01-01T23:30:00Z + 1 hour"), R"(["2020-01-02T00:30:00Z"])");
  EXPECT_EQ(Eval("@T23:30 + 1 hour"), R"(["00:30"])");             // wraps around midnight
  EXPECT_EQ(Eval("@2020-01-01 + 1.9 days"), R"(["2020-01-02"])");  // whole units only
  EXPECT_TRUE(IsError(Eval("@2020-01-01 + 1 'mo'")));  // UCUM months are not calendar months
  EXPECT_TRUE(IsError(Eval("@2020-01-01 + 1 'kg'")));
  EXPECT_TRUE(IsError(Eval("@2020-01-01 + 1")));
  EXPECT_EQ(Eval("today() > @2000-01-01"), "[true]");
  EXPECT_EQ(Eval("now().is(DateTime)"), "[true]");
}

TEST(FhirPathDates, InjectedClock) {
  Environment env;
  env.now_micros = 1700000000000000;  // 2023-11-14T22:13:20Z
  EXPECT_EQ(Eval("now()", kPatient, env), R"(["2023-11-14T22:13:20.000Z"])");
  EXPECT_EQ(Eval("today()", kPatient, env), R"(["2023-11-14"])");
  EXPECT_EQ(Eval("timeOfDay()", kPatient, env), R"(["22:13:20.000"])");
}

TEST(FhirPathQuantities, UcumAndCalendar) {
  EXPECT_EQ(Eval("1 'g' = 1000 'mg'"), "[true]");
  EXPECT_EQ(Eval("1 'kg' > 999 'g'"), "[true]");
  EXPECT_EQ(Eval("1 '[lb_av]' < 1 'kg'"), "[true]");
  EXPECT_EQ(Eval("100 'mg/dL' = 1 'g/L'"), "[true]");
  EXPECT_EQ(Eval("1 'm' = 1 's'"), "[]");  // not comparable
  EXPECT_EQ(Eval("1 'm' < 1 's'"), "[]");
  EXPECT_EQ(Eval("1 week = 7 days"), "[true]");
  EXPECT_EQ(Eval("1 second = 1 's'"), "[true]");
  EXPECT_EQ(Eval("1 year = 1 'a'"), "[]");  // calendar year vs UCUM year: not comparable
  EXPECT_EQ(Eval("1 year ~ 1 'a'"), "[true]");
  EXPECT_EQ(Eval("1 'g' + 500 'mg'"), R"([{"value":1.500,"unit":"g"}])");
  EXPECT_TRUE(IsError(Eval("1 'g' + 1 'm'")));
  EXPECT_EQ(Eval("2 'm' * 3 'm' = 6 'm2'"), "[true]");
  EXPECT_EQ(Eval("6 'm2' / 3 'm' = 2 'm'"), "[true]");
  EXPECT_EQ(Eval("3 'mg' * 2"), R"([{"value":6,"unit":"mg"}])");
  EXPECT_EQ(Eval("1 'cm'.comparable(1 '[in_i]')"), "[true]");
}

}  // namespace
}  // namespace vesta::fhirpath::testing

// Dates, times and quantities: http://hl7.org/fhirpath/N1/#datetime-arithmetic,
// #comparison (partial precision), #quantity-equality (UCUM and calendar durations).
#include <gtest/gtest.h>

#include "fhir/fhirpath/test_util.h"

namespace vesta::fhirpath::testing {
namespace {

TEST(FhirPathDates, InjectedClock) {
  Environment env;
  env.now_micros = 1700000000000000;  // 2023-11-14T22:13:20Z
  EXPECT_EQ(Eval("now()", kPatient, env), R"(["2023-11-14T22:13:20.000Z"])");
  EXPECT_EQ(Eval("today()", kPatient, env), R"(["2023-11-14"])");
  EXPECT_EQ(Eval("timeOfDay()", kPatient, env), R"(["22:13:20.000"])");
}

}  // namespace
}  // namespace vesta::fhirpath::testing

// The helpers of rest/context.h that interactions share (ETags), and the date ranges of _since
// and _at.
#include "rest/context.h"

#include <gtest/gtest.h>

#include "fhir/datetime.h"

namespace vesta::rest {
namespace {

TEST(ETagTest, ParsesWeakAndStrongForms) {
  EXPECT_EQ(ParseETag("W/\"3\""), 3);
  EXPECT_EQ(ParseETag("\"12\""), 12);
  EXPECT_EQ(ParseETag("7"), 7);
  EXPECT_EQ(ParseETag("W/\"x\""), std::nullopt);
  EXPECT_EQ(ParseETag("W/\"0\""), std::nullopt);
  EXPECT_EQ(ETagFor(5), "W/\"5\"");
}

TEST(DateTimeTest, PrecisionBecomesARange) {
  auto year = fhir::ParseTimeRange("2013");
  ASSERT_TRUE(year.ok());
  EXPECT_EQ(FormatInstant(year->low), "2013-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatInstant(year->high), "2013-12-31T23:59:59.999999Z");
  auto month = fhir::ParseTimeRange("2012-02");
  EXPECT_EQ(FormatInstant(month->high), "2012-02-29T23:59:59.999999Z");
  auto dec = fhir::ParseTimeRange("2013-12");
  EXPECT_EQ(FormatInstant(dec->high), "2013-12-31T23:59:59.999999Z");
  auto day = fhir::ParseTimeRange("2013-01-15");
  EXPECT_EQ(FormatInstant(day->high), "2013-01-15T23:59:59.999999Z");
  auto sec = fhir::ParseTimeRange("2013-01-15T10:00:00+02:00");
  EXPECT_EQ(FormatInstant(sec->low), "2013-01-15T08:00:00.000000Z");
  EXPECT_EQ(FormatInstant(sec->high), "2013-01-15T08:00:00.999999Z");
  auto ms = fhir::ParseTimeRange("2013-01-15T10:00:00.123Z");
  EXPECT_EQ(FormatInstant(ms->low), "2013-01-15T10:00:00.123000Z");
  EXPECT_EQ(FormatInstant(ms->high), "2013-01-15T10:00:00.123999Z");
  for (const char* bad : {"", "13", "2013-13", "2013-01-15T", "2013-01-15T10:00:00+15:00",
                          "2013T10:00", "2013-01-15 10:00", "2013-01-15T10:00:00Zjunk"}) {
    EXPECT_FALSE(fhir::ParseTimeRange(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace vesta::rest

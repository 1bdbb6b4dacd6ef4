#include "base/clock.h"

#include <gtest/gtest.h>

#include <set>

namespace vesta {
namespace {

TEST(ClockTest, FormatsInstantWithMicroseconds) {
  EXPECT_EQ(FormatInstant(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatInstant(1795485179123456), "2026-11-24T01:52:59.123456Z");
}

TEST(ClockTest, HttpDateRoundTrips) {
  Micros t = 1795485179000000;
  EXPECT_EQ(FormatHttpDate(t), "Tue, 24 Nov 2026 01:52:59 GMT");
  Micros back = 0;
  ASSERT_TRUE(ParseHttpDate(FormatHttpDate(t), &back));
  EXPECT_EQ(back, t);
  EXPECT_FALSE(ParseHttpDate("yesterday", &back));
}

TEST(ClockTest, SystemClockStrictlyIncreases) {
  SystemClock clock;
  Micros prev = clock.Now();
  for (int i = 0; i < 1000; ++i) {
    Micros now = clock.Now();
    ASSERT_GT(now, prev);
    prev = now;
  }
}

TEST(ClockTest, UuidsAreUniqueAndWellFormed) {
  UuidGenerator gen(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = gen.NewId();
    ASSERT_EQ(id.size(), 36u);
    ASSERT_EQ(id[14], '4');
    ASSERT_TRUE(seen.insert(id).second);
  }
}

}  // namespace
}  // namespace vesta

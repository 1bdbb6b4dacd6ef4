#include "base/clock.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

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

TEST(ClockTest, UuidV7sSortInCreationOrder) {
  FakeClock clock(1700000000123456);  // 2023-11-14T22:13:20.123456Z
  UuidV7Generator gen(clock, 7);
  std::string first = gen.NewId();
  // 48-bit milliseconds first: 1700000000123 = 0x018bcfe5687b.
  EXPECT_EQ(first.substr(0, 13), "018bcfe5-687b");
  EXPECT_EQ(first[14], '7');                                          // version
  EXPECT_NE(std::string("89ab").find(first[19]), std::string::npos);  // variant 10xx
  std::vector<std::string> ids{first};
  // Many in one millisecond (past the 12-bit counter), then a later one, then a clock step back.
  for (int i = 0; i < 5000; ++i) ids.push_back(gen.NewId());
  clock.Advance(1000);
  ids.push_back(gen.NewId());
  clock.Advance(-5000);
  ids.push_back(gen.NewId());
  for (size_t i = 1; i < ids.size(); ++i) {
    ASSERT_LT(ids[i - 1], ids[i]) << "at " << i;
    ASSERT_EQ(ids[i].size(), 36u);
  }
}

}  // namespace
}  // namespace vesta

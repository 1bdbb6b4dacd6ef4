#include "base/clock.h"

#include <gtest/gtest.h>

#include <ctime>
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

// The calendar fields come from <chrono>, not gmtime_r: both must agree, across leap days,
// years before 1970 and instants with a fraction of a second before the epoch.
TEST(ClockTest, CalendarFieldsAgreeWithGmtime) {
  std::vector<Micros> times = {0,
                               -1,
                               -999999,
                               -1000000,
                               951782400000000 /* 2000-02-29 */,
                               4107542399999999 /* 2100-02-28T23:59:59.999999 */,
                               -2208988800000000 /* 1900-01-01 */,
                               1795485179000000};
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 2000; ++i) {  // xorshift: a fixed spread of instants, 1700 to 2240
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    times.push_back(static_cast<Micros>(x % 17000000000000000ull) - 8500000000000000);
  }
  for (Micros t : times) {
    std::time_t secs = static_cast<std::time_t>(t / 1000000);
    if (t < 0 && t % 1000000 != 0) --secs;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char want[64];
    std::strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ASSERT_EQ(FormatHttpDate(t), want) << t;
    std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
    ASSERT_EQ(FormatInstant(t).substr(0, 19), want) << t;
  }
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

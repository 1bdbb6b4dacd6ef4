#include "store/sqlite/version_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace vesta::store {
namespace {

StoredVersion Version(std::string id, int64_t version, std::string json) {
  StoredVersion v;
  v.type = "Patient";
  v.id = std::move(id);
  v.version = version;
  v.last_updated = 1000 * version;
  v.json = std::move(json);
  return v;
}

TEST(VersionCacheTest, FillsThenFindsAWholeCopy) {
  VersionCache cache(1 << 20);
  EXPECT_FALSE(cache.Find("Patient", "a").has_value());
  cache.Fill(cache.Ticket(), Version("a", 3, R"({"n":1.50})"));
  std::optional<StoredVersion> hit = cache.Find("Patient", "a");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->type, "Patient");
  EXPECT_EQ(hit->id, "a");
  EXPECT_EQ(hit->version, 3);
  EXPECT_EQ(hit->last_updated, 3000);
  EXPECT_EQ(hit->json, R"({"n":1.50})");
  EXPECT_FALSE(cache.Find("Observation", "a").has_value());  // the type is part of the key
  VersionCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST(VersionCacheTest, InvalidateForgetsTheWrittenResourcesOnly) {
  VersionCache cache(1 << 20);
  cache.Fill(cache.Ticket(), Version("a", 1, "{}"));
  cache.Fill(cache.Ticket(), Version("b", 1, "{}"));
  const std::pair<std::string_view, std::string_view> written[] = {{"Patient", "a"}};
  cache.Invalidate(written);
  EXPECT_FALSE(cache.Find("Patient", "a").has_value());
  EXPECT_TRUE(cache.Find("Patient", "b").has_value());
}

// A reader that took its ticket before a write committed must not store what it read: it may
// be the version that write replaced.
TEST(VersionCacheTest, AFillFromBeforeAWriteIsDropped) {
  VersionCache cache(1 << 20);
  uint64_t ticket = cache.Ticket();
  const std::pair<std::string_view, std::string_view> written[] = {{"Patient", "other"}};
  cache.Invalidate(written);
  cache.Fill(ticket, Version("a", 1, "{}"));
  EXPECT_FALSE(cache.Find("Patient", "a").has_value());
  cache.Fill(cache.Ticket(), Version("a", 2, "{}"));
  ASSERT_TRUE(cache.Find("Patient", "a").has_value());
  EXPECT_EQ(cache.Find("Patient", "a")->version, 2);
}

TEST(VersionCacheTest, ClearForgetsEverythingAndDropsEarlierFills) {
  VersionCache cache(1 << 20);
  uint64_t ticket = cache.Ticket();
  cache.Fill(ticket, Version("a", 1, "{}"));
  cache.Clear();
  EXPECT_FALSE(cache.Find("Patient", "a").has_value());
  cache.Fill(ticket, Version("b", 1, "{}"));
  EXPECT_FALSE(cache.Find("Patient", "b").has_value());
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST(VersionCacheTest, StaysWithinItsBytesAndEvictsTheLeastRecentlyUsed) {
  const size_t budget = 64 << 10;
  VersionCache cache(budget);
  const std::string body(1000, 'x');
  for (int i = 0; i < 1000; ++i) {
    cache.Fill(cache.Ticket(), Version("p" + std::to_string(i), 1, body));
    // p0 is read after every fill, so it stays the most recently used of its shard.
    EXPECT_TRUE(cache.Find("Patient", "p0").has_value()) << i;
  }
  VersionCache::Stats stats = cache.stats();
  EXPECT_LE(stats.bytes, budget);
  EXPECT_GT(stats.entries, 10u);
  EXPECT_LT(stats.entries, 1000u);
  EXPECT_FALSE(cache.Find("Patient", "p1").has_value());   // among the first evicted
  EXPECT_TRUE(cache.Find("Patient", "p999").has_value());  // the last one filled
}

TEST(VersionCacheTest, AVersionLargerThanAShardIsNotKept) {
  VersionCache cache(16 << 10);  // 1 KiB per shard
  cache.Fill(cache.Ticket(), Version("big", 1, std::string(4000, 'x')));
  EXPECT_FALSE(cache.Find("Patient", "big").has_value());
}

TEST(VersionCacheTest, ZeroBytesTurnsItOff) {
  VersionCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.Fill(cache.Ticket(), Version("a", 1, "{}"));
  EXPECT_FALSE(cache.Find("Patient", "a").has_value());
}

}  // namespace
}  // namespace vesta::store

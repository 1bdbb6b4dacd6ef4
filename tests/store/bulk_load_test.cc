// Bulk loads with deferred index builds (store/sqlite/bulk_load.h): the random-order indexes are
// gone during the load and back after Close(), searches find the same resources throughout, and
// a load that stopped before Close() gets its indexes at the next open.
#include "store/sqlite/bulk_load.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sqlite/connection.h"
#include "store/sqlite/history_sql.h"
#include "store/sqlite/sqlite_store.h"
#include "store/temp_dir.h"

namespace vesta::store {
namespace {

constexpr Micros kT0 = 1795485179000000;

class BulkLoadTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(bool bulk) {
    SqliteStoreOptions options;
    options.directory = dir_.path();
    options.bulk_load = bulk;
    auto store = OpenSqliteStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  void Load(Store& store, int from, int to) {
    std::vector<WriteOp> ops;
    for (int i = from; i < to; ++i) {
      const std::string id = "o" + std::to_string(i);
      ops.push_back(WriteOp{
          WriteKind::kCreate, "Observation", id, kExpectNone, kT0 + i,
          R"({"resourceType":"Observation","id":")" + id +
              R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
              std::to_string(i % 3) + R"("}]},"subject":{"reference":"Patient/p)" +
              std::to_string(i % 4) + R"("}})"});
    }
    ASSERT_TRUE(store.Write(ops).ok());
  }

  std::set<std::string> Ids(Store& store, const std::string& name, const std::string& value) {
    SearchQuery query;
    query.types = {"Observation"};
    query.params = {{name, value}, {"_count", "1000"}};
    auto page = store.Search(query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::set<std::string> out;
    if (page.ok()) {
      for (const auto& hit : page->entries) out.insert(hit.version.id);
    }
    return out;
  }

  std::set<std::string> Indexes() {
    auto db = sqlite::Connection::Open(dir_.path() + "/vesta.db", sqlite::Mode::kReadOnly);
    EXPECT_TRUE(db.ok());
    auto stmt = (*db)->Prepare("SELECT name FROM sqlite_schema WHERE type = 'index'");
    EXPECT_TRUE(stmt.ok());
    std::set<std::string> out;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok() || !*row) break;
      out.insert(stmt->Text(0));
    }
    return out;
  }

  TempDir dir_;
};

TEST_F(BulkLoadTest, IndexesAreBuiltAtCloseAndSearchesAgreeThroughout) {
  std::set<std::string> all;
  {
    auto store = Open(false);
    ASSERT_TRUE(store->Close().ok());
    all = Indexes();
  }
  ASSERT_TRUE(all.contains("search_token_code"));
  ASSERT_TRUE(all.contains("search_reference_target"));
  {
    auto store = Open(true);
    std::set<std::string> during = Indexes();
    EXPECT_FALSE(during.contains("search_token_code"));
    EXPECT_FALSE(during.contains("search_reference_target"));
    EXPECT_FALSE(during.contains("resource_version"));
    EXPECT_FALSE(during.contains("search_resource_id"));
    EXPECT_TRUE(during.contains("search_token_seq"));  // deletes by seq need it
    Load(*store, 0, 30);
    EXPECT_EQ(Ids(*store, "code", "http://loinc.org|1").size(), 10u);
    EXPECT_EQ(Ids(*store, "subject", "Patient/p2").size(), 7u);
    // An update replaces the version's index rows (deletes by seq).
    WriteOp update{WriteKind::kUpdate,
                   "Observation",
                   "o1",
                   1,
                   kT0 + 100,
                   R"({"resourceType":"Observation","id":"o1","status":"final"})"};
    ASSERT_TRUE(store->Write(std::span<const WriteOp>(&update, 1)).ok());
    EXPECT_EQ(Ids(*store, "code", "http://loinc.org|1").size(), 9u);
    auto v1 = store->ReadVersion("Observation", "o1", 1);
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    HistoryQuery history;
    history.type = "Observation";
    history.id = "o1";
    auto versions = store->History(history);
    ASSERT_TRUE(versions.ok()) << versions.status().ToString();
    EXPECT_EQ(versions->total, 2);
    ASSERT_EQ(versions->entries.size(), 2u);
    EXPECT_EQ(versions->entries[0].version.version, 2);
    // Both read the (type, id) range of resource_version when it exists, and name no index: a
    // query naming one that is gone would fail.
    auto removed = store->ExpungeHistory("Observation", "o1");
    ASSERT_TRUE(removed.ok()) << removed.status().ToString();
    EXPECT_EQ(*removed, 1);
    ASSERT_TRUE(store->Close().ok());
  }
  EXPECT_EQ(Indexes(), all);
  auto store = Open(false);
  EXPECT_EQ(Ids(*store, "code", "http://loinc.org|1").size(), 9u);
  EXPECT_EQ(Ids(*store, "subject", "Patient/p2").size(), 7u);
}

// Without INDEXED BY, one resource's history must still read its (type, id) range of
// resource_version, whatever filters and cursor it carries, and not walk the type's history.
TEST_F(BulkLoadTest, OneResourcesHistoryReadsItsRangeOfResourceVersion) {
  {
    auto store = Open(false);
    Load(*store, 0, 10);
    ASSERT_TRUE(store->Close().ok());
  }
  auto db = sqlite::Connection::Open(dir_.path() + "/vesta.db", sqlite::Mode::kReadOnly);
  ASSERT_TRUE(db.ok());
  auto plan = [&](const std::string& sql) {
    auto stmt = (*db)->PrepareUncached("EXPLAIN QUERY PLAN " + sql);
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    std::string out;
    while (stmt.ok()) {
      auto row = stmt->Step();
      if (!row.ok() || !*row) break;
      out += stmt->Text(3) + "; ";
    }
    return out;
  };
  for (int variant = 0; variant < 8; ++variant) {
    HistoryQuery query;
    query.type = "Observation";
    query.id = "o1";
    if (variant & 1) query.since = kT0;
    if (variant & 2) query.at = std::make_pair(kT0, kT0 + 5);
    if (variant & 4) query.after = HistoryCursor{kT0 + 5, 7};
    const sqlite_internal::HistorySql sql = sqlite_internal::BuildHistorySql(query, "r.seq");
    for (const std::string& s : {sql.page, sql.count}) {
      EXPECT_NE(plan(s).find("resource_version (type=? AND id=?)"), std::string::npos)
          << "variant " << variant << ": " << s << "\n"
          << plan(s);
    }
  }
  // The type's history reads its index in order, with no sort.
  HistoryQuery type_history;
  type_history.type = "Observation";
  type_history.after = HistoryCursor{kT0 + 5, 7};
  const std::string type_plan = plan(sqlite_internal::BuildHistorySql(type_history, "r.seq").page);
  EXPECT_NE(type_plan.find("resource_history_type"), std::string::npos) << type_plan;
  EXPECT_EQ(type_plan.find("TEMP B-TREE"), std::string::npos) << type_plan;
}

TEST_F(BulkLoadTest, ALoadThatStoppedGetsItsIndexesAtTheNextOpen) {
  {
    auto store = Open(false);
    Load(*store, 0, 10);
    ASSERT_TRUE(store->Close().ok());
  }
  const std::set<std::string> all = Indexes();
  {
    // What a load leaves when its process stops before Close().
    auto db = sqlite::Connection::Open(dir_.path() + "/vesta.db", sqlite::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    auto started = sqlite_internal::StartBulkLoad(**db);
    ASSERT_TRUE(started.ok() && *started) << started.status().ToString();
  }
  EXPECT_NE(Indexes(), all);
  auto store = Open(false);
  EXPECT_EQ(Indexes(), all);
  EXPECT_EQ(Ids(*store, "code", "http://loinc.org|0").size(), 4u);
}

}  // namespace
}  // namespace vesta::store

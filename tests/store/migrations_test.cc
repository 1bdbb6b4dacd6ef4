#include "store/sqlite/migrations.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"
#include "store/temp_dir.h"

namespace vesta::store {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite_internal::ApplyMigrations;
using sqlite_internal::EmbeddedMigrations;
using sqlite_internal::Migration;

SqliteStoreOptions Options(const TempDir& dir) {
  SqliteStoreOptions options;
  options.directory = dir.path();
  return options;
}

// Rows of `SELECT version, name FROM schema_version` as "version:name".
std::vector<std::string> RecordedVersions(Connection& db) {
  std::vector<std::string> out;
  auto stmt = db.Prepare("SELECT version, name FROM schema_version ORDER BY version");
  EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
  if (!stmt.ok()) return out;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok() || !*row) break;
    out.push_back(std::to_string(stmt->Int(0)) + ":" + stmt->Text(1));
  }
  return out;
}

TEST(MigrationsTest, EmbeddedMigrationsAreNumberedInOrder) {
  auto migrations = EmbeddedMigrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_STREQ(migrations[0].name, "001_initial");
  for (size_t i = 1; i < migrations.size(); ++i) {
    EXPECT_GT(migrations[i].version, migrations[i - 1].version);
  }
  EXPECT_EQ(SqliteSchemaVersion(), migrations.back().version);
}

TEST(MigrationsTest, OpenRecordsTheSchemaVersion) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  {
    auto store = OpenSqliteStore(Options(dir));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  auto db = Connection::Open(dir.path() + "/vesta.db", Connection::Mode::kReadOnly);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  // Every embedded migration, once, in order.
  std::vector<std::string> expected;
  for (const Migration& m : EmbeddedMigrations()) {
    expected.push_back(std::to_string(m.version) + ":" + m.name);
  }
  EXPECT_EQ(RecordedVersions(**db), expected);
  EXPECT_EQ(expected.front(), "1:001_initial");
}

TEST(MigrationsTest, AppliesOnlyNewMigrationsAndRefusesNewerDatabases) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string path = dir.path() + "/vesta.db";
  const Migration first[] = {{1, "001_a", "CREATE TABLE a (x INTEGER);"}};
  const Migration both[] = {{1, "001_a", "CREATE TABLE a (x INTEGER);"},
                            {2, "002_b", "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (7);"}};
  {
    auto db = Connection::Open(path, Connection::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplyMigrations(**db, first, 1).ok());
    // Applying again is a no-op: 001 would fail ("table a already exists") if it ran twice.
    ASSERT_TRUE(ApplyMigrations(**db, first, 2).ok());
    Status status = ApplyMigrations(**db, both, 3);
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(RecordedVersions(**db), (std::vector<std::string>{"1:001_a", "2:002_b"}));
    // A binary that knows only 001 must not run on a database at 002.
    status = ApplyMigrations(**db, first, 4);
    EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  }
}

TEST(MigrationsTest, AFailedMigrationLeavesNoTrace) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto db = Connection::Open(dir.path() + "/vesta.db", Connection::Mode::kReadWrite);
  ASSERT_TRUE(db.ok());
  const Migration broken[] = {{1, "001_a", "CREATE TABLE a (x INTEGER); NOT SQL;"}};
  Status status = ApplyMigrations(**db, broken, 1);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("001_a"), std::string::npos) << status.message();
  EXPECT_TRUE(RecordedVersions(**db).empty());
  auto check = (*db)->Prepare("SELECT count(*) FROM sqlite_master WHERE name = 'a'");
  ASSERT_TRUE(check.ok());
  ASSERT_TRUE(check->Step().ok());
  EXPECT_EQ(check->Int(0), 0);
}

TEST(MigrationsTest, StoreRefusesADatabaseFromANewerSchema) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  {
    auto store = OpenSqliteStore(Options(dir));
    ASSERT_TRUE(store.ok());
  }
  {
    auto db = Connection::Open(dir.path() + "/vesta.db", Connection::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO schema_version VALUES (999, '999_future', 0)").ok());
  }
  auto store = OpenSqliteStore(Options(dir));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vesta::store

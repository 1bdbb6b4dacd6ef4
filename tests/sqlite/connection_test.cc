#include "sqlite/connection.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/temp_dir.h"

namespace vesta::sqlite {
namespace {

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_.path() + "/test.db";
    db_ = Open(OpenOptions::ReadWrite({"journal_mode = WAL"}));
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, i INTEGER, d REAL, s TEXT,"
                          " b BLOB, UNIQUE (s))")
                    .ok());
  }

  std::unique_ptr<Connection> Open(const OpenOptions& options) {
    auto db = Connection::Open(path_, options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  store::TempDir dir_;
  std::string path_;
  std::unique_ptr<Connection> db_;
};

TEST_F(ConnectionTest, BindsAndReadsEveryKindOfValue) {
  {
    auto insert = db_->Prepare("INSERT INTO t (i, d, s, b) VALUES (?1, ?2, ?3, ?4)");
    ASSERT_TRUE(insert.ok());
    insert->Bind(1, int64_t{-7}).BindDouble(2, 1.5).Bind(3, "text").BindBlob(4, "");
    ASSERT_TRUE(insert->Run().ok());
    EXPECT_EQ(db_->LastInsertRowId(), 1);
    EXPECT_EQ(db_->Changes(), 1);
  }
  {
    auto insert = db_->Prepare("INSERT INTO t (i, d, s, b) VALUES (?1, ?2, ?3, ?4)");
    ASSERT_TRUE(insert.ok());
    const Value values[] = {nullptr, 2.25, std::string_view("v"), int64_t{3}};
    for (int i = 0; i < 4; ++i) insert->BindValue(i + 1, values[i]);
    ASSERT_TRUE(insert->Run().ok());
  }
  auto select = db_->Prepare("SELECT i, d, s, b FROM t ORDER BY k");
  ASSERT_TRUE(select.ok());
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(select->Int(0), -7);
  EXPECT_EQ(select->Double(1), 1.5);
  EXPECT_EQ(select->Text(2), "text");
  EXPECT_EQ(select->Type(3), ColumnType::kBlob);  // an empty blob, not NULL
  EXPECT_FALSE(select->IsNull(3));
  ASSERT_TRUE(*select->Step());
  EXPECT_TRUE(select->IsNull(0));
  EXPECT_EQ(select->Type(0), ColumnType::kNull);
  EXPECT_EQ(select->Type(1), ColumnType::kFloat);
  EXPECT_EQ(select->Type(2), ColumnType::kText);
  EXPECT_EQ(select->Type(3), ColumnType::kInteger);
  EXPECT_EQ(select->Text(3), "3");
  EXPECT_FALSE(*select->Step());
}

TEST_F(ConnectionTest, CachedStatementsStartCleanForTheNextBorrower) {
  for (int i = 0; i < 3; ++i) {
    auto stmt = db_->Prepare("SELECT ?1");
    ASSERT_TRUE(stmt.ok());
    if (i == 1) stmt->Bind(1, int64_t{5});
    ASSERT_TRUE(*stmt->Step());
    // The binding of the second use does not leak into the third.
    EXPECT_EQ(stmt->IsNull(0), i != 1);
  }
  auto stmt = db_->Prepare("SELECT ?1");
  ASSERT_TRUE(stmt.ok());
  stmt->Bind(1, "a");
  ASSERT_TRUE(stmt->Run().ok());  // Run() resets and unbinds: ready to bind again
  ASSERT_TRUE(*stmt->Step());
  EXPECT_TRUE(stmt->IsNull(0));
}

TEST_F(ConnectionTest, UncachedStatementsAreIndependent) {
  auto a = db_->PrepareUncached("SELECT ?1");
  auto b = db_->PrepareUncached("SELECT ?1");
  ASSERT_TRUE(a.ok() && b.ok());
  a->Bind(1, int64_t{1});
  b->Bind(1, int64_t{2});
  ASSERT_TRUE(*a->Step() && *b->Step());
  EXPECT_EQ(a->Int(0), 1);
  EXPECT_EQ(b->Int(0), 2);
  EXPECT_GT(a->TakeVmSteps(), 0);
  EXPECT_EQ(a->TakeVmSteps(), 0);  // taken
}

TEST_F(ConnectionTest, ErrorsMapToOneSetOfCodes) {
  // A constraint: the row exists.
  ASSERT_TRUE(db_->Exec("INSERT INTO t (s) VALUES ('x')").ok());
  Status dup = db_->Exec("INSERT INTO t (s) VALUES ('x')");
  EXPECT_EQ(dup.code(), StatusCode::kConflict) << dup.ToString();
  // Busy: another connection holds the write lock.
  OpenOptions impatient = OpenOptions::ReadWrite();
  impatient.busy_timeout_ms = 0;
  std::unique_ptr<Connection> other = Open(impatient);
  ASSERT_TRUE(db_->Exec("BEGIN IMMEDIATE").ok());
  Status busy = other->Exec("BEGIN IMMEDIATE");
  EXPECT_EQ(busy.code(), StatusCode::kUnavailable) << busy.ToString();
  ASSERT_TRUE(db_->Exec("ROLLBACK").ok());
  // Anything else.
  auto bad = db_->Prepare("SELEKT 1");
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_NE(bad.status().message().find("SELEKT"), std::string::npos);
  auto unbindable = db_->Prepare("SELECT ?1");
  ASSERT_TRUE(unbindable.ok());
  unbindable->Bind(2, int64_t{1});  // no such parameter: reported by Step()
  EXPECT_EQ(unbindable->Step().status().code(), StatusCode::kInternal);
  // Opening what cannot be opened.
  auto missing = Connection::Open(dir_.path() + "/no/such/dir/x.db", Mode::kReadOnly);
  EXPECT_FALSE(missing.ok());
}

TEST_F(ConnectionTest, InTransactionCommitsOrRollsBack) {
  Status failed = InTransaction(*db_, [&]() -> Status {
    RETURN_IF_ERROR(db_->Exec("INSERT INTO t (s) VALUES ('kept?')"));
    return Status(StatusCode::kInvalid, "changed my mind");
  });
  EXPECT_EQ(failed.code(), StatusCode::kInvalid);
  EXPECT_FALSE(db_->InTransaction());
  Status ok = InTransaction(*db_, [&] { return db_->Exec("INSERT INTO t (s) VALUES ('kept')"); });
  ASSERT_TRUE(ok.ok());
  auto count = db_->Prepare("SELECT count(*), min(s) FROM t");
  ASSERT_TRUE(count.ok() && *count->Step());
  EXPECT_EQ(count->Int(0), 1);
  EXPECT_EQ(count->Text(1), "kept");
}

TEST_F(ConnectionTest, ReadSnapshotSeesOneCommit) {
  std::unique_ptr<Connection> reader = Open(OpenOptions::ReadOnly());
  ASSERT_TRUE(db_->Exec("INSERT INTO t (s) VALUES ('a')").ok());
  auto count = [&]() -> int64_t {
    auto stmt = reader->Prepare("SELECT count(*) FROM t");
    return stmt.ok() && *stmt->Step() ? stmt->Int(0) : -1;
  };
  {
    ReadSnapshot snapshot(*reader);
    ASSERT_TRUE(snapshot.Begin().ok());
    EXPECT_EQ(count(), 1);
    ASSERT_TRUE(db_->Exec("INSERT INTO t (s) VALUES ('b')").ok());
    EXPECT_EQ(count(), 1);  // still the snapshot
  }
  EXPECT_FALSE(reader->InTransaction());
  EXPECT_EQ(count(), 2);
}

TEST_F(ConnectionTest, PragmasAndLogHookAndCheckpoints) {
  {
    auto mode = db_->Prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.ok() && *mode->Step());
    EXPECT_EQ(mode->Text(0), "wal");
  }  // done: a statement still stepping would hold the commit open
  int last_pages = -1;
  db_->OnLogCommit([&](int pages) { last_pages = pages; });
  ASSERT_TRUE(db_->Exec("INSERT INTO t (s) VALUES ('a')").ok());
  EXPECT_GT(last_pages, 0);
  Result<bool> done = db_->Checkpoint(Connection::CheckpointMode::kTruncate);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(*done);
  // A bad pragma fails the open, naming it.
  auto bad = Connection::Open(path_, OpenOptions::ReadWrite({"no_such_thing = (("}));
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace vesta::sqlite

// The PostgreSQL adapter (src/postgres/connection.h) on a real throw-away cluster.
#include "postgres/connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "postgres/test_cluster.h"

namespace vesta::postgres {
namespace {

class ConnectionTest : public PostgresTest {
 protected:
  void SetUp() override {
    PostgresTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db_ = OpenDb();
    ASSERT_NE(db_, nullptr);
  }

  std::unique_ptr<Connection> OpenDb() {
    auto db = Connection::Open(uri(), Options());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  int64_t Count(const std::string& table) {
    auto rows = db_->QueryUncached("SELECT count(*) FROM " + table);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->Int(0, 0) : -1;
  }

  std::unique_ptr<Connection> db_;
};

TEST_F(ConnectionTest, OpensPingsAndRefusesWhatItCannotReach) {
  EXPECT_TRUE(db_->Ping().ok());
  EXPECT_GE(db_->ServerVersion(), 100000);
  EXPECT_TRUE(db_->LooksAlive());

  auto bad = Connection::Open("postgresql://[::1", Options());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalid) << bad.status().ToString();

  // No server on this socket: refused at once, with the adapter's SQLSTATE.
  auto start = std::chrono::steady_clock::now();
  auto none = Connection::Open(
      "postgresql://vesta@/postgres?host=" + cluster().directory() + "/nowhere", Options());
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(SqlState(none.status()), "08001") << none.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ConnectionTest, ParametersRoundTrip) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (i bigint, d double precision, s text, b bytea)").ok());
  const std::string text = "it's \"quoted\", a \\ backslash, a\ttab, a\nline; é 日本 🩺";
  const std::string bytes("\0\x01\xff\\x'\n", 7);
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const char* insert = "INSERT INTO t (i, d, s, b) VALUES ($1, $2, $3, $4)";
  ASSERT_TRUE(db_->Query(insert, {kMin, 0.1, std::string_view(text), Bytes{bytes}}).ok());
  ASSERT_TRUE(db_->Query(insert, {kMax, 1e308, std::string_view(""), Bytes{""}}).ok());
  ASSERT_TRUE(db_->Query(insert, {nullptr, nullptr, nullptr, nullptr}).ok());
  ASSERT_TRUE(db_->Query(insert, {int64_t{0}, 5e-324, "x", nullptr}).ok());
  ASSERT_TRUE(
      db_->Query(insert, {int64_t{-1}, std::numeric_limits<double>::infinity(), "y", nullptr})
          .ok());
  ASSERT_TRUE(
      db_->Query(insert, {int64_t{-2}, std::numeric_limits<double>::quiet_NaN(), "z", nullptr})
          .ok());

  auto rows = db_->Query("SELECT i, d, s, b FROM t ORDER BY i NULLS LAST");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 6);
  EXPECT_EQ(rows->columns(), 4);
  EXPECT_EQ(rows->Type(0), ColumnType::kInteger);
  EXPECT_EQ(rows->Type(1), ColumnType::kFloat);
  EXPECT_EQ(rows->Type(2), ColumnType::kText);
  EXPECT_EQ(rows->Type(3), ColumnType::kBytes);

  EXPECT_EQ(rows->Int(0, 0), kMin);
  EXPECT_EQ(rows->Double(0, 1), 0.1);
  EXPECT_EQ(rows->Text(0, 2), text);
  EXPECT_EQ(rows->Bytes(0, 3), bytes);
  EXPECT_EQ(rows->Int(1, 0), -2);
  EXPECT_TRUE(std::isnan(rows->Double(1, 1)));
  EXPECT_EQ(rows->Double(2, 1), std::numeric_limits<double>::infinity());
  EXPECT_EQ(rows->Double(3, 1), 5e-324);
  EXPECT_EQ(rows->Int(4, 0), kMax);
  EXPECT_EQ(rows->Double(4, 1), 1e308);
  EXPECT_EQ(rows->Text(4, 2), "");
  EXPECT_FALSE(rows->IsNull(4, 2));  // the empty string is not NULL
  EXPECT_EQ(rows->Bytes(4, 3), "");
  EXPECT_FALSE(rows->IsNull(4, 3));
  for (int column = 0; column < 4; ++column) EXPECT_TRUE(rows->IsNull(5, column));

  // A parameter whose type the SQL leaves open is text.
  auto echo =
      db_->QueryUncached("SELECT $1, $2::bigint + 1, $3::float8 * 2", {"a'b", kMax - 1, 1.25});
  ASSERT_TRUE(echo.ok()) << echo.status().ToString();
  EXPECT_EQ(echo->Text(0, 0), "a'b");
  EXPECT_EQ(echo->Int(0, 1), kMax);
  EXPECT_EQ(echo->Double(0, 2), 2.5);

  // Text cannot hold NUL: refused before anything is sent.
  auto nul = db_->Query(insert, {int64_t{1}, 1.0, std::string_view("a\0b", 3), nullptr});
  EXPECT_EQ(nul.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(Count("t"), 6);
}

TEST_F(ConnectionTest, BinaryResultsReadAsTheTextOnes) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (i8 bigint, i4 int, i2 smallint, f8 double precision,"
                        " f4 real, n numeric, s text, b bytea)")
                  .ok());
  const std::string bytes("\0\x01\xff\\x'\n", 7);
  const std::string text = "é 日本 🩺, a\ttab";
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES"
                        " (-9223372036854775808, -2147483648, -32768, 0.1, 0.5, -12345.678901,"
                        "  'a', '\\x0001ff5c78270a'),"
                        " (9223372036854775807, 2147483647, 32767, 'Infinity', '-Infinity',"
                        "  100000000, 'b', ''),"
                        " (0, 0, 0, 'NaN', 0, 0.00001, 'c', NULL),"
                        " (NULL, NULL, NULL, NULL, NULL, 'NaN', NULL, NULL),"
                        " (1, 1, 1, 1e308, 1, 'Infinity', '', NULL),"
                        " (2, 2, 2, 5e-324, 2, 0, 'x', NULL)")
                  .ok());
  ASSERT_TRUE(db_->Query("UPDATE t SET s = $1 WHERE i8 = 2", {std::string_view(text)}).ok());
  const char* select = "SELECT i8, i4, i2, f8, f4, n, s, b, i4::oid FROM t ORDER BY i8 NULLS LAST";
  auto text_rows = db_->Query(select);
  auto binary_rows = db_->Query(select, {}, Format::kBinary);
  auto unprepared = db_->QueryUncached(select, {}, Format::kBinary);
  ASSERT_TRUE(text_rows.ok()) << text_rows.status().ToString();
  ASSERT_TRUE(binary_rows.ok()) << binary_rows.status().ToString();
  ASSERT_TRUE(unprepared.ok()) << unprepared.status().ToString();
  ASSERT_EQ(binary_rows->size(), 6);
  for (const Rows* rows : {&*binary_rows, &*unprepared}) {
    for (int r = 0; r < 6; ++r) {
      SCOPED_TRACE(r);
      for (int c : {0, 1, 2, 8}) {
        EXPECT_EQ(rows->Int(r, c), text_rows->Int(r, c)) << c;
        EXPECT_EQ(rows->Double(r, c), text_rows->Double(r, c)) << c;
      }
      for (int c : {3, 4, 5}) {
        const double want = text_rows->Double(r, c);
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(rows->Double(r, c))) << c;
        } else {
          EXPECT_EQ(rows->Double(r, c), want) << c;
        }
      }
      EXPECT_EQ(rows->Text(r, 6), text_rows->Text(r, 6));
      EXPECT_EQ(rows->Bytes(r, 7), text_rows->Bytes(r, 7));
      for (int c = 0; c < 9; ++c) EXPECT_EQ(rows->IsNull(r, c), text_rows->IsNull(r, c));
    }
  }
  EXPECT_EQ(binary_rows->Bytes(0, 7), bytes);
  EXPECT_EQ(binary_rows->Int(0, 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(binary_rows->Int(0, 1), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(binary_rows->Int(0, 8), 2147483648);  // an oid is unsigned
  EXPECT_EQ(binary_rows->Double(0, 5), -12345.678901);
  EXPECT_EQ(binary_rows->Double(1, 5), 0.00001);
  EXPECT_EQ(binary_rows->Double(2, 5), std::numeric_limits<double>::infinity());
  EXPECT_EQ(binary_rows->Text(3, 6), text);
  EXPECT_EQ(binary_rows->Double(4, 5), 1e8);
  EXPECT_EQ(binary_rows->Type(7), ColumnType::kBytes);
}

TEST_F(ConnectionTest, PreparesAStatementOncePerConnection) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (k int PRIMARY KEY, v text)").ok());
  for (int i = 0; i < 5; ++i) {
    auto inserted = db_->Query("INSERT INTO t VALUES ($1, $2)", {int64_t{i}, "v"});
    ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
    EXPECT_EQ(inserted->affected(), 1);
  }
  auto prepared =
      db_->QueryUncached("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
                         {"INSERT INTO t VALUES ($1, $2)"});
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->Int(0, 0), 1);
  // Unnamed statements are not kept.
  auto all = db_->QueryUncached("SELECT count(*) FROM pg_prepared_statements");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->Int(0, 0), 1);
  // A statement that fails to prepare is not cached, and the connection goes on.
  EXPECT_FALSE(db_->Query("SELEC 1").ok());
  EXPECT_FALSE(db_->Query("SELEC 1").ok());
  EXPECT_TRUE(db_->Query("SELECT 1").ok());
}

TEST_F(ConnectionTest, ARolledBackTransactionLeavesNothing) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (k int PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Begin(Isolation::kRepeatableRead).ok());
  EXPECT_TRUE(db_->InTransaction());
  ASSERT_TRUE(db_->Query("INSERT INTO t VALUES ($1)", {int64_t{1}}).ok());
  ASSERT_TRUE(db_->Rollback().ok());
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_EQ(Count("t"), 0);

  // InTransaction(): the body's error rolls back and is returned.
  Status status = InTransaction(*db_, Isolation::kReadCommitted, [&]() -> Status {
    RETURN_IF_ERROR(db_->Query("INSERT INTO t VALUES ($1)", {int64_t{2}}).status());
    return Conflict("the body gave up");
  });
  EXPECT_EQ(status.message(), "the body gave up");
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_EQ(Count("t"), 0);

  status = InTransaction(*db_, Isolation::kSerializable, [&]() -> Status {
    return db_->Query("INSERT INTO t VALUES ($1)", {int64_t{3}}).status();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Count("t"), 1);
}

TEST_F(ConnectionTest, CommitOfAFailedTransactionIsAnError) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (k int PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(db_->Query("INSERT INTO t VALUES ($1)", {int64_t{1}}).ok());
  EXPECT_FALSE(db_->Query("INSERT INTO t VALUES ($1)", {int64_t{1}}).ok());
  Status commit = db_->Commit();
  EXPECT_FALSE(commit.ok());
  EXPECT_EQ(SqlState(commit), "25P02") << commit.message();
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_EQ(Count("t"), 0);
}

TEST_F(ConnectionTest, SavepointsUndoPartOfATransaction) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (k int PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(db_->Query("INSERT INTO t VALUES ($1)", {int64_t{1}}).ok());
  ASSERT_TRUE(db_->Savepoint("s1").ok());
  ASSERT_TRUE(db_->Query("INSERT INTO t VALUES ($1)", {int64_t{2}}).ok());
  EXPECT_FALSE(db_->Query("INSERT INTO t VALUES ($1)", {int64_t{1}}).ok());  // fails the rest
  ASSERT_TRUE(db_->RollbackToSavepoint("s1").ok());                          // ...which goes on
  ASSERT_TRUE(db_->Savepoint("s2").ok());
  ASSERT_TRUE(db_->Query("INSERT INTO t VALUES ($1)", {int64_t{3}}).ok());
  ASSERT_TRUE(db_->ReleaseSavepoint("s2").ok());
  ASSERT_TRUE(db_->Commit().ok());
  auto rows = db_->Query("SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->Int(0, 0), 1);
  EXPECT_EQ(rows->Int(1, 0), 3);

  EXPECT_EQ(db_->Savepoint("s; DROP TABLE t").code(), StatusCode::kInvalid);
}

TEST_F(ConnectionTest, MapsErrorsByTheirSqlState) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (k int PRIMARY KEY, v int)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES (1, 0), (2, 0)").ok());

  Status unique = db_->Query("INSERT INTO t VALUES ($1, 0)", {int64_t{1}}).status();
  EXPECT_EQ(unique.code(), StatusCode::kConflict);
  EXPECT_EQ(SqlState(unique), "23505");
  EXPECT_NE(unique.message().find("duplicate key value violates unique constraint"),
            std::string::npos)
      << unique.message();
  EXPECT_NE(unique.message().find("Key (k)=(1) already exists"), std::string::npos)
      << unique.message();

  Status syntax = db_->Exec("SELEKT 1");
  EXPECT_EQ(syntax.code(), StatusCode::kInternal);
  EXPECT_EQ(SqlState(syntax), "42601") << syntax.message();
  Status undefined = db_->Query("SELECT * FROM missing").status();
  EXPECT_EQ(undefined.code(), StatusCode::kInternal);
  EXPECT_EQ(SqlState(undefined), "42P01") << undefined.message();
  EXPECT_EQ(SqlState(Conflict("not from PostgreSQL")), "");

  // Two SERIALIZABLE transactions that each read what the other writes: one must fail.
  std::unique_ptr<Connection> other = OpenDb();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(db_->Begin(Isolation::kSerializable).ok());
  ASSERT_TRUE(other->Begin(Isolation::kSerializable).ok());
  ASSERT_TRUE(db_->Query("SELECT sum(v) FROM t").ok());
  ASSERT_TRUE(other->Query("SELECT sum(v) FROM t").ok());
  ASSERT_TRUE(db_->Query("UPDATE t SET v = v + 1 WHERE k = 1").ok());
  Status second = other->Query("UPDATE t SET v = v + 1 WHERE k = 2").status();
  Status first_commit = db_->Commit();
  if (second.ok()) second = other->Commit();
  if (other->InTransaction()) (void)other->Rollback();
  EXPECT_TRUE(first_commit.ok()) << first_commit.ToString();
  EXPECT_EQ(second.code(), StatusCode::kConflict) << second.ToString();
  EXPECT_EQ(SqlState(second), "40001") << second.message();
}

// No call waits without bound on a statement: the adapter sets a statement_timeout when the
// session has none, and one from the URI (or the server, database, role) wins.
TEST_F(ConnectionTest, BoundsEveryStatementUnlessTheSessionSetsItsOwnTimeout) {
  auto setting = [](Connection& db) {
    auto rows = db.QueryUncached("SHOW statement_timeout");
    return rows.ok() && rows->size() == 1 ? std::string(rows->Text(0, 0)) : std::string("?");
  };
  EXPECT_EQ(setting(*db_), "30s");
  ASSERT_TRUE(db_->Reconnect().ok());
  EXPECT_EQ(setting(*db_), "30s") << "set again after a reconnect";

  auto from_uri = Connection::Open(uri() + "%20-cstatement_timeout%3D1234", Options());
  ASSERT_TRUE(from_uri.ok()) << from_uri.status().ToString();
  EXPECT_EQ(setting(**from_uri), "1234ms");

  Options none;
  none.statement_timeout_ms = 0;
  auto unbounded = Connection::Open(uri(), none);
  ASSERT_TRUE(unbounded.ok()) << unbounded.status().ToString();
  EXPECT_EQ(setting(**unbounded), "0");

  // A wait on a lock another session holds is canceled, as kUnavailable.
  Options short_wait;
  short_wait.statement_timeout_ms = 300;
  auto waiter = Connection::Open(uri(), short_wait);
  ASSERT_TRUE(waiter.ok()) << waiter.status().ToString();
  ASSERT_TRUE(db_->Exec("CREATE TABLE held (k int)").ok());
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(db_->Exec("LOCK TABLE held IN ACCESS EXCLUSIVE MODE").ok());
  const auto start = std::chrono::steady_clock::now();
  Status waited = (*waiter)->Query("SELECT count(*) FROM held").status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_TRUE(db_->Rollback().ok());
  EXPECT_EQ(waited.code(), StatusCode::kUnavailable) << waited.ToString();
  EXPECT_EQ(SqlState(waited), "57014") << waited.message();
  EXPECT_TRUE((*waiter)->Query("SELECT count(*) FROM held").ok()) << "the session goes on";
}

TEST_F(ConnectionTest, CopiesRowsInBulk) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (k bigint PRIMARY KEY, d float8, s text, b bytea)").ok());
  constexpr int kRows = 10000;
  {
    auto copy = db_->CopyFrom("COPY t (k, d, s, b) FROM STDIN");
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    std::string buffer;
    const std::string awkward = "tab\there, line\nhere, cr\rhere, back\\slash, \\N, é";
    for (int i = 0; i < kRows; ++i) {
      std::string s = i == 7 ? awkward : "row " + std::to_string(i);
      const Value row[] = {int64_t{i}, i * 0.5, std::string_view(s),
                           i == 8 ? Value(Bytes{std::string_view("\0\xff", 2)}) : Value(nullptr)};
      AppendCopyRow(buffer, row);
      if (buffer.size() > 64 * 1024) {
        ASSERT_TRUE(copy->Write(buffer).ok());
        buffer.clear();
      }
    }
    ASSERT_TRUE(copy->Write(buffer).ok());
    auto copied = copy->End();
    ASSERT_TRUE(copied.ok()) << copied.status().ToString();
    EXPECT_EQ(*copied, kRows);
  }
  EXPECT_EQ(Count("t"), kRows);
  auto rows =
      db_->Query("SELECT s, b, d FROM t WHERE k = ANY ($1::bigint[]) ORDER BY k", {"{7,8}"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->Text(0, 0), "tab\there, line\nhere, cr\rhere, back\\slash, \\N, é");
  EXPECT_TRUE(rows->IsNull(0, 1));
  EXPECT_EQ(rows->Bytes(1, 1), std::string("\0\xff", 2));
  EXPECT_EQ(rows->Double(1, 2), 4.0);

  // A duplicate stops the copy: nothing of it is stored.
  {
    auto copy = db_->CopyFrom("COPY t (k) FROM STDIN");
    ASSERT_TRUE(copy.ok());
    ASSERT_TRUE(copy->Write("100001\n5\n").ok());
    auto copied = copy->End();
    EXPECT_EQ(copied.status().code(), StatusCode::kConflict);
    EXPECT_EQ(SqlState(copied.status()), "23505");
  }
  // Abandoned: the same.
  {
    auto copy = db_->CopyFrom("COPY t (k) FROM STDIN");
    ASSERT_TRUE(copy.ok());
    ASSERT_TRUE(copy->Write("100002\n").ok());
  }
  EXPECT_EQ(Count("t"), kRows);
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_EQ(db_->CopyFrom("SELECT 1").status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace vesta::postgres

#include "terminology/sqlite_db.h"

#include <sys/stat.h>

#include <type_traits>
#include <utility>
#include <vector>

#include "sqlite/connection.h"

namespace vesta::terminology::internal {
namespace {

void Bind(sqlite::Statement& stmt, std::span<const Value> params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i + 1);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            stmt.BindNull(index);
          } else {
            stmt.Bind(index, v);
          }
        },
        params[i]);
  }
}

// Runs `stmt` with `params` and copies its rows out; the statement is reset either way.
Result<Rows> Collect(sqlite::Statement& stmt, std::span<const Value> params) {
  Bind(stmt, params);
  Rows rows(stmt.ColumnCount());
  for (;;) {  // bounded by the statement's rows
    Result<bool> row = stmt.Step();
    if (!row.ok()) {
      stmt.Reset();
      return row.status();
    }
    if (!*row) break;
    for (int c = 0; c < rows.columns(); ++c) rows.Append(stmt.Text(c), stmt.IsNull(c));
  }
  stmt.Reset();
  return rows;
}

// Prepared INSERTs, one per row, in the caller's transaction.
class SqliteBulkWriter : public BulkWriter {
 public:
  explicit SqliteBulkWriter(sqlite::Statement stmt) : stmt_(std::move(stmt)) {}
  Status Add(std::span<const Value> row) override {
    Bind(stmt_, row);
    return stmt_.Run();
  }
  Status Finish() override { return Status::Ok(); }

 private:
  sqlite::Statement stmt_;
};

class SqliteDb : public Db {
 public:
  explicit SqliteDb(std::unique_ptr<sqlite::Connection> db) : db_(std::move(db)) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    ASSIGN_OR_RETURN(sqlite::Statement stmt, db_->Prepare(sql));
    return Collect(stmt, params);
  }

  Result<Rows> QueryOnce(std::string_view sql, std::span<const Value> params) override {
    ASSIGN_OR_RETURN(sqlite::Statement stmt, db_->PrepareUncached(sql));
    return Collect(stmt, params);
  }

  Status ExecScript(std::string_view sql) override { return db_->Exec(sql); }

  Status InTransaction(const std::function<Status()>& body) override {
    return sqlite::InTransaction(*db_, body);
  }

  Result<std::unique_ptr<BulkWriter>> BulkInsert(
      std::string_view table, std::span<const std::string_view> columns) override {
    std::string sql = "INSERT INTO " + std::string(table) + " (";
    std::string values;
    for (size_t i = 0; i < columns.size(); ++i) {
      sql += (i == 0 ? "" : ", ") + std::string(columns[i]);
      values += (i == 0 ? "?" : ", ?") + std::to_string(i + 1);
    }
    sql += ") VALUES (" + values + ")";
    ASSIGN_OR_RETURN(sqlite::Statement stmt, db_->Prepare(sql));
    return std::unique_ptr<BulkWriter>(new SqliteBulkWriter(std::move(stmt)));
  }

  // Nothing to write: PRAGMA data_version sees every commit of another connection.
  Status NoteChange() override { return Status::Ok(); }

  Result<int64_t> ChangeToken() override {
    // https://www.sqlite.org/pragma.html#pragma_data_version: "the integer values returned by
    // two invocations of "PRAGMA data_version" from the same connection will be different if
    // changes were committed to the database by any other connection in the interim" — a
    // loader.
    ASSIGN_OR_RETURN(Rows rows, Query("PRAGMA data_version", {}));
    return rows.empty() ? int64_t{0} : rows.Int(0, 0);
  }

 private:
  std::unique_ptr<sqlite::Connection> db_;
};

}  // namespace

Result<std::unique_ptr<Db>> OpenSqliteDb(const std::string& path, Access access) {
  sqlite::OpenOptions options;
  if (access == Access::kRead) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      return NotFound("no terminology database at " + path + " (run `vesta terminology load`)");
    }
    options.mode = sqlite::Mode::kReadOnly;
  } else {
    options.mode = sqlite::Mode::kReadWrite;
    options.pragmas = {"journal_mode = WAL", "synchronous = NORMAL"};
  }
  options.pragmas.push_back("foreign_keys = OFF");
  options.pragmas.push_back("cache_size = -65536");
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> db, sqlite::Connection::Open(path, options));
  return std::unique_ptr<Db>(new SqliteDb(std::move(db)));
}

}  // namespace vesta::terminology::internal

// The terminology's database seam: the few things the loaders and the service ask of a database,
// implemented once over the SQLite adapter (terminology/sqlite_db.h, a file of its own) and once
// over the PostgreSQL adapter (terminology/postgres_db.h, the store's database, tables of its
// own). Internal to src/terminology/.
//
// SQL is written once, in the subset both dialects speak, with SQLite's numbered placeholders
// (`?1`, `?2`...): the PostgreSQL side turns them into `$1`, `$2`... and reads SQLite's
// `CROSS JOIN ... ON` (which pins SQLite's join order) as the inner join it is. Where the dialects
// part (the full-text filter of $expand), code asks dialect().
//
//   ASSIGN_OR_RETURN(Rows rows, db.Query("SELECT code FROM concept WHERE csv_id = ?1", {id}));
//   for (int i = 0; i < rows.size(); ++i) codes.push_back(rows.Text(i, 0));
//
// Thread-safety: a Db is used by one thread at a time (TerminologyService holds its mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace vesta::terminology::internal {

enum class Dialect { kSqlite, kPostgres };

// A statement parameter. Text must hold no NUL byte.
using Value = std::variant<std::nullptr_t, int64_t, std::string_view>;

// NULL for empty text, else the text (SQL: `CAST(?2 AS TEXT) IS NULL OR version = ?2`; the cast
// gives PostgreSQL the parameter's type, which a bare `$2 IS NULL` leaves unknown).
inline Value TextOrNull(std::string_view text) {
  return text.empty() ? Value(nullptr) : Value(text);
}

// The rows of one query, copied out of the database (so that nothing stays borrowed from a
// connection). Rows and columns are 0-based; REQUIRES of the accessors: row < size(), column <
// columns().
class Rows {
 public:
  explicit Rows(int columns = 0) : columns_(columns) {}

  int size() const { return columns_ == 0 ? 0 : static_cast<int>(cells_.size()) / columns_; }
  bool empty() const { return cells_.empty(); }
  int columns() const { return columns_; }
  bool IsNull(int row, int column) const { return nulls_[Index(row, column)]; }
  // The value's text ("" for NULL); an integer column reads as its decimal text.
  const std::string& Text(int row, int column) const { return cells_[Index(row, column)]; }
  // The value as an integer; 0 for NULL or text that is not one.
  int64_t Int(int row, int column) const;

  // For the implementations: appends the next cell, row by row.
  void Append(std::string_view text, bool null) {
    cells_.emplace_back(text);
    nulls_.push_back(null);
  }

 private:
  size_t Index(int row, int column) const {
    return static_cast<size_t>(row) * static_cast<size_t>(columns_) + static_cast<size_t>(column);
  }
  int columns_;
  std::vector<std::string> cells_;
  std::vector<bool> nulls_;
};

// Rows appended to one table in bulk (Db::BulkInsert): prepared INSERTs on SQLite, COPY FROM
// STDIN on PostgreSQL. REQUIRES: inside Db::InTransaction, and no other statement on the Db until
// Finish() returns; destroyed before Finish(), what was added may be lost (the transaction is
// then to be rolled back).
class BulkWriter {
 public:
  virtual ~BulkWriter() = default;
  // One row: a value per column, in the order BulkInsert named them.
  virtual Status Add(std::span<const Value> row) = 0;
  Status Add(std::initializer_list<Value> row) {
    return Add(std::span<const Value>(row.begin(), row.size()));
  }
  virtual Status Finish() = 0;
};

class Db {
 public:
  virtual ~Db() = default;

  virtual Dialect dialect() const = 0;

  // Runs `sql` with `params` as ?1, ?2...; the rows it returns (none for INSERT, UPDATE,
  // DELETE). Prepared once per connection and reused: for SQL whose text is constant or takes
  // few shapes.
  virtual Result<Rows> Query(std::string_view sql, std::span<const Value> params) = 0;
  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // The same, prepared for this call only: for SQL built per call (a list of ids).
  virtual Result<Rows> QueryOnce(std::string_view sql, std::span<const Value> params) = 0;
  Status Exec(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Query(sql, params).status();
  }
  // Runs several statements without parameters (a schema migration).
  virtual Status ExecScript(std::string_view sql) = 0;

  // Runs `body` in a write transaction and commits it, or rolls back and returns the failure.
  // Writers are serialised: SQLite's write lock (BEGIN IMMEDIATE); on PostgreSQL a
  // transaction-scoped advisory lock, so that two loaders (or two nodes migrating) run one after
  // the other rather than interleave. REQUIRES: not nested.
  virtual Status InTransaction(const std::function<Status()>& body) = 0;

  // Rows for `table` (`columns` in that order). REQUIRES: inside InTransaction.
  virtual Result<std::unique_ptr<BulkWriter>> BulkInsert(
      std::string_view table, std::span<const std::string_view> columns) = 0;

  // Records, in the current write transaction, that the terminology changed: ChangeToken() on
  // any connection reads a different value once it commits. REQUIRES: inside InTransaction.
  virtual Status NoteChange() = 0;
  // A value that changes whenever a write transaction that called NoteChange() commits, on any
  // connection (for the caches of code lists): PRAGMA data_version on SQLite, the
  // terminology_change row on PostgreSQL.
  virtual Result<int64_t> ChangeToken() = 0;
};

// Where the terminology lives: a `postgresql://` or `postgres://` URI (any libpq connection
// string of that form) names a PostgreSQL database; anything else is the path of a SQLite file.
bool IsPostgresLocation(std::string_view location);

enum class Access { kRead, kWrite };

// Opens the terminology database at `location`. kRead: as a server reads it (SQLite read-only;
// NotFound when nothing has been loaded there yet, i.e. the file or the tables are missing).
// kWrite: as a loader writes it, with the schema migrations applied (creating the file or the
// tables). kNotSupported for a PostgreSQL location in a build without libpq. Error messages
// never repeat a URI (it may hold a password).
Result<std::unique_ptr<Db>> OpenDb(const std::string& location, Access access);

// Runs `body` in a write transaction of `db` that also records the change (Db::NoteChange).
inline Status WriteTransaction(Db& db, const std::function<Status()>& body) {
  return db.InTransaction([&]() -> Status {
    RETURN_IF_ERROR(body());
    return db.NoteChange();
  });
}

}  // namespace vesta::terminology::internal

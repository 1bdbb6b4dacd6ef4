// A thin adapter over one sqlite3 connection: opening with Vesta's pragmas, a per-connection cache
// of prepared statements, and SQLite result codes turned into Status. Internal to the sqlite
// store; sqlite3.h stays in connection.cc.
//
// Thread-safety: a Connection is used by one thread at a time (it is opened in SQLite's
// multi-thread mode, without its own mutex); the store's writer thread and reader pool make sure
// of that.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vesta::store::sqlite_internal {

// A cached prepared statement, borrowed from its Connection. Resets itself (and clears its
// bindings) when it goes out of scope so the next borrower starts clean.
// REQUIRES: the Connection outlives the Statement.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite (`?1`, `?2`...). Text and blobs are copied.
  Statement& BindInt(int index, int64_t value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);
  Statement& BindNull(int index);
  Statement& BindDouble(int index, double value);

  // Runs to the next row: true when a row is ready, false when the statement is done.
  Result<bool> Step();
  // Steps until done; for statements that return no rows.
  Status Run();

  // Columns are 0-based. REQUIRES: the last Step() returned true.
  int64_t ColumnInt(int column) const;
  bool ColumnIsNull(int column) const;
  // Text or blob bytes, copied.
  std::string ColumnBytes(int column) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = 0;  // the first failed bind; reported by Step()
};

// Has a read-only connection read the database file through a memory map (as much of it as
// SQLite's compile-time cap allows, 2 GiB in Debian's build) instead of pread into its own page
// cache: no copy per page read, and connections share the OS page cache instead of each warming
// its own. The write-ahead log is still read with pread.
void MapForReading(sqlite3* db);

class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (and for kReadWrite creates) the database file. Sets a busy timeout so that a reader
  // meeting a checkpoint waits instead of failing.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode);
  ~Connection();  // finalizes the cached statements and closes

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL statements that return no rows of interest (schema, pragmas).
  Status Exec(std::string_view sql);
  // The prepared statement for `sql`, prepared once per connection and then reused.
  Result<Statement> Prepare(std::string_view sql);
  // True while a transaction is open. SQLite rolls a whole transaction back by itself on some
  // errors (I/O, disk full); the writer checks this to know whether its savepoint survived.
  bool InTransaction() const;
  int64_t LastInsertRowId() const;
  // The raw handle, for the few SQLite calls this wrapper does not cover (WAL hooks,
  // checkpoints). The connection keeps ownership.
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// The Status for a failed SQLite call: kUnavailable for a busy or full database (retrying later
// may work), kConflict for a constraint violation, kInternal for the rest.
Status SqliteError(int rc, sqlite3* db, std::string_view what);

}  // namespace vesta::store::sqlite_internal

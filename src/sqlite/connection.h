// The SQLite adapter: one connection, its prepared statements (cached or not), values bound and
// read, transactions, and the one mapping of SQLite result codes to Status. The store, its search
// index and the terminology database all use it; sqlite3.h stays in connection.cc.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> db,
//                    sqlite::Connection::Open(path, sqlite::OpenOptions::ReadOnly()));
//   ASSIGN_OR_RETURN(sqlite::Statement stmt, db->Prepare("SELECT json FROM resource WHERE seq =
//   ?1")); stmt.Bind(1, seq); ASSIGN_OR_RETURN(bool row, stmt.Step()); if (row) json =
//   stmt.Text(0);
//
// Thread-safety: a Connection, and the statements it hands out, are used by one thread at a time
// (connections are opened without SQLite's own mutex); ReaderPool (reader_pool.h) hands read-only
// connections to threads one at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vesta::sqlite {

// The Status for a failed SQLite call, by the primary result code:
//   SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL → kUnavailable (another connection holds a lock, or
//     the disk is full: retrying later may work);
//   SQLITE_CONSTRAINT → kConflict (a UNIQUE or CHECK constraint: the row exists or disagrees);
//   anything else → kInternal.
// The message is `what: ` and SQLite's own message (of `db` when given, else of `rc`).
Status Error(int rc, sqlite3* db, std::string_view what);

// A value bound to a statement parameter (BindValue).
using Value = std::variant<std::nullptr_t, int64_t, double, std::string_view>;

// The storage class of a column of the current row.
enum class ColumnType { kInteger, kFloat, kText, kBlob, kNull };

// A prepared statement. Cached statements (Connection::Prepare) are borrowed from their
// connection and reset with their bindings cleared when they go out of scope, so the next
// borrower starts clean; uncached ones (Connection::PrepareUncached) are finalized instead.
// REQUIRES: the Connection outlives the Statement.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite (`?1`, `?2`...). Text and blobs are copied. A failed
  // bind is reported by the next Step() or Run().
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindDouble(int index, double value);
  Statement& BindBlob(int index, std::string_view bytes);  // empty binds an empty blob, not NULL
  Statement& BindNull(int index);
  Statement& BindTextOrNull(int index, std::string_view text);  // NULL when empty
  Statement& BindValue(int index, const Value& value);          // string_view binds text

  // Runs to the next row: true when a row is ready, false when the statement is done.
  Result<bool> Step();
  // Steps until done (for statements whose rows do not matter), then resets the statement and
  // clears its bindings, so it can be bound and run again.
  Status Run();
  // Rewinds the statement and clears its bindings (and a pending bind error).
  void Reset();

  // The columns of each row (0 for a statement that returns none).
  int ColumnCount() const;
  // Columns are 0-based. REQUIRES: the last Step() returned true.
  int64_t Int(int column) const;
  double Double(int column) const;
  bool IsNull(int column) const;
  ColumnType Type(int column) const;
  // The column's bytes (text or blob), copied; empty for NULL.
  std::string Text(int column) const;

  // The SQLite virtual machine steps this statement has run since the last call (the work it
  // did), for tests and measurements.
  int64_t TakeVmSteps();

 private:
  friend class Connection;
  Statement(sqlite3_stmt* stmt, sqlite3* db, bool owned) : stmt_(stmt), db_(db), owned_(owned) {}
  void Note(int rc);

  sqlite3_stmt* stmt_;
  sqlite3* db_;
  bool owned_;       // finalized by this object (uncached) rather than returned to the cache
  int bind_rc_ = 0;  // the first failed bind; reported by Step()
};

enum class Mode { kReadWrite, kReadOnly };

struct OpenOptions {
  Mode mode = Mode::kReadWrite;  // kReadWrite creates the file when missing
  // How long a statement waits for another connection's lock before failing with kUnavailable.
  int busy_timeout_ms = 5000;
  // Read the database file through a memory map (as much of it as SQLite's compile-time cap
  // allows, 2 GiB in Debian's build) instead of pread into the connection's own page cache: no
  // copy per page read, and connections share the OS page cache. For read-only connections; the
  // write-ahead log is still read with pread.
  bool map_for_reading = false;
  // Run after opening, in order, as `PRAGMA <each>` (e.g. "journal_mode = WAL").
  std::vector<std::string> pragmas;

  // Read-write (creating the file) with these pragmas.
  static OpenOptions ReadWrite(std::vector<std::string> pragmas = {});
  // Read-only, through a memory map: what readers of the store use.
  static OpenOptions ReadOnly();
};

class Connection {
 public:
  using Mode = sqlite::Mode;

  // Opens the database at `path` with `options`; extended result codes on.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  const OpenOptions& options);
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode);
  ~Connection();  // finalizes the cached statements and closes

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL statements whose rows do not matter (schema, pragmas, BEGIN...).
  Status Exec(std::string_view sql);
  // The prepared statement for `sql`, prepared once per connection and then reused: for
  // constant SQL. REQUIRES: no other Statement for the same `sql` is alive.
  Result<Statement> Prepare(std::string_view sql);
  // A statement prepared for this use only, finalized when it goes out of scope: for SQL that
  // varies per call (searches), which would only fill the cache.
  Result<Statement> PrepareUncached(std::string_view sql);

  // True while a transaction is open. SQLite rolls a whole transaction back by itself on some
  // errors (I/O, disk full); a caller with savepoints checks this to know whether they survived.
  bool InTransaction() const;
  int64_t LastInsertRowId() const;
  int64_t Changes() const;  // rows changed by the last INSERT, UPDATE or DELETE
  // Calls `hook` after each commit on this connection with the write-ahead log's size in pages.
  // Replaces SQLite's automatic checkpoints on this connection (the caller runs its own).
  void OnLogCommit(std::function<void(int log_pages)> hook);

  enum class CheckpointMode { kPassive, kRestart, kTruncate };
  // Copies the write-ahead log into the database file (sqlite3_wal_checkpoint_v2): true when
  // done, false when another connection held a lock it needed (SQLITE_BUSY: try again later).
  Result<bool> Checkpoint(CheckpointMode mode);

  // The raw handle, for the few SQLite calls this adapter does not cover (WAL hooks,
  // checkpoints); only code that includes sqlite3.h can use it. The connection keeps ownership.
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  std::function<void(int)> log_hook_;
};

// Runs `body` (returning Status) inside BEGIN IMMEDIATE ... COMMIT: the write lock is taken up
// front, so the transaction never fails halfway for want of it. Rolls back when `body` or the
// commit fails and returns that Status.
template <typename F>
Status InTransaction(Connection& db, F&& body) {
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status status = body();
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok() && db.InTransaction()) (void)db.Exec("ROLLBACK");
  return status;
}

// One snapshot for several reads: a deferred (read) transaction from Begin() until this object
// goes out of scope, so that, e.g., a page and its total agree while a writer commits.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Connection& db) : db_(db) {}
  ~ReadSnapshot();
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  Status Begin();

 private:
  Connection& db_;
};

}  // namespace vesta::sqlite

// The PostgreSQL adapter: one libpq connection, statements run with parameters (prepared once
// per connection and reused, or unnamed), their rows read as typed values, transactions and
// savepoints, COPY FROM STDIN for bulk loads, a liveness check and a reconnect, and the one
// mapping of PostgreSQL errors to Status. libpq-fe.h stays in connection.cc.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> db,
//                    postgres::Connection::Open("postgresql://vesta@db/vesta", {}));
//   ASSIGN_OR_RETURN(postgres::Rows rows,
//                    db->Query("SELECT json FROM resource WHERE seq = $1", {seq}));
//   if (rows.size() == 1) json = rows.Bytes(0, 0);
//
// Thread-safety: a Connection, and what it hands out (Rows, CopyIn), are used by one thread at a
// time; Pool (pool.h) lends connections to any thread, one thread at a time each.
//
// Time: a server that stops or restarts closes its connections, so the next call fails at once
// (kUnavailable); a server behind a dead network link is noticed by TCP keepalives (Options),
// within about 11 s; and a statement the server runs, or keeps waiting on a lock another session
// holds, is canceled after Options::statement_timeout_ms (57014, kUnavailable). So no call
// waits without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "base/status.h"

struct pg_conn;
struct pg_result;

namespace vesta::postgres {

// Errors map to Status by their SQLSTATE
// (https://www.postgresql.org/docs/15/errcodes-appendix.html):
//   class 08 (connection exception), 53 (insufficient resources: too many connections, disk
//     full, out of memory), 57P01-57P03 (the server is shutting down, crashed, or starting up),
//     55P03 (a lock not available under NOWAIT or lock_timeout), 57014 (a statement timeout or
//     a cancel) → kUnavailable: the server is unreachable or busy, and retrying later may work;
//   class 23 (integrity constraint: 23505 unique violation, foreign key, check, not null) →
//     kConflict: the row exists or disagrees, which is the Store contract's answer to a
//     concurrent writer that got there first (store/store.h);
//   class 40 (transaction rollback: 40001 serialization failure, 40P01 deadlock) → kConflict:
//     the transaction lost a race and may be run again;
//   anything else (42601 syntax error, 42P01 undefined table, 42703 undefined column, 22P02
//     invalid text for a type, 25P02 a statement in a failed transaction...) → kInternal.
// A failure libpq detects itself (the connection refused or lost) carries no SQLSTATE from the
// server; the adapter gives it 08001 (could not connect) or 08006 (connection lost).
//
// Every error from the server or libpq reads `<what>: <the server's message>[ (<its detail>)]
// [SQLSTATE xxxxx]`; errors the adapter finds before anything is sent (a NUL in text, a bad
// savepoint name) and the pool's own (no connection free in time, closed) carry none.
// SqlState() reads the code back, for callers that tell a unique violation (23505) from a
// serialization failure (40001), both kConflict.
std::string_view SqlState(const Status& status);

// Bytes for a bytea parameter: sent in binary form, so any byte (NUL included) goes through.
struct Bytes {
  std::string_view data;
};

// A statement parameter ($1, $2...). Text must hold no NUL byte (PostgreSQL's text types cannot
// store one: such a parameter fails with kInvalid before anything is sent); integers and doubles
// are sent as their exact decimal text (doubles as the shortest text that reads back the same,
// Infinity, -Infinity, NaN). A parameter's type is inferred by the server from where it is used
// ($1::bigint where the SQL leaves it open), except Bytes, which is bytea.
using Value = std::variant<std::nullptr_t, int64_t, double, std::string_view, Bytes>;

// How a column's values read (Rows::Type): by its type in the server.
enum class ColumnType {
  kInteger,  // int2, int4, int8, oid: Int()
  kFloat,    // float4, float8, numeric: Double() (numeric loses digits past a double's)
  kBytes,    // bytea: Bytes()
  kText,     // everything else (text, varchar, json, jsonb, bool, timestamps...): Text()
};

// The form in which the server writes a statement's values
// (https://www.postgresql.org/docs/15/protocol-overview.html#PROTOCOL-FORMAT-CODES).
//   kText: every value as its text (bytea as \x<hex>, which the server encodes and Rows decodes).
//   kBinary: each type's binary form: bytea as its bytes and integers as their 2, 4 or 8 bytes,
//     with nothing to encode on the server or decode here; text-like types (text, varchar, name)
//     read the same as in kText. For statements whose columns are integers, floats, numeric,
//     text-like or bytea only: Text() of any other type (bool, timestamps, json, jsonb...) would
//     give the server's binary bytes.
enum class Format { kText, kBinary };

class Connection;

// The rows of one statement, in the form the statement asked for (Format); movable, owns its
// result. Rows and columns are 0-based. REQUIRES of every accessor: row < size(),
// column < columns().
class Rows {
 public:
  Rows(Rows&&) noexcept;
  Rows& operator=(Rows&&) noexcept;
  ~Rows();

  int size() const;     // rows returned
  int columns() const;  // columns of each row
  // Rows written by an INSERT, UPDATE, DELETE, MERGE or COPY, or returned by a SELECT (0 for
  // other statements).
  int64_t affected() const;

  ColumnType Type(int column) const;
  bool IsNull(int row, int column) const;
  // The value as an integer (REQUIRES: an integer column, or text that is one); 0 for NULL.
  int64_t Int(int row, int column) const;
  // The value as a double (REQUIRES: a float, numeric or integer column); 0 for NULL.
  double Double(int row, int column) const;
  // The value's text as the server wrote it; empty for NULL. Valid while these Rows live.
  std::string_view Text(int row, int column) const;
  // A bytea value, decoded from the server's hex form (kText) or as sent (kBinary); for other
  // columns the same as Text().
  std::string Bytes(int row, int column) const;

 private:
  friend class Connection;
  struct Free {
    void operator()(pg_result* result) const;
  };
  explicit Rows(pg_result* result);
  std::unique_ptr<pg_result, Free> result_;
};

// COPY ... FROM STDIN in progress (Connection::CopyFrom). Data is sent as written; End() ends
// the copy and returns the rows the server stored. Destroyed before End(), the copy is
// aborted and nothing of it is stored. REQUIRES: nothing else runs on the connection until
// End() returns or this is destroyed, and the Connection outlives it.
class CopyIn {
 public:
  CopyIn(CopyIn&& other) noexcept;
  CopyIn& operator=(CopyIn&&) = delete;
  ~CopyIn();

  // Sends bytes of the COPY stream: whole or partial rows, in the format the COPY named
  // (AppendCopyRow writes the default text format).
  Status Write(std::string_view data);
  // Ends the stream and waits for the server: the number of rows stored, or the error that
  // stopped the copy (a bad row: kInternal, with the line in the message; a duplicate: kConflict).
  Result<int64_t> End();

 private:
  friend class Connection;
  explicit CopyIn(Connection* db) : db_(db) {}
  Connection* db_;  // null once ended
};

// Appends one row in COPY's text format: values separated by tabs, ended by a newline,
// backslash escapes for tab, newline, carriage return and backslash, \N for NULL and bytea as
// \\x<hex>.
void AppendCopyRow(std::string& out, std::span<const Value> row);

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

struct Options {
  // Seconds to wait for a connection to be set up (libpq's connect_timeout; at least 2).
  int connect_timeout_s = 5;
  // Shown in pg_stat_activity and the server's log.
  std::string application_name = "vesta";
  // TCP keepalives (ignored on a unix socket): a peer silent for this long is probed, and given
  // up after keepalive_count unanswered probes keepalive_interval_s apart; data sent and not
  // acknowledged for as long as that (idle + interval × count) is given up too.
  int keepalive_idle_s = 5;
  int keepalive_interval_s = 2;
  int keepalive_count = 3;
  // The server cancels a statement that runs longer, a wait on another session's lock included
  // (SQLSTATE 57014, kUnavailable): without it a call would wait as long as the lock is held.
  // Set on the session at connect (and reconnect) only when it has none of its own, so a
  // statement_timeout from the server, the database, the role or the URI wins. 0: none set.
  int statement_timeout_ms = 30000;
};

class Connection {
 public:
  // How many SQL texts Query() prepares on one connection at most.
  static constexpr size_t kMaxPreparedStatements = 1000;

  // Connects to `uri`: any libpq connection string, a URI (postgresql://user@host:port/db?...)
  // or key=value pairs. Settings in `uri` win over `options`; the client encoding is always
  // UTF8. A password comes from the URI, PGPASSWORD or ~/.pgpass, as libpq reads them. Server
  // settings are left as the server has them (synchronous_commit stays `on`, so a COMMIT
  // returns once durable). kUnavailable when the server cannot be reached in time; the message
  // never repeats the URI (it may hold a password).
  static Result<std::unique_ptr<Connection>> Open(const std::string& uri, const Options& options);
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL statements, without parameters, whose rows do not matter (schema,
  // SET...). In one implicit transaction unless they contain their own BEGIN/COMMIT.
  Status Exec(std::string_view sql);

  // Runs `sql` with `params` as $1, $2...: prepared on this connection the first time it is
  // seen (a statement named vesta_<n>, kept until the connection closes or reconnects) and then
  // only executed. For SQL whose text is constant or takes a bounded number of shapes (a
  // search's text depends on its shape only): once kMaxPreparedStatements texts are prepared on
  // the connection, new texts run unprepared. The parameter types are fixed by the first call:
  // later calls pass the same kinds. `format`: how the rows come back (Format).
  Result<Rows> Query(std::string_view sql, std::span<const Value> params = {},
                     Format format = Format::kText);
  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params,
                     Format format = Format::kText) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()), format);
  }
  // Runs `sql` once as an unnamed statement: for SQL that varies per call (searches), which
  // would only fill the cache of prepared statements.
  Result<Rows> QueryUncached(std::string_view sql, std::span<const Value> params = {},
                             Format format = Format::kText);
  Result<Rows> QueryUncached(std::string_view sql, std::initializer_list<Value> params,
                             Format format = Format::kText) {
    return QueryUncached(sql, std::span<const Value>(params.begin(), params.size()), format);
  }

  // Starts a transaction (BEGIN ISOLATION LEVEL ...). Commit() fails with kConflict when the
  // transaction lost a race (SERIALIZABLE), and the transaction is then over.
  Status Begin(Isolation isolation = Isolation::kReadCommitted);
  Status Commit();
  Status Rollback();
  // SAVEPOINT / ROLLBACK TO SAVEPOINT / RELEASE SAVEPOINT. Names are SQL identifiers
  // ([A-Za-z_][A-Za-z0-9_]*; kInvalid otherwise). Rolling back to a savepoint also clears an
  // error that happened after it, so the transaction goes on.
  Status Savepoint(std::string_view name);
  Status RollbackToSavepoint(std::string_view name);
  Status ReleaseSavepoint(std::string_view name);
  // True between Begin() and the end of the transaction, failed or not.
  bool InTransaction() const;

  // Starts `COPY table (columns) FROM STDIN [WITH ...]`, given as `sql`.
  Result<CopyIn> CopyFrom(std::string_view sql);

  // Without a round trip: false when the connection is known to be lost (the server closed it,
  // e.g. on shutdown or restart, or an earlier call failed on it). True does not promise the
  // next call will succeed; Ping() asks the server.
  bool LooksAlive();
  // An empty statement to the server and back: OK, or kUnavailable when it is not there.
  Status Ping();
  // Closes the connection and opens it again with the same settings (bounded by
  // connect_timeout_s); prepared statements are forgotten and prepared again when next used.
  Status Reconnect();

  // The server's version as a number (150004 for 15.4).
  int ServerVersion() const;

 private:
  friend class CopyIn;
  Connection(pg_conn* conn, const Options& options) : conn_(conn), options_(options) {}
  Result<Rows> Run(pg_result* result, std::string_view what);
  // The session settings of Options that are not connection parameters (statement_timeout_ms),
  // after a connect or reconnect.
  Status SetUpSession();

  pg_conn* conn_;
  const Options options_;
  std::unordered_map<std::string, std::string> statements_;  // SQL text → statement name
  int64_t next_statement_ = 0;
};

// Runs `body` (returning Status) inside BEGIN ISOLATION LEVEL `isolation` ... COMMIT. Rolls back
// when `body` or the commit fails and returns that Status.
template <typename F>
Status InTransaction(Connection& db, Isolation isolation, F&& body) {
  RETURN_IF_ERROR(db.Begin(isolation));
  Status status = body();
  if (status.ok()) status = db.Commit();
  if (!status.ok() && db.InTransaction()) (void)db.Rollback();
  return status;
}

}  // namespace vesta::postgres

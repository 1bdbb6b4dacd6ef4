// A thin adapter over one sqlite3 connection for the terminology database: prepared statements
// cached per connection, SQLite result codes turned into Status. Internal to src/terminology/;
// sqlite3.h stays in sqlite_db.cc.
//
// (The resource store has its own adapter in store/sqlite/; the dependency rule keeps
// terminology below store, so this one is deliberately minimal.)
//
// Thread-safety: a Db is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vesta::terminology::internal {

// A cached prepared statement borrowed from its Db; reset and unbound when it goes out of scope.
// REQUIRES: the Db outlives the Stmt.
class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_), db_(other.db_), bind_rc_(other.bind_rc_) {
    other.stmt_ = nullptr;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // 1-based parameters; text is copied.
  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, std::string_view value);
  Stmt& BindNull(int index);
  // Binds text, or NULL when empty.
  Stmt& BindTextOrNull(int index, std::string_view value);

  // True when a row is ready, false when done.
  Result<bool> Step();
  // Steps to completion and resets, so the statement can be bound and run again.
  Status Run();
  void Reset();

  // 0-based columns. REQUIRES: the last Step() returned true.
  int64_t Int(int column) const;
  bool IsNull(int column) const;
  std::string Text(int column) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = 0;
};

class Db {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Mode mode);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);
  int64_t Changes() const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back when it fails.
template <typename F>
Status InTransaction(Db& db, F&& body) {
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status s = body();
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  return db.Exec("COMMIT");
}

}  // namespace vesta::terminology::internal

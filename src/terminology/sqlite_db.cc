#include "terminology/sqlite_db.h"

#include <sqlite3.h>

namespace vesta::terminology::internal {
namespace {

Status Error(sqlite3* db, int rc, std::string_view what) {
  std::string msg = "terminology database: ";
  msg += what;
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Internal(std::move(msg));
}

}  // namespace

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Stmt& Stmt::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::Bind(int index, std::string_view value) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  int rc = sqlite3_bind_text(stmt_, index, value.empty() ? "" : value.data(),
                             static_cast<int>(value.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::BindTextOrNull(int index, std::string_view value) {
  return value.empty() ? BindNull(index) : Bind(index, value);
}

Result<bool> Stmt::Step() {
  if (bind_rc_ != SQLITE_OK) return Error(nullptr, bind_rc_, "bind");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(db_, rc, "step");
}

Status Stmt::Run() {
  Result<bool> r = Step();
  Reset();
  if (!r.ok()) return r.status();
  return Status::Ok();
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

int64_t Stmt::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Stmt::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Stmt::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, Mode mode) {
  sqlite3* db = nullptr;
  int flags =
      SQLITE_OPEN_NOMUTEX |
      (mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Error(db, rc, "open " + path);
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<Db> out(new Db(db));
  if (mode == Mode::kReadWrite) {
    RETURN_IF_ERROR(out->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  }
  RETURN_IF_ERROR(out->Exec("PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;"));
  return out;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Db::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = "terminology database: ";
    msg += err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Internal(std::move(msg));
  }
  return Status::Ok();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(db_, rc, "prepare");
    it = cache_.emplace(std::move(key), stmt).first;
  }
  return Stmt(it->second, db_);
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

}  // namespace vesta::terminology::internal

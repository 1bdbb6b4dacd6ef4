#include "sqlite/connection.h"

#include <sqlite3.h>

#include <mutex>
#include <utility>

namespace vesta::sqlite {

Status Error(int rc, sqlite3* db, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {  // the primary result code
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
      return Status(StatusCode::kUnavailable, std::move(message));
    case SQLITE_CONSTRAINT:
      return Status(StatusCode::kConflict, std::move(message));
    default:
      return Status(StatusCode::kInternal, std::move(message));
  }
}

// ---- Statement --------------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      db_(other.db_),
      owned_(other.owned_),
      bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Statement::Note(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Statement& Statement::Bind(int index, int64_t value) {
  Note(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  Note(sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(),
                           SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::BindDouble(int index, double value) {
  Note(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  Note(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(), bytes.size(),
                           SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::BindNull(int index) {
  Note(sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::BindTextOrNull(int index, std::string_view text) {
  return text.empty() ? BindNull(index) : Bind(index, text);
}

Statement& Statement::BindValue(int index, const Value& value) {
  if (const int64_t* i = std::get_if<int64_t>(&value)) return Bind(index, *i);
  if (const double* d = std::get_if<double>(&value)) return BindDouble(index, *d);
  if (const std::string_view* s = std::get_if<std::string_view>(&value)) return Bind(index, *s);
  return BindNull(index);
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return Error(bind_rc_, nullptr, "binding a parameter");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc, db_, "running a statement");
}

Status Statement::Run() {
  Status status = Status::Ok();
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) {
      status = row.status();
      break;
    }
    if (!*row) break;
  }
  Reset();
  return status;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

ColumnType Statement::Type(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER:
      return ColumnType::kInteger;
    case SQLITE_FLOAT:
      return ColumnType::kFloat;
    case SQLITE_TEXT:
      return ColumnType::kText;
    case SQLITE_BLOB:
      return ColumnType::kBlob;
    default:
      return ColumnType::kNull;
  }
}

std::string Statement::Text(int column) const {
  // sqlite3_column_blob first, then _bytes: the documented order that avoids a conversion.
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

int64_t Statement::TakeVmSteps() {
  return sqlite3_stmt_status(stmt_, SQLITE_STMTSTATUS_VM_STEP, /*resetFlg=*/1);
}

// ---- Connection -------------------------------------------------------------------------------

namespace {

// Process-wide settings, which SQLite accepts only before its first use. Memory statistics off:
// with them on, every allocation SQLite makes takes a global mutex, and a write allocates often.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // SQLITE_MISUSE when another part of the process initialised SQLite first: the defaults hold.
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

}  // namespace

OpenOptions OpenOptions::ReadWrite(std::vector<std::string> pragmas) {
  OpenOptions options;
  options.mode = Mode::kReadWrite;
  options.pragmas = std::move(pragmas);
  return options;
}

OpenOptions OpenOptions::ReadOnly() {
  OpenOptions options;
  options.mode = Mode::kReadOnly;
  options.map_for_reading = true;
  return options;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode) {
  OpenOptions options;
  options.mode = mode;
  return Open(path, options);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     const OpenOptions& options) {
  ConfigureSqliteOnce();
  // NOMUTEX: each connection is confined to one thread at a time by its user, so SQLite's
  // per-connection mutex would only cost time.
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= options.mode == Mode::kReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                            : SQLITE_OPEN_READONLY;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = Error(rc, db, "opening " + path);
    sqlite3_close_v2(db);
    return status;
  }
  std::unique_ptr<Connection> connection(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  if (options.map_for_reading) {
    // SQLite lowers the size to its SQLITE_MAX_MMAP_SIZE; an error leaves ordinary reads.
    (void)connection->Exec("PRAGMA mmap_size = 1099511627776");
  }
  for (const std::string& pragma : options.pragmas) {
    Status status = connection->Exec("PRAGMA " + pragma);
    if (!status.ok()) {
      return Status(status.code(), path + ": PRAGMA " + pragma + ": " + status.message());
    }
  }
  return connection;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  Status status = Error(rc, db_, "executing SQL");
  sqlite3_free(error);
  return status;
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = statements_.find(key);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, db_, "preparing \"" + key + "\"");
    it = statements_.emplace(std::move(key), stmt).first;
  }
  return Statement(it->second, db_, /*owned=*/false);
}

Result<Statement> Connection::PrepareUncached(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, db_, "preparing \"" + std::string(sql) + "\"");
  }
  return Statement(stmt, db_, /*owned=*/true);
}

void Connection::OnLogCommit(std::function<void(int log_pages)> hook) {
  log_hook_ = std::move(hook);
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int log_pages) {
        static_cast<Connection*>(self)->log_hook_(log_pages);
        return SQLITE_OK;
      },
      this);
}

Result<bool> Connection::Checkpoint(CheckpointMode mode) {
  int how = mode == CheckpointMode::kPassive   ? SQLITE_CHECKPOINT_PASSIVE
            : mode == CheckpointMode::kRestart ? SQLITE_CHECKPOINT_RESTART
                                               : SQLITE_CHECKPOINT_TRUNCATE;
  int log_pages = 0;
  int copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, how, &log_pages, &copied);
  if (rc == SQLITE_OK) return true;
  if (rc == SQLITE_BUSY) return false;
  return Error(rc, db_, "checkpoint");
}

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

int64_t Connection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

// ---- ReadSnapshot -----------------------------------------------------------------------------

ReadSnapshot::~ReadSnapshot() {
  if (db_.InTransaction()) (void)db_.Exec("COMMIT");
}

Status ReadSnapshot::Begin() { return db_.Exec("BEGIN"); }

}  // namespace vesta::sqlite

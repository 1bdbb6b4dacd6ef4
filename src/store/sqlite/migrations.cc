#include "store/sqlite/migrations.h"

#include <string>

namespace vesta::store::sqlite_internal {

namespace {

// The bookkeeping table is created by code, not by a migration: the runner must read it before
// it knows which migrations to run.
constexpr std::string_view kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";

Status ApplyOne(sqlite::Connection& db, const Migration& m, int64_t now) {
  RETURN_IF_ERROR(db.Exec(m.sql));
  ASSIGN_OR_RETURN(sqlite::Statement record,
                   db.Prepare("INSERT INTO schema_version (version, name, applied_at) "
                              "VALUES (?1, ?2, ?3)"));
  record.Bind(1, m.version).Bind(2, m.name).Bind(3, now);
  return record.Run();
}

}  // namespace

Status ApplyMigrations(sqlite::Connection& db, std::span<const Migration> migrations, int64_t now) {
  RETURN_IF_ERROR(db.Exec(kCreateSchemaVersion));
  int64_t current = 0;
  {
    ASSIGN_OR_RETURN(sqlite::Statement max_version,
                     db.Prepare("SELECT coalesce(max(version), 0) FROM schema_version"));
    ASSIGN_OR_RETURN(bool row, max_version.Step());
    if (row) current = max_version.Int(0);
  }
  int64_t known = migrations.empty() ? 0 : migrations.back().version;
  if (current > known) {
    return Status(StatusCode::kUnavailable, "the database has schema version " +
                                                std::to_string(current) +
                                                " but this binary knows only up to " +
                                                std::to_string(known) + "; use a newer vesta");
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status status = ApplyOne(db, m, now);
    if (!status.ok()) {
      if (db.InTransaction()) (void)db.Exec("ROLLBACK");
      return Status(status.code(),
                    std::string("schema migration ") + m.name + ": " + status.message());
    }
    RETURN_IF_ERROR(db.Exec("COMMIT"));
  }
  return Status::Ok();
}

}  // namespace vesta::store::sqlite_internal

#include "store/postgres/migrations.h"

#include <string>

namespace vesta::store::postgres_internal {

namespace {

// The bookkeeping table is created by code, not by a migration: the runner must read it before
// it knows which migrations to run.
constexpr std::string_view kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

Status ApplyLocked(postgres::Connection& db, std::span<const Migration> migrations, int64_t now) {
  RETURN_IF_ERROR(db.Exec(kCreateSchemaVersion));
  int64_t current = 0;
  {
    ASSIGN_OR_RETURN(postgres::Rows rows,
                     db.QueryUncached("SELECT coalesce(max(version), 0) FROM schema_version"));
    if (rows.size() == 1) current = rows.Int(0, 0);
  }
  const int64_t known = migrations.empty() ? 0 : migrations.back().version;
  if (current > known) {
    return Status(StatusCode::kUnavailable, "the database has PostgreSQL store schema version " +
                                                std::to_string(current) +
                                                " but this binary knows only up to " +
                                                std::to_string(known) + "; use a newer vesta");
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    Status status = postgres::InTransaction(db, postgres::Isolation::kReadCommitted, [&] {
      RETURN_IF_ERROR(db.Exec(m.sql));
      return db
          .QueryUncached(
              "INSERT INTO schema_version (version, name, applied_at)"
              " VALUES ($1, $2, $3)",
              {m.version, std::string_view(m.name), now})
          .status();
    });
    if (!status.ok()) {
      return Status(status.code(),
                    std::string("schema migration ") + m.name + ": " + status.message());
    }
  }
  return Status::Ok();
}

}  // namespace

Status ApplyMigrations(postgres::Connection& db, std::span<const Migration> migrations,
                       int64_t now) {
  // A hot standby (a read replica, `vesta serve --read-store`) cannot be written: it gets its
  // schema from the primary's WAL. Check that it has the version this binary knows, and apply
  // nothing.
  ASSIGN_OR_RETURN(postgres::Rows recovery, db.QueryUncached("SELECT pg_is_in_recovery()"));
  if (recovery.size() == 1 && recovery.Text(0, 0) == "t") {
    const int64_t known = migrations.empty() ? 0 : migrations.back().version;
    int64_t current = 0;
    ASSIGN_OR_RETURN(postgres::Rows exists,
                     db.QueryUncached("SELECT to_regclass('schema_version') IS NOT NULL"));
    if (exists.size() == 1 && exists.Text(0, 0) == "t") {
      ASSIGN_OR_RETURN(postgres::Rows rows,
                       db.QueryUncached("SELECT coalesce(max(version), 0) FROM schema_version"));
      if (rows.size() == 1) current = rows.Int(0, 0);
    }
    if (current == known) return Status::Ok();
    return Status(StatusCode::kUnavailable,
                  "the replica has PostgreSQL store schema version " + std::to_string(current) +
                      " and this binary needs " + std::to_string(known) +
                      ": open the primary first, and let the replica replay its migrations");
  }
  RETURN_IF_ERROR(
      db.QueryUncached("SELECT pg_advisory_lock($1::bigint)", {kMigrationLockKey}).status());
  Status status = ApplyLocked(db, migrations, now);
  // A session lock outlives transactions: release it whatever happened (a lost connection has
  // released it already).
  Status unlock =
      db.QueryUncached("SELECT pg_advisory_unlock($1::bigint)", {kMigrationLockKey}).status();
  if (status.ok()) status = unlock;
  return status;
}

}  // namespace vesta::store::postgres_internal

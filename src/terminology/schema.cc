#include "terminology/schema.h"

#include <string>

#include "terminology/db.h"

namespace vesta::terminology::internal {
namespace {

std::span<const Migration> MigrationsOf(const Db& db) {
  return db.dialect() == Dialect::kPostgres ? postgres_schema::EmbeddedMigrations()
                                            : sqlite_schema::EmbeddedMigrations();
}

// The bookkeeping table is created by code, not by a migration: the runner reads it before it
// knows which migrations to run. The same SQL in both dialects.
constexpr std::string_view kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS terminology_schema_version ("
    " version BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL)";

}  // namespace

int64_t KnownSchemaVersion(const Db& db) {
  std::span<const Migration> migrations = MigrationsOf(db);
  return migrations.empty() ? 0 : migrations.back().version;
}

Status ApplyMigrations(Db& db) {
  std::span<const Migration> migrations = MigrationsOf(db);
  return db.InTransaction([&]() -> Status {
    RETURN_IF_ERROR(db.Exec(kCreateSchemaVersion));
    ASSIGN_OR_RETURN(Rows rows,
                     db.Query("SELECT coalesce(max(version), 0) FROM terminology_schema_version"));
    const int64_t current = rows.empty() ? 0 : rows.Int(0, 0);
    const int64_t known = KnownSchemaVersion(db);
    if (current > known) {
      return Status(StatusCode::kUnavailable, "the database has terminology schema version " +
                                                  std::to_string(current) +
                                                  " but this binary knows only up to " +
                                                  std::to_string(known) + "; use a newer vesta");
    }
    for (const Migration& m : migrations) {
      if (m.version <= current) continue;
      if (Status s = db.ExecScript(m.sql); !s.ok()) {
        return Status(s.code(),
                      std::string("terminology schema migration ") + m.name + ": " + s.message());
      }
      RETURN_IF_ERROR(
          db.Exec("INSERT INTO terminology_schema_version (version, name) VALUES (?1, ?2)",
                  {m.version, std::string_view(m.name)}));
    }
    return Status::Ok();
  });
}

}  // namespace vesta::terminology::internal

// Schema migrations: the numbered .sql files under schema/, compiled into the binary by
// embed_sql.cmake, applied in order at open and recorded in the `schema_version` table.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "sqlite/connection.h"

namespace vesta::store::sqlite_internal {

struct Migration {
  int64_t version;   // NNN of NNN_name.sql
  const char* name;  // the file name without .sql, e.g. "001_initial"
  const char* sql;
};

// All migrations in the binary, in increasing version order (generated: schema_embedded.cc).
std::span<const Migration> EmbeddedMigrations();

// Applies the migrations of `migrations` newer than the database's recorded version, each in its
// own transaction together with its `schema_version` row, so a crash leaves the schema at some
// whole version. Fails with kUnavailable when the database was written by a newer binary (it
// records a version this binary does not know): running on it could corrupt data.
// `now` is stored as applied_at.
Status ApplyMigrations(sqlite::Connection& db, std::span<const Migration> migrations, int64_t now);

}  // namespace vesta::store::sqlite_internal

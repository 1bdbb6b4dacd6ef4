// Schema migrations of the PostgreSQL store: the numbered .sql files under schema/, compiled into
// the binary by the SQLite store's embed_sql.cmake, applied in order at open and recorded in the
// `schema_version` table.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "postgres/connection.h"

namespace vesta::store::postgres_internal {

struct Migration {
  int64_t version;   // NNN of NNN_name.sql
  const char* name;  // the file name without .sql, e.g. "001_initial"
  const char* sql;
};

// All migrations in the binary, in increasing version order (generated: schema_embedded.cc).
std::span<const Migration> EmbeddedMigrations();

// The key of the session advisory lock the migrations run under (pg_advisory_lock), so that
// nodes starting together on one database apply each migration once, one after the other.
inline constexpr int64_t kMigrationLockKey = 0x7665737461303031;  // "vesta001"

// Takes the advisory lock, then applies the migrations of `migrations` newer than the
// database's recorded version, each in its own transaction together with its `schema_version`
// row (PostgreSQL's DDL is transactional: a crash leaves the schema at some whole version), and
// releases the lock. Fails with kUnavailable, applying nothing, when the database records a
// version this binary does not know (written by a newer vesta: running on it could corrupt data),
// the same code as the SQLite store's. `now` is stored as applied_at.
Status ApplyMigrations(postgres::Connection& db, std::span<const Migration> migrations,
                       int64_t now);

}  // namespace vesta::store::postgres_internal

// The terminology database schema, as numbered migrations per dialect (schema/sqlite/NNN_*.sql,
// schema/postgres/NNN_*.sql, compiled in by embed_sql.cmake), and the names that the loaders and
// the service share. Internal to src/terminology/. docs/terminology.md describes the tables;
// docs/storage.md ("Terminology on PostgreSQL") how they live next to the store's.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/status.h"

namespace vesta::terminology::internal {

class Db;

inline constexpr std::string_view kIcd10CmUrl = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr std::string_view kIcd9CmUrl = "http://hl7.org/fhir/sid/icd-9-cm";

struct Migration {
  int64_t version;   // NNN of NNN_name.sql
  const char* name;  // the file name without .sql, e.g. "001_initial"
  const char* sql;
};

// Applies the migrations of db's dialect newer than the version recorded in the table
// `terminology_schema_version` (its own, apart from the store's `schema_version`), all in one
// write transaction (Db::InTransaction: on PostgreSQL under an advisory lock, so that nodes and
// loaders starting together apply each migration once). kUnavailable, applying nothing, when the
// database records a version this binary does not know (written by a newer vesta).
Status ApplyMigrations(Db& db);

// The latest migration version of the binary in `db`'s dialect, and the database's.
int64_t KnownSchemaVersion(const Db& db);

}  // namespace vesta::terminology::internal

// The generated lists (embed_sql.cmake), one namespace per dialect.
namespace vesta::terminology::sqlite_schema {
using Migration = internal::Migration;
std::span<const Migration> EmbeddedMigrations();
}  // namespace vesta::terminology::sqlite_schema

namespace vesta::terminology::postgres_schema {
using Migration = internal::Migration;
std::span<const Migration> EmbeddedMigrations();
}  // namespace vesta::terminology::postgres_schema

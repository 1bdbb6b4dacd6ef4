#include "terminology/db.h"

#include <charconv>

#include "terminology/schema.h"
#include "terminology/sqlite_db.h"

#ifdef VESTA_TERMINOLOGY_POSTGRES
#include "terminology/postgres_db.h"
#endif

namespace vesta::terminology::internal {

int64_t Rows::Int(int row, int column) const {
  const std::string& text = cells_[Index(row, column)];
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool IsPostgresLocation(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Result<std::unique_ptr<Db>> OpenDb(const std::string& location, Access access) {
  std::unique_ptr<Db> db;
  if (IsPostgresLocation(location)) {
#ifdef VESTA_TERMINOLOGY_POSTGRES
    ASSIGN_OR_RETURN(db, OpenPostgresDb(location, access));
#else
    return Status(StatusCode::kNotSupported,
                  "the terminology on PostgreSQL needs a vesta built with libpq");
#endif
  } else {
    ASSIGN_OR_RETURN(db, OpenSqliteDb(location, access));
  }
  // A server's SQLite file is read-only: its schema is what the loaders left (version 1 has
  // IF NOT EXISTS, so files from before the schema was versioned read the same). On PostgreSQL
  // a server brings the schema up to date as a loader does (a no-op once done).
  if (access == Access::kWrite || db->dialect() == Dialect::kPostgres) {
    RETURN_IF_ERROR(ApplyMigrations(*db));
  }
  return db;
}

}  // namespace vesta::terminology::internal

// The terminology database in a SQLite file of its own (<data-dir>/terminology.db), on the SQLite
// adapter (sqlite/connection.h). Internal to src/terminology/; reached through OpenDb (db.h).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "terminology/db.h"

namespace vesta::terminology::internal {

// Opens the file at `path`: kWrite in WAL mode with synchronous=NORMAL (created when missing;
// migrations are OpenDb's), kRead read-only (NotFound when the file does not exist); a 64 MiB
// page cache, foreign keys off.
Result<std::unique_ptr<Db>> OpenSqliteDb(const std::string& path, Access access);

}  // namespace vesta::terminology::internal

// The terminology database (<data-dir>/terminology.db) on the SQLite adapter (sqlite/connection.h):
// how it is opened. Internal to src/terminology/; statements, transactions (sqlite::InTransaction)
// and errors are the adapter's.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "sqlite/connection.h"

namespace vesta::terminology::internal {

// Opens the database at `path`: in WAL mode with synchronous=NORMAL when writing (loaders), a
// 64 MiB page cache, foreign keys off. Thread-safety: the connection is used by one thread at a
// time.
Result<std::unique_ptr<sqlite::Connection>> OpenTerminologyDb(const std::string& path,
                                                              sqlite::Mode mode);

}  // namespace vesta::terminology::internal

// Internal to the SQLite store: its versioned part (resources, history, the writer, the log sync
// and checkpoints; sqlite_store.cc) as open.cc assembles it with search. Not for other callers:
// use OpenSqliteStore (sqlite_store.h).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace vesta::sqlite {
class Connection;
class ReaderPool;
}  // namespace vesta::sqlite

namespace vesta::store {

struct SqliteStoreOptions;

namespace sqlite_internal {

// Runs a search on a read-only connection leased from the store's reader pool.
using SearchFunction =
    std::function<Result<SearchPage>(sqlite::Connection& reader, const SearchQuery& query)>;

// Opens (or creates) the database at `path` for writing with the writer's pragmas, applies the
// pending migrations, and starts the store's threads. `options.write_hooks` are the hooks to run,
// in order (OpenSqliteStore puts the search index hook first). Reads, history and searches run
// on `readers`, which the store's Close() closes after the writer has drained: every reader is
// covered by the close promise. `search` answers Store::Search (empty: kNotSupported).
Result<std::unique_ptr<Store>> OpenVersionStore(const SqliteStoreOptions& options,
                                                const std::string& path,
                                                std::shared_ptr<sqlite::ReaderPool> readers,
                                                SearchFunction search);

}  // namespace sqlite_internal
}  // namespace vesta::store

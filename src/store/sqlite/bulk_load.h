// Bulk loads into the SQLite store with deferred index builds (docs/storage.md, "Bulk loads";
// schema/014_deferred_index.sql).
//
// A row inserted into a B-tree index whose keys arrive in random order (resource ids, patient
// ids, codes) dirties a page of its own: the writer's cost per resource then grows with the
// index, and the log carries a page per entry. During a bulk load such indexes are dropped and
// built at the end, where CREATE INDEX sorts all keys once and writes every page once. Kept
// during the load: primary keys, `resource_current` (the compare-and-set) and the indexes that
// start with `seq` (their keys arrive in order, and replacing a version deletes by seq).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "sqlite/connection.h"

namespace vesta::store::sqlite_internal {

// A bulk load is started only into a store with at most this many resource versions: past it,
// building the whole store's indexes again costs more than the load saves.
inline constexpr int64_t kBulkLoadMaxVersions = 100000;

// Drops the deferred indexes and records them in `deferred_index`, in one transaction; a store
// with more than kBulkLoadMaxVersions versions is left as it is. Returns whether it started.
Result<bool> StartBulkLoad(sqlite::Connection& db);

// Builds the indexes recorded in `deferred_index` (if any) and empties it, in one transaction.
// The sort spills to temporary files, so its memory does not grow with the store.
Status FinishBulkLoad(sqlite::Connection& db);

}  // namespace vesta::store::sqlite_internal

// Internal to the SQLite store: the change feed behind Store::Changes (store/store.h,
// ChangeQuery), read on one of the store's reader connections.
#pragma once

#include "base/status.h"
#include "sqlite/connection.h"
#include "store/store.h"

namespace vesta::store::sqlite_internal {

// A version from a row whose columns are, in order, seq, type, id, version, last_updated, deleted
// and json (the body, decoded: `db` is the row's connection, where a body's dictionary is looked
// up the first time).
Result<StoredVersion> ReadVersionRow(const sqlite::Statement& row, sqlite::Connection& db);

// The current versions with a seq after `query.after`, in seq order (commit order: one writer).
Result<ChangePage> ReadChanges(sqlite::Connection& db, const ChangeQuery& query);

}  // namespace vesta::store::sqlite_internal

// Internal to the SQLite store: the change feed behind Store::Changes (store/store.h,
// ChangeQuery), read on one of the store's reader connections.
#pragma once

#include "base/status.h"
#include "sqlite/connection.h"
#include "store/store.h"

namespace vesta::store::sqlite_internal {

// The current versions with a seq after `query.after`, in seq order (commit order: one writer).
Result<ChangePage> ReadChanges(sqlite::Connection& db, const ChangeQuery& query);

}  // namespace vesta::store::sqlite_internal

// Internal to the SQLite store: Store::ExpungeHistory (store/store.h), which runs on the store's
// writer thread like a Write() call, in its own savepoint of the batch's transaction.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "sqlite/connection.h"

namespace vesta::store::sqlite_internal {

// One ExpungeHistory() call, owned by its caller, who waits for the writer's answer.
struct ExpungeCall {
  std::string type;
  std::string id;
  int64_t removed = 0;  // set by the writer
};

// Deletes the `resource` rows of call->type/id other than its current one, on the writer's
// connection inside its transaction; `call->removed` gets their number. kNotFound when the
// resource has no current row. `wrote` becomes true once a row may have been deleted.
Status ApplyExpunge(sqlite::Connection& db, ExpungeCall* call, bool* wrote);

}  // namespace vesta::store::sqlite_internal

// Store::ExpungeHistory on SQLite (expunge.h).
#include "store/sqlite/expunge.h"

namespace vesta::store::sqlite_internal {

// Only `resource` holds rows of versions that are no longer current: every index table
// (schema/002_search.sql and later: search_*, search_text) and resource_current point at the
// current version's seq. The current row always has the largest seq of its resource, so the
// table's largest seq stays and SQLite never hands a removed seq out again: change feed positions
// (a seq) and history cursors (last_updated, seq) read before stay valid. The read cache holds
// current versions only, which this does not change.
Status ApplyExpunge(sqlite::Connection& db, ExpungeCall* call, bool* wrote) {
  int64_t current_seq = 0;
  {
    ASSIGN_OR_RETURN(sqlite::Statement find, db.Prepare("SELECT seq FROM resource_current"
                                                        " WHERE type = ?1 AND id = ?2"));
    find.Bind(1, call->type).Bind(2, call->id);
    ASSIGN_OR_RETURN(bool row, find.Step());
    if (!row) return NotFound(call->type + "/" + call->id + " does not exist");
    current_seq = find.Int(0);
  }
  // The (type, id) range of resource_version, as one resource's history reads it. (No INDEXED
  // BY: a bulk load drops that index until it ends; the equality on both columns picks it.)
  ASSIGN_OR_RETURN(sqlite::Statement remove,
                   db.Prepare("DELETE FROM resource WHERE type = ?1 AND id = ?2 AND seq <> ?3"));
  remove.Bind(1, call->type).Bind(2, call->id).Bind(3, current_seq);
  *wrote = true;
  RETURN_IF_ERROR(remove.Run());
  call->removed = db.Changes();
  return Status::Ok();
}

}  // namespace vesta::store::sqlite_internal

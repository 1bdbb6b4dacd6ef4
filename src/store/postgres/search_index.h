// The search index of the PostgreSQL store: the rows of schema/002_search.sql for one version,
// written in the same transaction as the version itself, so that a search sees a resource
// exactly when a read does (docs/search.md). The values are those the SQLite store indexes
// (search::ExtractIndexRows, search::ExtractText): both stores answer a search the same way.
//
//   IndexRowsParams rows = PrepareIndexRows(op);  // on the caller's thread, before the write
//   db.Query(pgwrite::CreateStatement(), pgwrite::Params(op, rows, &shard_key));  // write_sql.h
//
// The write's own statement writes every table (data-modifying WITH clauses, one array per
// column), so a write costs one round trip for its index however many values the resource has.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace vesta::postgres {
class Connection;
}

namespace vesta::store {

// The parameters of the index statement for one version (its arrays as text), prepared before
// the transaction: extraction with FHIRPath is the costly part, and runs on the caller's thread.
struct IndexRowsParams {
  bool live = false;  // false for a delete: only the replaced version's rows are removed
  std::string type, id;
  int64_t last_updated = 0;
  std::vector<std::string> arrays;    // in the write statements' order (write_sql.cc)
  std::string narrative, everything;  // tsvector text
  bool has_text = false;
};

// The index rows of `op`'s new version. Bytes that are not a resource of `op.type` (store tests)
// are listed in search_resource without values, as in the SQLite store.
IndexRowsParams PrepareIndexRows(const WriteOp& op);

// Empties the index and indexes every current version again, in one transaction, a thousand
// versions per statement (pgwrite::BulkIndexStatement; memory stays flat). Returns the number of
// resources indexed. For `vesta reindex --store` and after stored SearchParameters change.
Result<int64_t> ReindexPostgres(postgres::Connection& db);

// The SearchParameter resources stored in the database, as search::Registry::Active() (see
// store/sqlite/search_index.h, ActivateStoredSearchParameters). Returns how many were stored.
Result<int> ActivatePostgresSearchParameters(postgres::Connection& db,
                                             std::vector<std::string>* skipped);

}  // namespace vesta::store

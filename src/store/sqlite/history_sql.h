// Internal to the SQLite store: the SQL of a history page and its total (sqlite_store.cc), on
// its own so that tests can ask SQLite how it runs them.
#pragma once

#include <string>
#include <string_view>

#include "store/store.h"

namespace vesta::store::sqlite_internal {

struct HistorySql {
  // Parameters, fixed per role so that every variant binds the same way and is cached once per
  // connection: ?1 type, ?2 id, ?3 since, ?4 and ?5 the `at` range, ?6 and ?7 the cursor's
  // (last_updated, seq), ?8 the rows to read. Only those the query uses appear.
  std::string page;   // `columns` of resource r, newest first
  std::string count;  // SELECT count(*) with the same filter
};

// REQUIRES: query.type is set when query.id is.
HistorySql BuildHistorySql(const HistoryQuery& query, std::string_view columns);

}  // namespace vesta::store::sqlite_internal

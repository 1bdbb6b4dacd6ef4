// Running searches on the PostgreSQL store: a search is planned by src/search
// (search::PlanSearch), rendered by search_sql.h, and its page, total and includes are read from
// the index tables that the store's writes keep current (search_index.h), in one REPEATABLE READ
// snapshot. The twin of store/sqlite/search_run.h.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace vesta::postgres {
class Connection;
}

namespace vesta::store {

// Plans `query` and reads its page (matches, then included resources), its total and the next
// page's cursor. kInvalid, naming the parameter, for a request the planner refuses.
// REQUIRES: `db` is not inside a transaction.
Result<SearchPage> RunPostgresSearch(postgres::Connection& db, const SearchQuery& query);

// For tests: the `EXPLAIN (FORMAT TEXT)` lines of the page query a search would run (its
// values bound, so the plan is the one they get), on `db` with its session's settings.
Result<std::vector<std::string>> ExplainPostgresSearch(postgres::Connection& db,
                                                       const SearchQuery& query);

}  // namespace vesta::store

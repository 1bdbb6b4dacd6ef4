// Running searches on the SQLite store: a search is planned by src/search (search::PlanSearch)
// and its page, total and includes are read from the index tables that the index hook
// (search_index.h) keeps current (docs/search.md). Store::Search calls RunSqliteSearch on a
// read-only connection of the store's reader pool.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace vesta::sqlite {
class Connection;
}

namespace vesta::store {

// Plans `query` and reads its page (matches, then included resources), its total and the next
// page's cursor, in one snapshot of `db`. kInvalid, naming the parameter, for a request the
// planner refuses.
Result<SearchPage> RunSqliteSearch(sqlite::Connection& db, const SearchQuery& query);

// For tests: the `EXPLAIN QUERY PLAN` lines of the page query a search would run on the database
// in `directory`.
Result<std::vector<std::string>> ExplainSqliteSearch(const std::string& directory,
                                                     const SearchQuery& query);

// For tests: the total a search would report and the SQLite virtual machine steps spent
// computing it, to compare the work of _total=estimate and _total=accurate.
struct TotalCost {
  std::optional<int64_t> total;
  int64_t vm_steps = 0;
};
Result<TotalCost> MeasureSqliteTotal(const std::string& directory, const SearchQuery& query);

}  // namespace vesta::store

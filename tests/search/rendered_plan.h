// A search plan with its SQLite rendering, for the tests that check the SQL a request becomes
// (store/sqlite/search_sql.h): the plan's fields, plus `where`, `filter` and `driving_set` as
// the SQLite store runs them.
#pragma once

#include <optional>

#include "search/plan.h"
#include "store/sqlite/search_sql.h"

namespace vesta::search {

using store::sql::PageSql;
using store::sql::SetCountSql;
using store::sql::Sql;
using store::sql::SqlArg;

struct RenderedPlan : Plan {
  Sql where;
  Sql filter;
  std::optional<Sql> driving_set;
};

inline Result<RenderedPlan> PlanAndRender(const Registry& registry, const SearchSpec& spec) {
  ASSIGN_OR_RETURN(Plan plan, PlanSearch(registry, spec));
  RenderedPlan r;
  static_cast<Plan&>(r) = std::move(plan);
  r.where = store::sql::WhereSql(r);
  r.filter = store::sql::FilterSql(r);
  r.driving_set = store::sql::DrivingSetSql(r);
  return r;
}

}  // namespace vesta::search

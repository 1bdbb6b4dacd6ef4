#include "store/sqlite/history_sql.h"

namespace vesta::store::sqlite_internal {

// https://hl7.org/fhir/R4/http.html#history
HistorySql BuildHistorySql(const HistoryQuery& query, std::string_view columns) {
  // One resource's history reads the (type, id) range of resource_version and sorts those few
  // rows. Left to itself SQLite would walk the type's whole history in order instead: there the
  // time and seq terms are written `+r.last_updated` and `+r.seq`, which no index can serve, so
  // that the (type, id) equality decides. No INDEXED BY: a bulk load drops resource_version until
  // it ends (bulk_load.h), and a server reading the store meanwhile must still answer.
  const bool one = !query.id.empty();
  const std::string updated = one ? "+r.last_updated" : "r.last_updated";
  const std::string seq = one ? "+r.seq" : "r.seq";
  std::string where = " FROM resource r WHERE 1 = 1";
  if (!query.type.empty()) where += " AND r.type = ?1";
  if (one) where += " AND r.id = ?2";
  if (query.since.has_value()) where += " AND " + updated + " >= ?3";
  // A version is current from its last_updated until the next version's (superseded_at):
  // it overlaps [low, high] when it starts by `high` and has not been replaced by `low`.
  if (query.at.has_value()) {
    where += " AND " + updated + " <= ?5 AND (r.superseded_at IS NULL OR r.superseded_at > ?4)";
  }
  HistorySql sql;
  sql.count = "SELECT count(*)" + where;
  sql.page = "SELECT " + std::string(columns) + where;
  if (query.after.has_value()) {
    // (last_updated, seq) < (?6, ?7), spelled so that the first conjunct bounds an index range.
    sql.page += " AND " + updated + " <= ?6 AND (" + updated + " < ?6 OR " + seq + " < ?7)";
  }
  sql.page += " ORDER BY " + updated + " DESC, " + seq + " DESC LIMIT ?8";
  return sql;
}

}  // namespace vesta::store::sqlite_internal

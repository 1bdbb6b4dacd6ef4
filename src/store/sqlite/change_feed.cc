// The change feed of the SQLite store (change_feed.h).
#include "store/sqlite/change_feed.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "store/sqlite/body_codec.h"

namespace vesta::store::sqlite_internal {

Result<StoredVersion> ReadVersionRow(const sqlite::Statement& row, sqlite::Connection& db) {
  StoredVersion v;
  v.type = row.Text(1);
  v.id = row.Text(2);
  v.version = row.Int(3);
  v.last_updated = row.Int(4);
  v.deleted = row.Int(5) != 0;
  if (!v.deleted) {
    ASSIGN_OR_RETURN(v.json, DecodeBody(row.Text(6), db));
  }
  return v;
}

// The change feed (store.h, ChangeQuery). One writer commits in seq order, so the position is
// the last seq listed: a row with a smaller seq was committed before any reader saw a larger
// one. Superseded versions are left out by superseded_at (set in the same commit as their
// successor).
Result<ChangePage> ReadChanges(sqlite::Connection& db_ref, const ChangeQuery& query) {
  if (query.limit < 1) return Invalid("a change page holds at least one version");
  int64_t after = 0;
  if (!query.after.empty()) {
    char* end = nullptr;
    after = std::strtoll(query.after.c_str(), &end, 10);
    if (*end != '\0' || after < 0) {
      return Invalid("'" + query.after + "' is not a position in this store's change feed");
    }
  }
  std::string sql =
      "SELECT r.seq, r.type, r.id, r.version, r.last_updated, r.deleted, r.json"
      " FROM resource r WHERE r.seq > ?1 AND r.superseded_at IS NULL";
  if (!query.types.empty()) {
    sql += " AND r.type IN (";
    for (size_t i = 0; i < query.types.size(); ++i) {
      sql += (i == 0 ? "?" : ", ?") + std::to_string(i + 3);
    }
    sql += ")";
  }
  sql += " ORDER BY r.seq LIMIT ?2";
  sqlite::Connection* db = &db_ref;
  sqlite::ReadSnapshot snapshot(*db);
  RETURN_IF_ERROR(snapshot.Begin());
  ASSIGN_OR_RETURN(sqlite::Statement stmt, db->Prepare(sql));
  stmt.Bind(1, after).Bind(2, static_cast<int64_t>(query.limit) + 1);
  for (size_t i = 0; i < query.types.size(); ++i) {
    stmt.Bind(static_cast<int>(i + 3), query.types[i]);
  }
  ChangePage page;
  int64_t last = after;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int64_t>(page.versions.size()) == query.limit) {
      page.has_more = true;
      break;
    }
    ASSIGN_OR_RETURN(StoredVersion v, ReadVersionRow(stmt, *db));
    last = stmt.Int(0);
    page.versions.push_back(std::move(v));
  }
  if (!page.has_more) {
    // Everything up to the newest row was read: the next page starts after it, so that rows the
    // filters leave out are not read again.
    ASSIGN_OR_RETURN(sqlite::Statement top, db->Prepare("SELECT max(seq) FROM resource"));
    ASSIGN_OR_RETURN(bool row, top.Step());
    if (row) last = std::max(last, top.Int(0));
  }
  page.next = std::to_string(last);
  return page;
}

}  // namespace vesta::store::sqlite_internal

#include "store/sqlite/bulk_load.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/log.h"

namespace vesta::store::sqlite_internal {
namespace {

// The tables whose secondary indexes a bulk load defers: the versions and the search index.
constexpr const char* kTables[] = {"resource",         "search_resource",   "search_token",
                                   "search_string",    "search_date",       "search_number",
                                   "search_quantity",  "search_reference",  "search_uri",
                                   "search_composite", "search_compartment"};

// "?1, ?2, ..." is not needed: the table names are constants.
std::string TableList() {
  std::string out;
  for (const char* t : kTables) {
    if (!out.empty()) out += ", ";
    out += "'" + std::string(t) + "'";
  }
  return out;
}

Result<bool> HasDeferredTable(sqlite::Connection& db) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db.Prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table'"
                              " AND name = 'deferred_index'"));
  return stmt.Step();
}

Result<int64_t> PragmaValue(sqlite::Connection& db, const std::string& name) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt, db.PrepareUncached("PRAGMA " + name));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status(StatusCode::kInternal, "PRAGMA " + name + " returned no row");
  return stmt.Int(0);
}

}  // namespace

Result<bool> StartBulkLoad(sqlite::Connection& db) {
  int64_t versions = 0;
  {
    ASSIGN_OR_RETURN(sqlite::Statement stmt, db.Prepare("SELECT max(seq) FROM resource"));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row && !stmt.IsNull(0)) versions = stmt.Int(0);
  }
  if (versions > kBulkLoadMaxVersions) {
    LogInfo("bulk load: the store holds " + std::to_string(versions) +
            " versions; indexes are kept and filled row by row");
    return false;
  }
  // Every named index of those tables (the automatic ones of PRIMARY KEY and UNIQUE constraints
  // have no SQL) except those whose first column is `seq`. resource_version goes too: its keys
  // arrive in random order, and keeping it cost a tenth of a 10,000-patient import's time
  // (docs/benchmarks.md). Vreads and one resource's history scan meanwhile, slower but right.
  std::vector<std::pair<std::string, std::string>> deferred;
  {
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db.PrepareUncached("SELECT m.name, m.sql FROM sqlite_schema m"
                                        " WHERE m.type = 'index' AND m.sql IS NOT NULL"
                                        " AND m.tbl_name IN (" +
                                        TableList() +
                                        ") AND (SELECT i.name FROM pragma_index_info(m.name) i"
                                        " WHERE i.seqno = 0) IS NOT 'seq'"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      deferred.emplace_back(stmt.Text(0), stmt.Text(1));
    }
  }
  RETURN_IF_ERROR(sqlite::InTransaction(db, [&]() -> Status {
    for (const auto& [name, sql] : deferred) {
      ASSIGN_OR_RETURN(sqlite::Statement record,
                       db.Prepare("INSERT OR REPLACE INTO deferred_index (name, sql)"
                                  " VALUES (?1, ?2)"));
      record.Bind(1, name).Bind(2, sql);
      RETURN_IF_ERROR(record.Run());
      RETURN_IF_ERROR(db.Exec("DROP INDEX \"" + name + "\""));
    }
    return Status::Ok();
  }));
  LogInfo("bulk load: " + std::to_string(deferred.size()) +
          " indexes are built when the store closes");
  return true;
}

Status FinishBulkLoad(sqlite::Connection& db) {
  ASSIGN_OR_RETURN(bool has_table, HasDeferredTable(db));
  if (!has_table) return Status::Ok();
  std::vector<std::string> statements;
  {
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db.Prepare("SELECT sql FROM deferred_index ORDER BY name"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      statements.push_back(stmt.Text(0));
    }
  }
  if (statements.empty()) return Status::Ok();
  // Read before any setting changes, so that a failure here leaves the connection as it was.
  ASSIGN_OR_RETURN(const int64_t cache_size, PragmaValue(db, "cache_size"));
  ASSIGN_OR_RETURN(const int64_t page_size, PragmaValue(db, "page_size"));
  // The writer journals savepoints in memory (temp_store = MEMORY); a sort of the whole store's
  // keys goes to temporary files instead, so that memory stays bounded by the page cache.
  RETURN_IF_ERROR(db.Exec("PRAGMA temp_store = FILE"));
  // Each CREATE INDEX sorts the table's keys; SQLite may sort on helper threads, one per core
  // here (https://www.sqlite.org/pragma.html#pragma_threads; none by default). Every sorting
  // thread fills a buffer as large as the page cache before it writes a sorted run, so the cache
  // is divided among them for the build: the memory stays what one sorter used.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  // Negative: KiB; positive: pages.
  const int64_t cache_kib = cache_size < 0 ? -cache_size : cache_size * page_size / 1024;
  RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -" +
                          std::to_string(std::max<int64_t>(2048, cache_kib / (cores + 1)))));
  RETURN_IF_ERROR(db.Exec("PRAGMA threads = " + std::to_string(cores)));
  Status built = sqlite::InTransaction(db, [&]() -> Status {
    for (const std::string& sql : statements) RETURN_IF_ERROR(db.Exec(sql));
    return db.Exec("DELETE FROM deferred_index");
  });
  Status restored = db.Exec("PRAGMA temp_store = MEMORY");
  if (restored.ok()) restored = db.Exec("PRAGMA threads = 0");
  if (restored.ok()) restored = db.Exec("PRAGMA cache_size = " + std::to_string(cache_size));
  RETURN_IF_ERROR(built);
  RETURN_IF_ERROR(restored);
  LogInfo("bulk load: built " + std::to_string(statements.size()) + " indexes");
  return Status::Ok();
}

}  // namespace vesta::store::sqlite_internal

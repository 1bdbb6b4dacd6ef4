// Search on the SQLite store: the write hook that keeps the index tables of
// schema/002_search.sql and the full-text table of schema/009_text.sql current, and
// Store::Search over them (docs/search.md).
//
//   SqliteStoreOptions options;
//   options.directory = dir;
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenSqliteStore(options));  // search included
//   ASSIGN_OR_RETURN(SearchPage page, store->Search(query));
//
// The index hook extracts every search parameter's values from a written version with FHIRPath
// (search/extract.h), and its text for _text / _content (search/text.h), and inserts them in the
// same savepoint as the version; rows of the replaced version are deleted, so only current
// versions are indexed. Searches run on their own read-only
// connections (WAL readers: they never block the writer) and read one snapshot per page.
//
// Thread-safety: the store returned may be used from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::store {

// The WriteHook that maintains the search index tables of the store in `directory`. Its
// Prepare() reads the version a write replaces (on read-only connections of its own) to remove
// that version's words from the full-text table.
std::shared_ptr<WriteHook> MakeSearchIndexHook(const std::string& directory);

// The same as OpenSqliteStore, which installs the search index hook (first) and implements
// Search: kept as the name that says so.
Result<std::unique_ptr<Store>> OpenSqliteStoreWithSearch(const SqliteStoreOptions& options);

// Wraps an opened SQLite store on `directory` (which must already write index rows through
// MakeSearchIndexHook) with Search; every other call is forwarded. OpenSqliteStore uses it.
std::unique_ptr<Store> AddSqliteSearch(std::unique_ptr<Store> store, const std::string& directory);

// For tests: the `EXPLAIN QUERY PLAN` lines of the page query a search would run on the database
// in `directory`.
Result<std::vector<std::string>> ExplainSqliteSearch(const std::string& directory,
                                                     const SearchQuery& query);

// For tests: the total a search would report and the SQLite virtual machine steps spent
// computing it (sqlite3_stmt_status SQLITE_STMTSTATUS_VM_STEP), to compare the work of
// _total=estimate and _total=accurate.
struct TotalCost {
  std::optional<int64_t> total;
  int64_t vm_steps = 0;
};
Result<TotalCost> MeasureSqliteTotal(const std::string& directory, const SearchQuery& query);

// Re-extracts the index rows of every current resource of the store in `directory` (closed, or
// opened by this process without concurrent writes). Returns the number of resources indexed.
Result<int64_t> ReindexSqliteStore(const std::string& directory);

// Makes the SearchParameter resources stored in `directory` part of search::Registry::Active():
// new writes are indexed by them and searches may use them; rows for resources written before
// come with ReindexSqliteStore. Returns how many parameters were stored (0 leaves the plain R4
// registry); `skipped` gets a line for each one that cannot be used. Call once, before serving.
Result<int> ActivateStoredSearchParameters(const std::string& directory,
                                           std::vector<std::string>* skipped);

}  // namespace vesta::store

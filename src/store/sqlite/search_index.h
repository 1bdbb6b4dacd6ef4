// The search index of the SQLite store: the write hook that keeps the index tables of
// schema/002_search.sql (and later migrations) and the full-text table of schema/009_text.sql
// current, the reindexing of a whole store, and the stored SearchParameters (docs/search.md).
// Searches over these tables run in search_run.h; open.cc installs the hook in every store.
//
// The index hook extracts every search parameter's values from a written version with FHIRPath
// (search/extract.h), and its text for _text / _content (search/text.h), and inserts them in the
// same savepoint as the version; rows of the replaced version are deleted, so only current
// versions are indexed. The values come from the tree the writer already parsed
// (WriteOp::document) when there is one, else from the bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/write_hook.h"

namespace vesta::sqlite {
class ReaderPool;
}

namespace vesta::store {

// The WriteHook that maintains the search index tables. Its Prepare() extracts the new
// version's rows on the caller's thread and reads the version a write replaces (on `readers`,
// the store's pool) to remove that version's words from the full-text table.
std::shared_ptr<WriteHook> MakeSearchIndexHook(std::shared_ptr<sqlite::ReaderPool> readers);

// The same as OpenSqliteStore, which installs the search index hook (first) and implements
// Search: kept as the name that says so.
Result<std::unique_ptr<Store>> OpenSqliteStoreWithSearch(const SqliteStoreOptions& options);

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

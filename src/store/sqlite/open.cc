// Assembles the SQLite store: the versioned store (sqlite_store.cc), the search index hook
// (search_index.cc) and searches (search_run.cc), all on one reader pool. The one file that
// knows all three, so that none of them depends on another.
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "sqlite/reader_pool.h"
#include "store/sqlite/search_index.h"
#include "store/sqlite/search_run.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/version_store.h"

namespace vesta::store {

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options) {
  if (options.directory.empty()) return Invalid("the store needs a data directory");
  std::error_code ec;
  std::filesystem::create_directories(options.directory, ec);
  if (ec) return Internal("creating " + options.directory + ": " + ec.message());
  const std::string path = (std::filesystem::path(options.directory) / "vesta.db").string();

  // Every read-only connection of the store: Read, ReadVersion, History, Search and the index
  // hook's reads of replaced versions. The store's Close() closes it after the writer drained.
  sqlite::ReaderPool::Options pool;
  pool.max_open = options.read_connections;
  auto readers = std::make_shared<sqlite::ReaderPool>(path, pool);

  // The index hook runs first in every write, so a caller's hooks see the index rows in place.
  SqliteStoreOptions with_index = options;
  with_index.write_hooks.insert(with_index.write_hooks.begin(), MakeSearchIndexHook(readers));
  return sqlite_internal::OpenVersionStore(with_index, path, std::move(readers), &RunSqliteSearch);
}

Result<std::unique_ptr<Store>> OpenSqliteStoreWithSearch(const SqliteStoreOptions& options) {
  return OpenSqliteStore(options);
}

}  // namespace vesta::store

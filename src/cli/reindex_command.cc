// `vesta reindex`: rebuilds every search index row (docs/search.md) from the current versions in
// the store. Run it after upgrading to a binary whose search parameters or extraction changed;
// the server must not be running on the same store (on SQLite, writes during a reindex would
// wait for it; on PostgreSQL, the reindex is one transaction and writes that commit while it runs
// are indexed by their own transaction but may be emptied by its TRUNCATE: stop the nodes).
//
//   vesta reindex --data-dir ./vesta-data
//   vesta reindex --store postgresql://vesta@db.example/vesta
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/store_choice.h"
#include "store/sqlite/search_index.h"

namespace vesta::cli {
namespace {

void AddReindex(CLI::App& app) {
  auto data_dir = std::make_shared<std::string>("./vesta-data");
  auto store_flag = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("reindex", "Rebuild the search indexes of a stopped store");
  cmd->add_option("--data-dir", *data_dir, "Where the SQLite store lives")->capture_default_str();
  cmd->add_option("--store", *store_flag,
                  "sqlite:DIR (the same as --data-dir DIR) or a postgresql:// URI");
  cmd->callback([data_dir, store_flag] {
    Result<StoreChoice> choice = ChooseStore(*store_flag, *data_dir);
    if (!choice.ok()) {
      std::cerr << "vesta reindex: " << choice.status().message() << "\n";
      throw CLI::RuntimeError(1);
    }
    if (choice->postgres) {
      std::vector<std::string> skipped;
      int custom = 0;
      Result<int64_t> n = ReindexPostgres(choice->uri, &skipped, &custom);
      for (const std::string& line : skipped) {
        std::cerr << "vesta reindex: skipped " << line << "\n";
      }
      if (!n.ok()) {
        std::cerr << "vesta reindex: " << n.status().message() << "\n";
        throw CLI::RuntimeError(1);
      }
      if (custom > 0) std::cout << "search parameters stored on the server: " << custom << "\n";
      std::cout << "reindexed " << *n << " resources\n";
      return;
    }
    *data_dir = choice->directory;
    // Opening the store applies pending migrations (the index tables among them).
    store::SqliteStoreOptions options;
    options.directory = *data_dir;
    auto opened = store::OpenSqliteStore(options);
    if (!opened.ok()) {
      std::cerr << "vesta reindex: cannot open the store in " << *data_dir << ": "
                << opened.status().message() << "\n";
      throw CLI::RuntimeError(1);
    }
    (void)(*opened)->Close();
    // SearchParameter resources stored on the server take effect here (docs/search.md).
    std::vector<std::string> skipped;
    Result<int> custom = store::ActivateStoredSearchParameters(*data_dir, &skipped);
    if (!custom.ok()) {
      std::cerr << "vesta reindex: " << custom.status().message() << "\n";
      throw CLI::RuntimeError(1);
    }
    for (const std::string& line : skipped) std::cerr << "vesta reindex: skipped " << line << "\n";
    if (*custom > 0) {
      std::cout << "search parameters stored on the server: " << *custom << " (" << skipped.size()
                << " skipped)\n";
    }
    Result<int64_t> n = store::ReindexSqliteStore(*data_dir);
    if (!n.ok()) {
      std::cerr << "vesta reindex: " << n.status().message() << "\n";
      throw CLI::RuntimeError(1);
    }
    std::cout << "reindexed " << *n << " resources\n";
  });
}

}  // namespace
VESTA_COMMAND(AddReindex);
}  // namespace vesta::cli

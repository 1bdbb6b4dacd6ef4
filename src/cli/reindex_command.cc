// `vesta reindex`: rebuilds every search index row (docs/search.md) from the current versions in
// the store. Run it after upgrading to a binary whose search parameters or extraction changed;
// the server must not be running on the same data directory (writes during a reindex would not
// be indexed twice, but they would wait for it).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "store/sqlite/search_index.h"

namespace vesta::cli {
namespace {

void AddReindex(CLI::App& app) {
  auto data_dir = std::make_shared<std::string>("./vesta-data");
  CLI::App* cmd = app.add_subcommand("reindex", "Rebuild the search indexes of a stopped store");
  cmd->add_option("--data-dir", *data_dir, "Where the store lives")->capture_default_str();
  cmd->callback([data_dir] {
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

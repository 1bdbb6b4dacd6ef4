// `vesta view`: SQL on FHIR v2 ViewDefinitions (docs/analytics.md) without a server.
//
//   vesta view run patients.json --ndjson Patient.ndjson --format csv
//   vesta view run patients.json --data-dir ./vesta-data --format ndjson --out patients.ndjson
//   vesta view run patients.json --store postgresql://vesta@db/vesta --format json
//   vesta view validate patients.json
//
// `run` streams: NDJSON inputs are read line by line, the store page by page, and the rows are
// written as they come, so memory stays bounded whatever the number of resources. On SQLite, the
// store can be read while a server writes to it. Exit status 0; 1 for an invalid view, an input
// that cannot be read or a resource the view fails on (the message names the file and line, or
// the resource, and the place in the view).
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/store_choice.h"
#include "store/sqlite/sqlite_store.h"
#include "views/output.h"
#include "views/sources.h"
#include "views/view.h"

namespace vesta::cli {
namespace {

struct ViewFlags {
  std::string view_file;
  std::vector<std::string> ndjson;
  std::string data_dir = "./vesta-data";
  std::string store;
  std::string format = "csv";
  std::string out;
  int page_size = 1000;
};

Result<views::View> LoadView(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid("cannot open " + path);
  std::stringstream text;
  text << in.rdbuf();
  Result<views::View> view = views::View::ParseText(text.str());
  if (!view.ok()) return Invalid(path + ": " + view.status().message());
  return view;
}

Status RunStoreSource(const ViewFlags& flags, views::ViewOutput* out) {
  ASSIGN_OR_RETURN(StoreChoice choice, ChooseStore(flags.store, flags.data_dir));
  struct stat dir;
  if (!choice.postgres && stat(choice.directory.c_str(), &dir) != 0) {
    return NotFound("no store in " + choice.directory + " (give --data-dir, --store or --ndjson)");
  }
  Result<std::unique_ptr<store::Store>> store = Status(StatusCode::kInternal, "not opened");
  if (choice.postgres) {
    store = OpenPostgresStore(choice.uri, 1);
  } else {
    store::SqliteStoreOptions options;
    options.directory = choice.directory;
    store = store::OpenSqliteStore(options);
  }
  if (!store.ok()) return store.status();
  Status st = views::RunStore(**store, out, flags.page_size);
  Status closed = (*store)->Close();
  RETURN_IF_ERROR(st);
  return closed;
}

int RunView(const ViewFlags& flags) {
  const auto start = std::chrono::steady_clock::now();
  Result<views::Format> format = views::ParseFormat(flags.format);
  Result<views::View> view = LoadView(flags.view_file);
  if (!format.ok() || !view.ok()) {
    std::cerr << "vesta view run: " << (format.ok() ? view.status() : format.status()).message()
              << "\n";
    return 1;
  }
  std::FILE* file = stdout;
  if (!flags.out.empty()) {
    file = std::fopen(flags.out.c_str(), "wb");
    if (file == nullptr) {
      std::cerr << "vesta view run: cannot create " << flags.out << "\n";
      return 1;
    }
  }
  const std::string out_name = flags.out.empty() ? "standard output" : flags.out;
  views::ViewOutput out(*view, *format, [&](std::string_view chunk) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), file) != chunk.size()) {
      return Internal("writing " + out_name + " failed");
    }
    return Status::Ok();
  });
  Status st = out.Begin();
  if (st.ok() && !flags.ndjson.empty()) {
    for (const std::string& path : flags.ndjson) {
      st = views::RunNdjsonFile(path, &out);
      if (!st.ok()) break;
    }
  } else if (st.ok()) {
    st = RunStoreSource(flags, &out);
  }
  if (st.ok()) st = out.Finish();
  const bool closed = flags.out.empty() ? std::fflush(file) == 0 : std::fclose(file) == 0;
  if (st.ok() && !closed) st = Internal("writing " + out_name + " failed");
  if (!st.ok()) {
    std::cerr << "vesta view run: " << st.message() << "\n";
    return 1;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "vesta view run: " << out.counts().rows << " rows from " << out.counts().matched
            << " " << view->resource_type() << " resources in " << secs << " s\n";
  return 0;
}

int ValidateView(const std::string& path) {
  Result<views::View> view = LoadView(path);
  if (!view.ok()) {
    std::cerr << "vesta view validate: " << view.status().message() << "\n";
    return 1;
  }
  std::cout << (view->name().empty() ? "(unnamed view)" : view->name()) << " over "
            << view->resource_type() << ":\n";
  for (const views::ColumnInfo& c : view->columns()) {
    std::cout << "  " << c.name << (c.type.empty() ? "" : " " + c.type)
              << (c.collection ? " (collection)" : "") << "\n";
  }
  return 0;
}

void AddView(CLI::App& app) {
  CLI::App* view = app.add_subcommand("view", "SQL on FHIR v2 views (ViewDefinitions)");
  view->require_subcommand(1);

  auto flags = std::make_shared<ViewFlags>();
  CLI::App* run = view->add_subcommand(
      "run", "Run a ViewDefinition over NDJSON files or the store and write its rows");
  run->add_option("view", flags->view_file, "The ViewDefinition's JSON file")->required();
  run->add_option("--ndjson", flags->ndjson,
                  "NDJSON files of resources to read instead of the store (one resource a line)");
  run->add_option("--data-dir", flags->data_dir, "The SQLite store to read")->capture_default_str();
  run->add_option("--store", flags->store,
                  "sqlite:DIR (the same as --data-dir DIR) or a postgresql:// URI (the password "
                  "from PGPASSWORD or ~/.pgpass)");
  run->add_option("--format", flags->format, "csv (with a header), ndjson or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"csv", "ndjson", "json"}));
  run->add_option("--out", flags->out, "The file to write (default: standard output)");
  run->add_option("--page-size", flags->page_size, "Resources read from the store at a time")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  run->callback([flags] {
    int rc = RunView(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto file = std::make_shared<std::string>();
  CLI::App* validate = view->add_subcommand(
      "validate", "Check a ViewDefinition and print its columns, or say where it is wrong");
  validate->add_option("view", *file, "The ViewDefinition's JSON file")->required();
  validate->callback([file] {
    int rc = ValidateView(*file);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

VESTA_COMMAND(AddView);

}  // namespace vesta::cli

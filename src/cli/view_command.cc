// `vesta view`: SQL on FHIR v2 ViewDefinitions (docs/analytics.md) without a server.
//
//   vesta view run patients.json --ndjson Patient.ndjson --format csv
//   vesta view run patients.json --data-dir ./vesta-data --format ndjson --out patients.ndjson
//   vesta view run patients.json --store postgresql://vesta@db/vesta --format json
//   vesta view validate patients.json
//   vesta view materialize patients.json --data-dir ./vesta-data
//   vesta view tables --data-dir ./vesta-data
//
// `run` streams: NDJSON inputs are read line by line, the store page by page, and the rows are
// written as they come, so memory stays bounded whatever the number of resources. On SQLite, the
// store can be read while a server writes to it. Exit status 0; 1 for an invalid view, an input
// that cannot be read or a resource the view fails on (the message names the file and line, or
// the resource, and the place in the view).
//
// `materialize` stores the view in the store, tagged for materialization (as a PUT of
// [base]/ViewDefinition/[id] with the tag would), and brings its table in the analytics database
// up to date (analytics/materializer.h); a running server keeps it so from then on. `tables`
// lists the materialized views and how far each table is.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "analytics/analytics_db.h"
#include "analytics/materializer.h"
#include "base/clock.h"
#include "cli/command.h"
#include "cli/store_choice.h"
#include "fhir/resource/resource_json.h"
#include "fhir/validate/validator.h"
#include "json/parse.h"
#include "json/writer.h"
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

Result<std::unique_ptr<store::Store>> OpenStore(const StoreChoice& choice) {
  struct stat dir;
  if (!choice.postgres && stat(choice.directory.c_str(), &dir) != 0) {
    return NotFound("no store in " + choice.directory + " (give --data-dir or --store)");
  }
  if (choice.postgres) return OpenPostgresStore(choice.uri, 2);
  store::SqliteStoreOptions options;
  options.directory = choice.directory;
  return store::OpenSqliteStore(options);
}

Result<std::unique_ptr<analytics::AnalyticsDb>> OpenAnalytics(const StoreChoice& choice) {
  if (choice.postgres) return analytics::OpenPostgresAnalytics(choice.uri);
  return analytics::OpenSqliteAnalytics(choice.directory);
}

// The view's JSON with the materialization tag added to meta.tag (when missing) and without
// meta's version and time (the store sets them).
Result<std::string> TaggedView(const json::Value& root) {
  std::string out = "{";
  bool first = true;
  auto member = [&](std::string_view key) {
    if (!first) out += ",";
    first = false;
    json::WriteString(key, &out);
    out += ":";
  };
  for (const json::Member& m : root.members()) {
    if (m.key == "meta") continue;
    member(m.key);
    json::Write(m.value, json::Style::kCompact, &out);
  }
  member("meta");
  out += "{";
  bool first_meta = true;
  const json::Value* meta = root.Find("meta");
  if (meta != nullptr && meta->is_object()) {
    for (const json::Member& m : meta->members()) {
      if (m.key == "tag" || m.key == "versionId" || m.key == "lastUpdated") continue;
      if (!first_meta) out += ",";
      first_meta = false;
      json::WriteString(m.key, &out);
      out += ":";
      json::Write(m.value, json::Style::kCompact, &out);
    }
  }
  if (!first_meta) out += ",";
  out += "\"tag\":[";
  bool first_tag = true;
  const json::Value* tags = meta == nullptr ? nullptr : meta->Find("tag");
  if (tags != nullptr && tags->is_array()) {
    for (const json::Value& tag : tags->items()) {
      if (tag.FindString("system") == analytics::kMaterializeTagSystem &&
          tag.FindString("code") == analytics::kMaterializeTagCode) {
        continue;
      }
      if (!first_tag) out += ",";
      first_tag = false;
      json::Write(tag, json::Style::kCompact, &out);
    }
  }
  if (!first_tag) out += ",";
  out += "{\"system\":";
  json::WriteString(analytics::kMaterializeTagSystem, &out);
  out += ",\"code\":";
  json::WriteString(analytics::kMaterializeTagCode, &out);
  out += "}]}}";
  return out;
}

// Stores the view (tagged) as ViewDefinition/[id], a new version when it exists.
Result<std::string> StoreView(store::Store& store, const std::string& path, std::string id) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid("cannot open " + path);
  std::stringstream text;
  text << in.rdbuf();
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(text.str()));
  if (!doc.root().is_object() || doc.root().FindString("resourceType") != "ViewDefinition") {
    return Invalid(path + ": not a ViewDefinition");
  }
  Result<views::View> view = views::View::Parse(doc.root());
  if (!view.ok()) return Invalid(path + ": " + view.status().message());
  Result<analytics::TableSpec> table = analytics::TableFor(*view);
  if (!table.ok()) return Invalid(path + ": " + table.status().message());
  if (id.empty()) id = std::string(doc.root().FindString("id"));
  if (id.empty()) {
    id = view->name();
    std::replace(id.begin(), id.end(), '_', '-');
  }
  if (!fhir::IsValidId(id)) return Invalid("'" + id + "' is not a valid id (give --id)");
  ASSIGN_OR_RETURN(std::string tagged, TaggedView(doc.root()));
  ASSIGN_OR_RETURN(json::Document stored, json::Parse(tagged));
  for (int attempt = 0; attempt < 10; ++attempt) {
    store::WriteOp op;
    op.type = "ViewDefinition";
    op.id = id;
    Result<store::StoredVersion> current = store.Read(op.type, id);
    if (!current.ok() && current.status().code() != StatusCode::kNotFound) {
      return current.status();
    }
    op.kind = current.ok() ? store::WriteKind::kUpdate : store::WriteKind::kCreate;
    op.expected_version = current.ok() ? current->version : store::kExpectNone;
    op.last_updated = SystemClock().Now();
    op.json = fhir::StoredJson(stored, id, op.expected_version + 1, op.last_updated);
    Result<std::vector<store::WriteResult>> w = store.Write(std::span(&op, 1));
    if (w.ok()) return id;
    if (w.status().code() != StatusCode::kConflict) return w.status();
  }
  return Status(StatusCode::kConflict, "ViewDefinition/" + id + " kept changing; try again");
}

int Materialize(const ViewFlags& flags, const std::string& id) {
  const char* kName = "vesta view materialize: ";
  const auto start = std::chrono::steady_clock::now();
  Result<StoreChoice> choice = ChooseStore(flags.store, flags.data_dir);
  Result<std::unique_ptr<store::Store>> store =
      choice.ok() ? OpenStore(*choice) : Result<std::unique_ptr<store::Store>>(choice.status());
  if (!store.ok()) {
    std::cerr << kName << store.status().message() << "\n";
    return 1;
  }
  Result<std::string> stored = StoreView(**store, flags.view_file, id);
  Result<std::unique_ptr<analytics::AnalyticsDb>> db =
      stored.ok() ? OpenAnalytics(*choice)
                  : Result<std::unique_ptr<analytics::AnalyticsDb>>(stored.status());
  Result<analytics::PassStats> pass = Status(StatusCode::kInternal, "not run");
  if (!db.ok()) {
    pass = db.status();
  } else {
    analytics::Materializer materializer(**store, **db);
    pass = materializer.RunOnce();
  }
  Status closed = (*store)->Close();
  if (!pass.ok()) {
    std::cerr << kName << pass.status().message() << "\n";
    return 1;
  }
  if (!closed.ok()) {
    std::cerr << kName << closed.message() << "\n";
    return 1;
  }
  Result<std::vector<analytics::ViewEntry>> catalog = (*db)->Catalog();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (catalog.ok()) {
    for (const analytics::ViewEntry& e : *catalog) {
      if (e.id != *stored) continue;
      std::cout << "ViewDefinition/" << e.id << " is the table " << e.table << " in "
                << (*db)->Describe() << ": " << e.rows << " rows";
      if (e.skipped > 0) {
        std::cout << "; " << e.skipped << " resources skipped, the last: " << e.last_error;
      }
      std::cout << " (" << pass->versions << " resources read in " << secs << " s)\n";
      return 0;
    }
  }
  std::cerr << kName << "ViewDefinition/" << *stored << " was stored but has no table"
            << " (another view has its name? see the log of `vesta view tables`)\n";
  return 1;
}

int ListTables(const ViewFlags& flags) {
  Result<StoreChoice> choice = ChooseStore(flags.store, flags.data_dir);
  Result<std::unique_ptr<analytics::AnalyticsDb>> db =
      choice.ok() ? OpenAnalytics(*choice)
                  : Result<std::unique_ptr<analytics::AnalyticsDb>>(choice.status());
  Result<std::vector<analytics::ViewEntry>> catalog =
      db.ok() ? (*db)->Catalog() : Result<std::vector<analytics::ViewEntry>>(db.status());
  if (!catalog.ok()) {
    std::cerr << "vesta view tables: " << catalog.status().message() << "\n";
    return 1;
  }
  std::cout << catalog->size() << " materialized views in " << (*db)->Describe() << "\n";
  for (const analytics::ViewEntry& e : *catalog) {
    std::cout << "  " << e.table << "  ViewDefinition/" << e.id << "  " << e.rows << " rows";
    if (e.refreshed > 0) std::cout << ", refreshed " << FormatInstant(e.refreshed);
    if (e.skipped > 0) std::cout << ", " << e.skipped << " resources skipped";
    if (!e.last_error.empty()) std::cout << "\n    last error: " << e.last_error;
    std::cout << "\n";
  }
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

  auto materialize_id = std::make_shared<std::string>();
  CLI::App* materialize = view->add_subcommand(
      "materialize",
      "Store a ViewDefinition for materialization and build its table in the analytics database");
  materialize->add_option("view", flags->view_file, "The ViewDefinition's JSON file")->required();
  materialize->add_option("--id", *materialize_id,
                          "The stored view's id (default: its id, else its name with '-' for '_')");
  materialize->add_option("--data-dir", flags->data_dir, "The SQLite store")->capture_default_str();
  materialize->add_option("--store", flags->store, "sqlite:DIR or a postgresql:// URI");
  materialize->callback([flags, materialize_id] {
    int rc = Materialize(*flags, *materialize_id);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  CLI::App* tables =
      view->add_subcommand("tables", "List the materialized views and how far their tables are");
  tables->add_option("--data-dir", flags->data_dir, "The SQLite store")->capture_default_str();
  tables->add_option("--store", flags->store, "sqlite:DIR or a postgresql:// URI");
  tables->callback([flags] {
    int rc = ListTables(*flags);
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

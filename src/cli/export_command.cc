// `vesta export`: the Bulk Data export's NDJSON files (docs/bulk-data.md), written from the store
// straight into a directory, without HTTP.
//
//   vesta export --data-dir ./vesta-data --out ./export
//   vesta export --store postgresql://vesta@db.example/vesta --out ./export --type
//   Patient,Observation vesta export --out ./export --level group --group 42 --since
//   2026-01-01T00:00:00Z
//
// The files are those of `$export` with the same parameters: one `[Type].ndjson` per type
// (split every 100,000 resources), `OperationOutcome.ndjson` for what could not be exported, and
// a `manifest.json` like the status URL's (its URLs are the file names). `vesta import` loads the
// directory back. On SQLite, run it when no server writes to the same data directory, or use
// `$export` on the running server.
#include <sys/stat.h>

#include <chrono>
#include <iostream>

#include "base/clock.h"
#include "bulk/export_runner.h"
#include "bulk/export_spec.h"
#include "cli/command.h"
#include "cli/store_choice.h"
#include "fhir/model/model.h"
#include "json/writer.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::cli {
namespace {

struct ExportFlags {
  std::string data_dir = "./vesta-data";
  std::string store;
  std::string out;
  std::string level = "system";
  std::string group;
  std::vector<std::string> types;
  std::vector<std::string> type_filters;
  std::vector<std::string> patients;
  std::string since;
};

int RunExportCommand(const ExportFlags& flags) {
  const auto start = std::chrono::steady_clock::now();
  bulk::QueryList params;
  for (const std::string& t : flags.types) params.emplace_back("_type", t);
  for (const std::string& f : flags.type_filters) params.emplace_back("_typeFilter", f);
  for (const std::string& p : flags.patients) {
    params.emplace_back("patient", p.starts_with("Patient/") ? p : "Patient/" + p);
  }
  if (!flags.since.empty()) params.emplace_back("_since", flags.since);
  const bulk::ExportLevel level = flags.level == "patient" ? bulk::ExportLevel::kPatient
                                  : flags.level == "group" ? bulk::ExportLevel::kGroup
                                                           : bulk::ExportLevel::kSystem;
  if (level == bulk::ExportLevel::kGroup && flags.group.empty()) {
    std::cerr << "vesta export: --level group needs --group ID\n";
    return 1;
  }
  Result<bulk::ExportSpec> spec =
      bulk::ParseExportParams(level, flags.group, params, fhir::Model::R4(), {});
  if (!spec.ok()) {
    std::cerr << "vesta export: " << spec.status().message() << "\n";
    return 1;
  }
  if (mkdir(flags.out.c_str(), 0755) != 0 && errno != EEXIST) {
    std::cerr << "vesta export: cannot create " << flags.out << "\n";
    return 1;
  }
  Result<StoreChoice> choice = ChooseStore(flags.store, flags.data_dir);
  if (!choice.ok()) {
    std::cerr << "vesta export: " << choice.status().message() << "\n";
    return 1;
  }
  Result<std::unique_ptr<store::Store>> store = Status(StatusCode::kInternal, "not opened");
  if (choice->postgres) {
    store = OpenPostgresStore(choice->uri, 2);
  } else {
    store::SqliteStoreOptions options;
    options.directory = choice->directory;
    store = store::OpenSqliteStore(options);
  }
  if (!store.ok()) {
    std::cerr << "vesta export: " << store.status().message() << "\n";
    return 1;
  }
  SystemClock clock;
  bulk::RunOptions run;
  run.out_dir = flags.out;
  run.transaction_time = clock.Now();
  Result<bulk::ExportResult> result = bulk::RunExport(**store, *spec, run);
  Status closed = (*store)->Close();
  if (!result.ok()) {
    std::cerr << "vesta export: " << result.status().message()
              << (result.status().code() == StatusCode::kInternal
                      ? " (is the output directory empty? files are never overwritten)"
                      : "")
              << "\n";
    return 1;
  }
  if (!closed.ok()) std::cerr << "vesta export: closing the store: " << closed.message() << "\n";
  // The manifest, as the status URL gives it, with file names for URLs.
  auto list = [](const std::vector<bulk::ExportFile>& files) {
    std::string out = "[";
    for (size_t i = 0; i < files.size(); ++i) {
      out += i == 0 ? "" : ",";
      out += "{\"type\":";
      json::WriteString(files[i].type, &out);
      out += ",\"url\":";
      json::WriteString(files[i].name, &out);
      out += ",\"count\":" + std::to_string(files[i].count) + "}";
    }
    return out + "]";
  };
  std::string manifest = "{\"transactionTime\":";
  json::WriteString(FormatInstant(run.transaction_time), &manifest);
  manifest += ",\"requiresAccessToken\":false,\"output\":" + list(result->output) +
              (result->deleted.empty() ? "" : ",\"deleted\":" + list(result->deleted)) +
              ",\"error\":" + list(result->errors) + "}\n";
  if (FILE* f = std::fopen((flags.out + "/manifest.json").c_str(), "wb")) {
    std::fwrite(manifest.data(), 1, manifest.size(), f);
    std::fclose(f);
  }
  int64_t total = 0;
  for (const bulk::ExportFile& f : result->output) {
    total += f.count;
    std::cout << "  " << f.name << ": " << f.count << "\n";
  }
  for (const bulk::ExportFile& f : result->errors) {
    std::cout << "  " << f.name << ": " << f.count << " issue(s)\n";
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "exported " << total << " resources into " << result->output.size() << " file(s) in "
            << secs << " s ("
            << static_cast<int64_t>(secs > 0 ? static_cast<double>(total) / secs : 0.0) << "/s); "
            << result->errors.size() << " error file(s)\n";
  return result->errors.empty() ? 0 : 3;
}

void AddExport(CLI::App& app) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "export", "Write the store's resources as Bulk Data NDJSON files, without HTTP");
  cmd->add_option("--out", flags->out, "The directory to write (created; files never replaced)")
      ->required();
  cmd->add_option("--data-dir", flags->data_dir, "The SQLite store to read")->capture_default_str();
  cmd->add_option("--store", flags->store,
                  "sqlite:DIR (the same as --data-dir DIR) or a postgresql:// URI (the password "
                  "from PGPASSWORD or ~/.pgpass)");
  cmd->add_option("--level", flags->level,
                  "system (every resource), patient (every patient's compartment) or group")
      ->capture_default_str()
      ->check(CLI::IsMember({"system", "patient", "group"}));
  cmd->add_option("--group", flags->group, "The Group id of --level group");
  cmd->add_option("--type", flags->types, "Resource types, as _type (repeat or comma-separate)");
  cmd->add_option("--type-filter", flags->type_filters,
                  "A search a type's resources must match, as _typeFilter: "
                  "'Observation?category=laboratory' (repeatable; their union)");
  cmd->add_option("--patient", flags->patients,
                  "Only this patient's compartment (patient and group levels; repeatable)");
  cmd->add_option("--since", flags->since,
                  "Only resources changed after this FHIR instant, as _since");
  cmd->callback([flags] {
    int rc = RunExportCommand(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

VESTA_COMMAND(AddExport);

}  // namespace vesta::cli

// `vesta icd10 migrate`: the ICD-9-CM → ICD-10-CM transition, offline on a data directory.
//
//   vesta icd10 migrate [--dry-run] [--data-dir DIR | --store URI] [--worklist FILE.csv]
//                       [--types A,B] [--base-url URL]
//
// Adds the ICD-10-CM coding(s) from the CMS forward GEM next to each ICD-9-CM coding of the
// current resources (new version + Provenance per changed resource), writes the review worklist
// and prints a summary. The logic is icd10/migrate.h; the policy is in docs/terminology.md
// ("Migrating ICD-9-CM data").
#include <fstream>
#include <iostream>
#include <memory>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/store_choice.h"
#include "icd10/migrate.h"
#include "store/sqlite/sqlite_store.h"
#include "terminology/loaders.h"
#include "terminology/terminology_service.h"

namespace vesta::cli {
namespace {

struct MigrateFlags {
  std::string data_dir = "./vesta-data";
  std::string store;  // --store: sqlite:DIR or a PostgreSQL URI (cli/store_choice.h)
  std::string worklist = "icd10-worklist.csv";
  std::string types;
  std::string base_url;
  bool dry_run = false;
};

std::vector<std::string> SplitTypes(std::string_view list) {
  std::vector<std::string> out;
  for (std::string_view t : Split(list, ',')) {
    if (!t.empty()) out.emplace_back(t);
  }
  return out;
}

int RunMigrate(const MigrateFlags& flags) {
  const char* kName = "vesta icd10 migrate: ";
  Result<StoreChoice> choice = ChooseStore(flags.store, flags.data_dir);
  if (!choice.ok()) {
    std::cerr << kName << choice.status().message() << "\n";
    return 1;
  }
  const std::string where = choice->postgres ? "the PostgreSQL store" : choice->directory;
  auto terms = terminology::TerminologyService::Open(TerminologyLocation(*choice), {});
  if (!terms.ok()) {
    std::cerr << kName << "no terminology loaded in " << where
              << " (load the GEMs with `vesta terminology load gems ...`): "
              << terms.status().message() << "\n";
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
    std::cerr << kName << store.status().message() << "\n";
    return 1;
  }
  icd10::MigrateOptions migrate;
  migrate.mode = flags.dry_run ? icd10::RunMode::kDryRun : icd10::RunMode::kApply;
  migrate.types = SplitTypes(flags.types);
  migrate.on_change = [&flags](const icd10::Change& c) {
    std::cout << (flags.dry_run ? "would change " : "changed ") << c.type << "/" << c.id << " v"
              << c.from_version << " -> v" << c.to_version;
    if (!c.provenance_id.empty()) std::cout << " (Provenance/" << c.provenance_id << ")";
    std::cout << "\n";
    for (const std::string& a : c.added) std::cout << "  " << a << "\n";
  };
  auto report = icd10::MigrateIcd9(**store, **terms, migrate);
  Status closed = (*store)->Close();
  if (!report.ok()) {
    std::cerr << kName << report.status().ToString() << "\n";
    return 1;
  }
  if (!closed.ok()) {
    std::cerr << kName << "closing the store: " << closed.message() << "\n";
    return 1;
  }
  std::ofstream out(flags.worklist, std::ios::binary | std::ios::trunc);
  out << icd10::WorklistCsv(report->worklist);
  out.close();
  if (!out) {
    std::cerr << kName << "cannot write the worklist " << flags.worklist << "\n";
    return 1;
  }
  const auto& n = report->by_outcome;
  auto count = [&n](icd10::Outcome o) { return n[static_cast<int>(o)]; };
  std::cout << (flags.dry_run ? "dry run, nothing written: " : "") << "with the "
            << report->gem_release << ": " << report->scanned << " resources scanned, "
            << report->changed << (flags.dry_run ? " would change" : " changed") << "; codings "
            << (flags.dry_run ? "to apply" : "applied") << ": " << report->applied_exact
            << " exact, " << report->applied_approximate << " approximate ("
            << report->already_present
            << " already migrated); to review: " << count(icd10::Outcome::kAppliedApproximate)
            << " applied-approximate, " << count(icd10::Outcome::kCombination) << " combination, "
            << count(icd10::Outcome::kChoice) << " choice, " << count(icd10::Outcome::kNoMap)
            << " no-map, " << count(icd10::Outcome::kUnknownCode)
            << " unknown-code; worklist: " << flags.worklist << " (" << report->worklist.size()
            << " rows)\n";
  return 0;
}

void AddIcd10(CLI::App& app) {
  CLI::App* icd10 = app.add_subcommand("icd10", "ICD-10-CM data tools");
  icd10->require_subcommand(1);
  auto flags = std::make_shared<MigrateFlags>();
  CLI::App* cmd = icd10->add_subcommand(
      "migrate",
      "Add ICD-10-CM codings (CMS forward GEM) to resources coded in ICD-9-CM, keeping the "
      "ICD-9-CM coding: a new version and a Provenance per changed resource, and a review "
      "worklist (CSV) of approximate, combination, choice, no-map and unknown codes. Only exact "
      "and approximate single-target maps are applied. Runs offline: stop the servers on this "
      "store first. Needs the GEMs loaded (vesta terminology load gems ...).");
  cmd->add_option("--data-dir", flags->data_dir, "The data directory (store and terminology)")
      ->capture_default_str();
  cmd->add_option("--store", flags->store,
                  "sqlite:DIR (the same as --data-dir DIR) or the PostgreSQL store's URI, "
                  "postgresql://USER@HOST:PORT/DB (its database holds the terminology too)");
  cmd->add_option("--worklist", flags->worklist, "Where to write the review worklist CSV")
      ->capture_default_str();
  cmd->add_option("--types", flags->types,
                  "Comma-separated resource types to scan (default: every handled type: "
                  "Condition, Encounter, Claim, ExplanationOfBenefit, Procedure, Observation, "
                  "MedicationRequest, ServiceRequest)");
  cmd->add_option("--base-url", flags->base_url,
                  "The server's public base URL (as given to `vesta serve --base-url`): "
                  "Provenance.policy names the GEM ConceptMap by its canonical URL under it");
  cmd->add_flag("--dry-run", flags->dry_run,
                "Write nothing to the store; print what would change and still write the "
                "worklist");
  cmd->callback([flags] {
    int rc = RunMigrate(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

VESTA_COMMAND(AddIcd10);

}  // namespace vesta::cli

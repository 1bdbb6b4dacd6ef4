// `vesta terminology load ...`: loads ICD-10-CM, ICD-9-CM, the GEMs and the R4 CodeSystems and
// ValueSets into <data-dir>/terminology.db beside the SQLite store, or into the PostgreSQL store's
// database with --store postgresql://... (docs/terminology.md).
//
//   vesta terminology load icd10cm-tabular icd10cm_tabular_2023.xml.gz --data-dir ./vesta-data
//   vesta terminology load gems 2018_I9gem.txt 2018_I10gem.txt --store postgresql://vesta@db/vesta
//   vesta terminology load icd10cm-order icd10cm_order_2023.txt
//   vesta terminology load gems 2018_I9gem.txt 2018_I10gem.txt
//   vesta terminology load r4 [node_modules/hl7.fhir.r4.examples]
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "cli/command.h"
#include "cli/store_choice.h"
#include "terminology/loaders.h"

namespace vesta::cli {
namespace {

struct LoadArgs {
  std::string data_dir = "./vesta-data";
  std::string store;  // --store: sqlite:DIR or a PostgreSQL URI (cli/store_choice.h)
  std::vector<std::string> files;
  std::string release;
};

// The terminology database of the chosen store (the SQLite store's folder is made when absent).
std::string DbPath(const LoadArgs& args) {
  Result<StoreChoice> choice = ChooseStore(args.store, args.data_dir);
  if (!choice.ok()) {
    std::fprintf(stderr, "vesta terminology: %s\n", choice.status().message().c_str());
    throw CLI::RuntimeError(1);
  }
  if (!choice->postgres) {
    std::error_code ec;
    std::filesystem::create_directories(choice->directory, ec);
    if (ec) {
      std::fprintf(stderr, "vesta terminology: cannot create %s: %s\n", choice->directory.c_str(),
                   ec.message().c_str());
      throw CLI::RuntimeError(1);
    }
  }
  return TerminologyLocation(*choice);
}

void AddStoreOptions(CLI::App* cmd, LoadArgs& args) {
  cmd->add_option("--data-dir", args.data_dir, "Data folder (default ./vesta-data)");
  cmd->add_option("--store", args.store,
                  "sqlite:DIR (the same as --data-dir DIR) or the PostgreSQL store's URI, "
                  "postgresql://USER@HOST:PORT/DB: the terminology goes into its database");
}

void Report(const std::string& file, const Result<terminology::LoadReport>& r) {
  if (!r.ok()) {
    std::fprintf(stderr, "vesta terminology: %s: %s\n", file.c_str(),
                 r.status().ToString().c_str());
    throw CLI::RuntimeError(1);
  }
  std::fprintf(stderr, "%s: %s%s%s", file.c_str(), r->system.c_str(),
               r->version.empty() ? "" : " version ", r->version.c_str());
  if (r->concepts > 0) {
    std::fprintf(stderr, ": %lld concepts, %lld codes, %lld valid (billable), %lld notes",
                 static_cast<long long>(r->concepts), static_cast<long long>(r->codes),
                 static_cast<long long>(r->valid_codes), static_cast<long long>(r->notes));
  }
  if (r->rows > 0) std::fprintf(stderr, ", %lld rows", static_cast<long long>(r->rows));
  std::fprintf(stderr, " in %.2f s\n", r->seconds);
}

void ReportPackage(const std::string& dir, const Result<terminology::PackageLoadReport>& r) {
  if (!r.ok()) {
    std::fprintf(stderr, "vesta terminology: %s: %s\n", dir.c_str(), r.status().ToString().c_str());
    throw CLI::RuntimeError(1);
  }
  if (r->already_loaded) {
    std::fprintf(stderr, "%s is already loaded (left as it is)\n", r->package.c_str());
    return;
  }
  std::fprintf(stderr,
               "%s: %lld code systems (%lld with concepts, %lld concepts), %lld value sets (%lld "
               "complete, %lld of them from their expansion; %lld members) in %.2f s\n",
               r->package.c_str(), static_cast<long long>(r->code_systems),
               static_cast<long long>(r->code_systems_loaded), static_cast<long long>(r->concepts),
               static_cast<long long>(r->value_sets),
               static_cast<long long>(r->value_sets_complete),
               static_cast<long long>(r->value_sets_from_expansion),
               static_cast<long long>(r->members), r->seconds);
}

void AddTerminology(CLI::App& app) {
  auto* term = app.add_subcommand("terminology",
                                  "Terminology: load ICD-10-CM, the GEMs and the R4 value sets");
  term->require_subcommand(1);
  auto* load = term->add_subcommand("load", "Load a terminology release file");
  load->require_subcommand(1);
  auto args = std::make_shared<LoadArgs>();

  auto common = [&](CLI::App* cmd, const char* what) {
    cmd->add_option("files", args->files, what)->required();
    AddStoreOptions(cmd, *args);
  };

  auto* tabular = load->add_subcommand("icd10cm-tabular",
                                       "The CDC ICD-10-CM Tabular List XML (.xml or .xml.gz)");
  common(tabular, "icd10cm_tabular_YYYY.xml[.gz]");
  tabular->callback([args] {
    std::string db = DbPath(*args);
    for (const std::string& f : args->files) {
      Report(f, terminology::LoadIcd10CmTabular(db, f));
    }
  });

  auto* order = load->add_subcommand("icd10cm-order",
                                     "The ICD-10-CM order file (fixed columns or TSV, .gz too)");
  common(order, "icd10cm_order_YYYY.txt[.gz]");
  order->add_option("--release", args->release,
                    "ICD-10-CM version (default: the year in the file name)");
  order->callback([args] {
    std::string db = DbPath(*args);
    std::optional<std::string> version;
    if (!args->release.empty()) version = args->release;
    for (const std::string& f : args->files) {
      Report(f, terminology::LoadIcd10CmOrder(db, f, version));
    }
  });

  auto* r4 = load->add_subcommand(
      "r4", "The CodeSystems and ValueSets of the R4 package (hl7.fhir.r4.examples@4.0.1)");
  auto package_dir = std::make_shared<std::string>(terminology::kDefaultR4PackageDir);
  r4->add_option("package", *package_dir, "The unpacked package folder")->capture_default_str();
  AddStoreOptions(r4, *args);
  auto skip = std::make_shared<bool>(false);
  r4->add_flag("--skip-if-loaded", *skip,
               "Do nothing when this package version is already loaded (for `make run`)");
  r4->callback([args, package_dir, skip] {
    ReportPackage(*package_dir,
                  terminology::LoadFhirPackage(
                      DbPath(*args), *package_dir,
                      *skip ? terminology::IfLoaded::kSkip : terminology::IfLoaded::kReload));
  });

  auto* gems = load->add_subcommand("gems", "CMS diagnosis GEMs (2018_I9gem.txt, 2018_I10gem.txt)");
  common(gems, "GEM files");
  gems->callback([args] {
    std::string db = DbPath(*args);
    for (const std::string& f : args->files) Report(f, terminology::LoadGem(db, f));
  });
}

VESTA_COMMAND(AddTerminology);

}  // namespace
}  // namespace vesta::cli

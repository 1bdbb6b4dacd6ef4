// Loading ICD-10-CM, ICD-9-CM, the GEMs and FHIR packages' CodeSystems and ValueSets into the
// terminology database (docs/terminology.md). Its `location` is either the path of a SQLite file
// (<data-dir>/terminology.db, TerminologyDbPath) or a `postgresql://` / `postgres://` URI: the
// PostgreSQL store's database, where the terminology has tables of its own (docs/storage.md,
// "Terminology on PostgreSQL"). Each loader opens the database itself (creating the file, and the
// schema, when absent), reads FILE or FILE.gz, and replaces what that file provides in one
// transaction, so running a load again gives the same database. Progress goes to stderr only when
// stderr is a terminal.
//
//   ASSIGN_OR_RETURN(LoadReport r, LoadIcd10CmTabular(TerminologyDbPath(dir), "tabular.xml.gz"));
//   ASSIGN_OR_RETURN(LoadReport r, LoadIcd10CmTabular("postgresql://vesta@db/vesta", "t.xml"));
//
// Loaders running at once on one database run one after the other: SQLite serialises them (the
// second waits up to a few seconds and then fails with a busy error); on PostgreSQL the second
// waits for the first's transaction (an advisory lock).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace vesta::terminology {

// "<data_dir>/terminology.db".
std::string TerminologyDbPath(const std::string& data_dir);

struct LoadReport {
  std::string system;       // code system url, or the GEM's name
  std::string version;      // '' when none
  int64_t concepts = 0;     // rows written to the concept table (groupings included)
  int64_t codes = 0;        // codes (headers and valid codes; no chapters or blocks)
  int64_t valid_codes = 0;  // codes valid for submission (billable)
  int64_t notes = 0;        // inclusion terms and instructional notes
  int64_t rows = 0;         // input rows (order file lines, GEM lines)
  double seconds = 0;
};

// The CDC ICD-10-CM Tabular List XML (icd10cm_tabular_YYYY.xml). Chapters and blocks become
// notSelectable groupings; every <diag> a code; leaves under a <sevenChrDef> (inherited from the
// nearest ancestor that has one) are expanded with the placeholder X to every 7-character code.
// The version is the file's <version>. Replaces that version of ICD-10-CM.
Result<LoadReport> LoadIcd10CmTabular(const std::string& location, const std::string& file);

// The CMS/CDC order file (icd10cm_order_YYYY.txt, fixed columns), or its tab-separated
// derivative with a header line (order_number, icd10cm_code, valid_billing_code, short, long...).
// `version` defaults to the 4-digit year in the file name. When the Tabular List of the same
// version is loaded, the order file is merged into it (short and long names, billable flags, and
// any code the Tabular lacks); otherwise it makes the version on its own, with the hierarchy
// taken from code prefixes.
Result<LoadReport> LoadIcd10CmOrder(const std::string& location, const std::string& file,
                                    std::optional<std::string> version = std::nullopt);

enum class GemDirection { kForward = 0, kBackward = 1 };  // I-9 -> I-10, I-10 -> I-9

// A CMS diagnosis GEM file (2018_I9gem.txt forward, 2018_I10gem.txt backward; the direction is
// taken from the file name, else from the column layout of the CMS guide's Appendix A). Replaces
// that direction's rows, then rebuilds the ICD-9-CM code system from the codes of both GEMs
// (the GEMs carry no ICD-9-CM names, so its concepts have no display).
Result<LoadReport> LoadGem(const std::string& location, const std::string& file,
                           std::optional<GemDirection> direction = std::nullopt);

// The R4 definitions package as `npm ci` installs it, relative to the project folder.
inline constexpr std::string_view kDefaultR4PackageDir = "node_modules/hl7.fhir.r4.examples";

struct PackageLoadReport {
  std::string package;              // "hl7.fhir.r4.examples@4.0.1"
  int64_t code_systems = 0;         // CodeSystem resources read
  int64_t code_systems_loaded = 0;  // of which with concepts in the database
  int64_t concepts = 0;
  int64_t value_sets = 0;                 // ValueSet resources read
  int64_t value_sets_complete = 0;        // whose members are all known (from compose or expansion)
  int64_t value_sets_from_expansion = 0;  // of those, from the expansion in the resource
  int64_t members = 0;                    // value set members stored
  bool already_loaded = false;            // IfLoaded::kSkip found it loaded: nothing was done
  double seconds = 0;
};

// What LoadFhirPackage does when the same package name and version is already loaded.
enum class IfLoaded { kReload, kSkip };

// The CodeSystem-*.json and ValueSet-*.json resources of an unpacked FHIR package (the folder
// holding package.json, or its parent with a package/ folder), e.g. hl7.fhir.r4.examples@4.0.1.
// Replaces everything an earlier load of the same package name wrote, in one transaction:
//   - each CodeSystem whose content is complete, example or fragment becomes a code system
//     version (source 'package'): its concepts, the hierarchy from nested concepts (and HL7 v3's
//     `child` / `parent` properties), concept properties of simple types and definitions;
//     notSelectable / abstract concepts are kept but are not valid codes by default;
//   - each ValueSet gets its members computed now (terminology/value_set_compose.h), so that
//     $validate-code, $expand and search :in answer from one table;
//   - both kinds of resource are kept as published, for the REST API to serve.
// A CodeSystem whose url and version are already loaded from a release file (ICD-10-CM) is not
// replaced. Progress goes to stderr when it is a terminal.
Result<PackageLoadReport> LoadFhirPackage(const std::string& location,
                                          const std::string& package_dir,
                                          IfLoaded if_loaded = IfLoaded::kReload);

}  // namespace vesta::terminology

// Loading ICD-10-CM, ICD-9-CM and the GEMs into the terminology database
// (<data-dir>/terminology.db; docs/terminology.md). Each loader opens the database file itself
// (creating it and its schema when absent), reads FILE or FILE.gz, and replaces what that file
// provides in one transaction, so running a load again gives the same database. Progress goes to
// stderr only when stderr is a terminal.
//
//   ASSIGN_OR_RETURN(LoadReport r, LoadIcd10CmTabular(TerminologyDbPath(dir), "tabular.xml.gz"));
//
// Loaders are not meant to run concurrently with each other on the same file (SQLite serialises
// them; the second waits up to a few seconds and then fails with a busy error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
Result<LoadReport> LoadIcd10CmTabular(const std::string& db_path, const std::string& file);

// The CMS/CDC order file (icd10cm_order_YYYY.txt, fixed columns), or its tab-separated
// derivative with a header line (order_number, icd10cm_code, valid_billing_code, short, long...).
// `version` defaults to the 4-digit year in the file name. When the Tabular List of the same
// version is loaded, the order file is merged into it (short and long names, billable flags, and
// any code the Tabular lacks); otherwise it makes the version on its own, with the hierarchy
// taken from code prefixes.
Result<LoadReport> LoadIcd10CmOrder(const std::string& db_path, const std::string& file,
                                    std::optional<std::string> version = std::nullopt);

enum class GemDirection { kForward = 0, kBackward = 1 };  // I-9 -> I-10, I-10 -> I-9

// A CMS diagnosis GEM file (2018_I9gem.txt forward, 2018_I10gem.txt backward; the direction is
// taken from the file name, else from the column layout of the CMS guide's Appendix A). Replaces
// that direction's rows, then rebuilds the ICD-9-CM code system from the codes of both GEMs
// (the GEMs carry no ICD-9-CM names, so its concepts have no display).
Result<LoadReport> LoadGem(const std::string& db_path, const std::string& file,
                           std::optional<GemDirection> direction = std::nullopt);

}  // namespace vesta::terminology

// The ICD-9-CM → ICD-10-CM transition: adds ICD-10-CM codings from the CMS forward GEM to stored
// resources coded in ICD-9-CM, keeping the ICD-9-CM coding, one new version and one Provenance
// per changed resource, and a review worklist of everything that was not an exact one-to-one map.
// docs/terminology.md ("Migrating ICD-9-CM data") states the policy and the paths handled.
//
//   ASSIGN_OR_RETURN(auto terms, terminology::TerminologyService::Open(
//       terminology::TerminologyDbPath(dir), {}));
//   MigrateOptions options;  // options.mode = RunMode::kDryRun to write nothing
//   ASSIGN_OR_RETURN(MigrateReport report, MigrateIcd9(*store, *terms, options));
//   std::string csv = WorklistCsv(report.worklist);
//
// The migration enumerates resources through the Store interface only (type-level history,
// newest first, keeping the current version of each resource) and is meant to run offline: a
// concurrent writer makes a compare-and-set fail, which is retried a few times and then reported.
// Idempotent: a coding whose ICD-10-CM coding is already present is not added again, so a second
// run writes no new version and no Provenance.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "store/store.h"
#include "terminology/terminology_service.h"

namespace vesta::icd10 {

// What happened to one ICD-9-CM coding (the worklist's `outcome` column).
enum class Outcome {
  kApplied,             // one target, equivalence `equivalent`: added
  kAppliedApproximate,  // one target, approximate: added, and listed for review
  kCombination,         // the GEM needs several codes together: review only
  kChoice,              // several alternative targets: review only
  kNoMap,               // the GEM's No Map flag: review only
  kUnknownCode,         // not in the forward GEM: review only
};
inline constexpr int kOutcomeCount = 6;

// "applied", "applied-approximate", "combination", "choice", "no-map", "unknown-code".
std::string_view OutcomeName(Outcome outcome);

enum class RunMode { kApply, kDryRun };

// One ICD-9-CM coding found in a current resource.
struct WorklistRow {
  std::string type;
  std::string id;
  int64_t version = 0;       // the version described: the new one when this run wrote one
  std::string path;          // FHIRPath of the coding, e.g. "Encounter.reasonCode[1].coding[0]"
  std::string icd9_code;     // as written in the resource
  std::string icd9_display;  // the coding's display; may be empty
  Outcome outcome = Outcome::kUnknownCode;
  // The ICD-10-CM proposal: a code, alternatives as "A|B", clusters as "A+B" (alternative
  // clusters "A+B|A+C"); empty for no-map and unknown-code.
  std::string proposed;
  std::string equivalence;       // from $translate; alternatives' equivalences joined with "|"
  bool already_present = false;  // every proposed code was already in the CodeableConcept
};

// One resource that the run changed (or, in a dry run, would change).
struct Change {
  std::string type;
  std::string id;
  int64_t from_version = 0;
  int64_t to_version = 0;
  std::string provenance_id;       // empty in a dry run
  std::vector<std::string> added;  // "Condition.code: 250.0 -> E11.9 (applied-approximate)"
};

struct MigrateOptions {
  RunMode mode = RunMode::kApply;
  // Resource types to scan; empty: every type in HandledPaths(). Unknown types are kInvalid.
  std::vector<std::string> types;
  int page_size = 200;         // history page size
  Clock* clock = nullptr;      // lastUpdated and Provenance.recorded; nullptr: the system clock
  IdGenerator* ids = nullptr;  // Provenance ids; nullptr: random UUIDs
  // Called once per changed resource (also in a dry run), as it happens.
  std::function<void(const Change&)> on_change;
};

struct MigrateReport {
  int64_t scanned = 0;        // current, non-deleted resources read
  int64_t changed = 0;        // resources written (dry run: that would be written)
  int64_t applied_exact = 0;  // codings added, by outcome
  int64_t applied_approximate = 0;
  int64_t already_present = 0;  // applicable codings already migrated by an earlier run
  std::array<int64_t, kOutcomeCount> by_outcome{};  // ICD-9-CM codings found, by outcome
  std::string gem_release;            // e.g. "CMS diagnosis GEMs 2018 (2018_I9gem.txt)"
  std::vector<WorklistRow> worklist;  // every ICD-9-CM coding found, in scan order
};

// A CodeableConcept location handled by the migration: `type` and the element path below it
// ("reasonCode", "diagnosis.diagnosisCodeableConcept"); repeating elements on the way are
// walked item by item.
struct HandledPath {
  std::string_view type;
  std::string_view path;
};
const std::vector<HandledPath>& HandledPaths();

// The ICD-9-CM system URIs accepted: http://hl7.org/fhir/sid/icd-9-cm and its OID form.
bool IsIcd9CmSystem(std::string_view system);

// Runs the migration. Fails with kNotFound when the forward GEM is not loaded, kInvalid for an
// unknown type in `options.types`, or the store's error; a resource that fails its checks or
// keeps conflicting is an error too (nothing after it is processed; what was written stays).
Result<MigrateReport> MigrateIcd9(store::Store& store, terminology::TerminologyService& terms,
                                  const MigrateOptions& options);

// The worklist as CSV (RFC 4180: CRLF line ends, fields with ",", '"', CR or LF quoted, '"'
// doubled), with a header line.
std::string WorklistCsv(const std::vector<WorklistRow>& rows);

}  // namespace vesta::icd10

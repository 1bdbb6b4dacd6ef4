// Queries shared by the files of TerminologyService. Internal to src/terminology/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "terminology/code_system_writer.h"

namespace vesta::terminology::internal {

class Db;

struct VersionRow {
  int64_t id = 0;
  std::string url, version, name, title, source, source_file;
  int64_t concept_count = 0;
  int64_t code_count = 0;
};

struct ConceptInfo {
  std::string code, display;
  ConceptKind kind = ConceptKind::kCode;
  bool billable = false;
  std::string parent, short_name, long_name;
};

// "ICD-10-CM" for the ICD-10-CM url, and so on.
std::string_view SystemName(std::string_view url);
// The code in the system's FHIR spelling ("E119" -> "E11.9").
std::string NormalizedCode(std::string_view system, std::string_view code);
// The given version of `system`, or the newest when `version` is empty. NotFound when absent.
Result<VersionRow> ResolveVersion(Db& db, std::string_view system, std::string_view version);
Result<std::vector<VersionRow>> AllVersions(Db& db);
// Exact code match; ICD-9-CM concepts get the display described in docs/terminology.md.
Result<std::optional<ConceptInfo>> FindConcept(Db& db, const VersionRow& csv,
                                               std::string_view code);
// Exact, then the normalized spelling.
Result<std::optional<ConceptInfo>> FindConceptLenient(Db& db, const VersionRow& csv,
                                                      std::string_view code);
Result<bool> ClosureContains(Db& db, int64_t csv_id, std::string_view ancestor,
                             std::string_view descendant);

// The equivalence of an approximate single GEM row source -> target (docs/terminology.md, "GEM
// flags and equivalence"): `alternatives` is the source's number of single targets, `shared`
// the target's number of single-row sources, both in the same GEM.
std::string_view ApproximateEquivalence(int64_t alternatives, int64_t shared);

}  // namespace vesta::terminology::internal

// Queries shared by the files of TerminologyService. Internal to src/terminology/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "terminology/code_system_writer.h"
#include "terminology/operation_params.h"
#include "terminology/value_set_compose.h"

namespace vesta::terminology {
struct ServiceOptions;
}  // namespace vesta::terminology

namespace vesta::terminology::internal {

struct VersionRow {
  int64_t id = 0;
  std::string url, version, name, title, source, source_file;
  int64_t concept_count = 0;
  int64_t code_count = 0;
};

// A concept as the service reads it: the row the loaders write.
using ConceptInfo = ConceptRow;

// code_system_version.source, value_set.source and package_resource.source of what a FHIR
// package provided (terminology/package_loader.cc); source_file then names the package.
inline constexpr std::string_view kPackageSource = "package";

inline bool FromPackage(const VersionRow& v) { return v.source == kPackageSource; }

// "ICD-10-CM" for the ICD-10-CM url, and so on.
std::string_view SystemName(std::string_view url);
// The name to show for a code system version: "ICD-10-CM", or the CodeSystem's name
// ("AdministrativeGender").
std::string DisplayName(const VersionRow& v);
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

// The outcome of validating one coding ($validate-code).
struct Validation {
  bool result = false;
  std::string message;
  std::string display;
};

// Validates one coding against (the newest or the given version of) its system, and, when `isa`
// is set, membership below that code.
Result<Validation> ValidateCoding(Db& db, const Coding& c, std::string_view display,
                                  bool abstract_ok, const std::string* isa);

// An implicit value set (https://hl7.org/fhir/R4/codesystem.html#implicit) of a loaded code
// system: "<system>?fhir_vs" or "<system>?fhir_vs=isa/<code>".
struct ImplicitValueSet {
  std::string system;
  std::string isa;  // '' for the whole system
};
// Also accepts "<canonical_base>/ValueSet/icd-10-cm-all" (and icd-9-cm-all). NotFound when `url`
// is not one.
Result<ImplicitValueSet> ParseImplicitValueSet(Db& db, std::string_view url,
                                               std::string_view canonical_base);

// $expand's filter split into words (at most 16).
std::vector<std::string> FilterWords(std::string_view filter);

// A ValueSet of a loaded package, with its members in value_set_member.
struct StoredValueSet {
  int64_t id = 0;
  std::string url, version, resource_id, name, title, method, note;
  bool complete = false;
  int64_t member_count = 0;
};

// The stored ValueSet with canonical `url`; "url|version" pins the version, else the newest.
Result<std::optional<StoredValueSet>> FindStoredValueSet(Db& db, std::string_view url);
// The stored ValueSet whose resource id is `id`.
Result<std::optional<StoredValueSet>> FindStoredValueSetById(Db& db, std::string_view id);
Result<Members> StoredMembers(Db& db, const StoredValueSet& vs);
// The members of a stored ValueSet, or of an implicit value set of a loaded code system. NotFound
// when it is neither.
Result<Members> KnownValueSetMembers(Db& db, std::string_view url, size_t limit,
                                     std::string_view canonical_base = "");
// The one system of a stored value set's members, or '' when it has several (or none): the
// default system for a $validate-code given only a code.
Result<std::string> SingleSystem(Db& db, const StoredValueSet& vs);
// ValueSet/$validate-code of one coding against a stored value set.
Result<Validation> ValidateInStoredValueSet(Db& db, const StoredValueSet& vs, const Coding& c,
                                            std::string_view display, bool abstract_ok);
// ValueSet/$expand of a stored value set (filter, offset, count as for the implicit ones).
Result<std::string> ExpandStoredValueSet(Db& db, const StoredValueSet& vs,
                                         const OperationParams& in, const ServiceOptions& options);

// The equivalence of an approximate single GEM row source -> target (docs/terminology.md, "GEM
// flags and equivalence"): `alternatives` is the source's number of single targets, `shared`
// the target's number of single-row sources, both in the same GEM.
std::string_view ApproximateEquivalence(int64_t alternatives, int64_t shared);

}  // namespace vesta::terminology::internal

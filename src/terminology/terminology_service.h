// The terminology engine: FHIR R4 terminology operations over the terminology database
// (https://hl7.org/fhir/R4/terminology-service.html), the CodeSystem / ValueSet / ConceptMap
// resources that describe what is loaded, and the closure queries the search layer uses for
// `:below` / `:above` and is-a.
//
// Systems: ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm) and ICD-9-CM
// (http://hl7.org/fhir/sid/icd-9-cm), and the CodeSystems of a FHIR package such as
// hl7.fhir.r4.examples (http://hl7.org/fhir/administrative-gender ...), loaded with
// terminology/loaders.h; ConceptMaps: the CMS GEMs in both directions. Value sets: the package's
// ValueSets by canonical url (members computed at load time), and the implicit value sets of
// every loaded system, `<system>?fhir_vs` (every code) and `<system>?fhir_vs=isa/CODE` (CODE and
// every code below it).
//
// Each operation takes its input as OperationParams (from a POST Parameters body or a GET query)
// and returns the FHIR JSON of its output (a Parameters resource, or a ValueSet for $expand), or
// a Status: kInvalid for a malformed request (400), kNotFound for an unknown code system, value
// set, concept map or (for $lookup / $subsumes) code (404), kUnprocessable with an issue of type
// "too-costly" for an expansion too large to return without paging, kNotSupported for features
// not provided. An unknown code in $validate-code is not an error: result is false.
//
//   ASSIGN_OR_RETURN(auto service, TerminologyService::Open(TerminologyDbPath(dir), {}));
//   ASSIGN_OR_RETURN(std::string out, service->Lookup(OperationParams::FromQuery(
//       {{"system", "http://hl7.org/fhir/sid/icd-10-cm"}, {"code", "E11.9"}})));
//
// Thread-safety: all methods may be called from any thread; calls are serialised on one
// connection (SQLite) or on a small pool (PostgreSQL); open one service per worker thread for
// parallel reads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "terminology/operation_params.h"

namespace vesta {
class Clock;
}  // namespace vesta

namespace vesta::json {
class Value;
}  // namespace vesta::json

namespace vesta::terminology {

namespace internal {
class Db;
class ExpansionCache;
}  // namespace internal

inline constexpr std::string_view kIcd10CmSystem = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr std::string_view kIcd9CmSystem = "http://hl7.org/fhir/sid/icd-9-cm";

struct SystemCode {
  std::string system;
  std::string code;
};
// The codes a search modifier stands for (:below, :above, :in, :not-in).
using CodeList = std::vector<SystemCode>;

struct ServiceOptions {
  // Canonical base for the ConceptMaps and value set ids this server defines; the REST layer
  // sets it to its public base URL. ".invalid" is reserved (RFC 2606) so nothing resolves it.
  std::string canonical_base = "https://vesta.invalid/fhir";
  // The time written in ValueSet.expansion.timestamp; nullptr uses the system clock.
  Clock* clock = nullptr;
  // $expand without `count` refuses (too-costly) expansions larger than this.
  int64_t max_expansion = 10000;
  // $expand's default and largest page.
  int64_t max_count = 10000;
  // The expansions kept for search modifiers (CodesBelow, CodesAbove, ValueSetCodes): at most
  // this many lists, and this many codes in all.
  size_t cache_entries = 256;
  size_t cache_codes = 1000000;
};

class TerminologyService {
 public:
  // Opens the terminology at `location` (loaders.h): a SQLite file, read-only, or a PostgreSQL
  // database (a `postgresql://` URI, that of the PostgreSQL store), whose terminology schema is
  // brought up to date. NotFound when nothing has been loaded there yet (no file, no tables).
  static Result<std::unique_ptr<TerminologyService>> Open(const std::string& location,
                                                          ServiceOptions options);
  ~TerminologyService();
  TerminologyService(const TerminologyService&) = delete;
  TerminologyService& operator=(const TerminologyService&) = delete;

  // CodeSystem/$lookup: https://hl7.org/fhir/R4/codesystem-operation-lookup.html
  // In: code + system [+ version] or coding; property*. Out: name, version, display,
  // designation (short and long names), property: parent, child, billable, notSelectable,
  // and the Tabular's notes (inclusionTerm, excludes1, excludes2, ...).
  Result<std::string> Lookup(const OperationParams& in);

  // CodeSystem/$validate-code: https://hl7.org/fhir/R4/codesystem-operation-validate-code.html
  // In: url (the code system) + code, or coding, or codeableConcept; display; version; abstract.
  // Out: result, message, display. Chapters and blocks are abstract groupings
  // (valid only with abstract=true); category headers are codes but not billable, which the
  // message says.
  Result<std::string> ValidateCodeInCodeSystem(const OperationParams& in);

  // ValueSet/$validate-code: https://hl7.org/fhir/R4/valueset-operation-validate-code.html
  // In: url (a package value set, "url|version" or with valueSetVersion, or an implicit value
  // set) + code + system, or coding, or codeableConcept; display; abstract; systemVersion
  // ("url|version"). Out: result, message, display. A value set that could be evaluated only in
  // part answers false for codes outside the known part, and its message says why.
  Result<std::string> ValidateCodeInValueSet(const OperationParams& in);

  // ValueSet/$expand: https://hl7.org/fhir/R4/valueset-operation-expand.html
  // In: url (as for $validate-code), filter (every word must match: a word with a digit is a
  // code prefix, the others word prefixes of the display or, for ICD-10-CM, an inclusion term),
  // offset, count, system-version ("url|version"). Out: the ValueSet with expansion.total /
  // offset / contains, in the value set's (or the release's) order. A value set that cannot be
  // evaluated completely is refused (kUnprocessable, naming what is missing).
  Result<std::string> Expand(const OperationParams& in);

  // CodeSystem/$subsumes: https://hl7.org/fhir/R4/codesystem-operation-subsumes.html
  // In: codeA + codeB + system [+ version], or codingA + codingB. Out: outcome.
  Result<std::string> Subsumes(const OperationParams& in);

  // ConceptMap/$translate: https://hl7.org/fhir/R4/conceptmap-operation-translate.html
  // In: code + system, or coding, or codeableConcept; url (a GEM ConceptMap) or targetsystem;
  // reverse. ICD-9-CM sources use the forward GEM, ICD-10-CM sources the backward GEM.
  // Out: result, message, match* (equivalence, concept, product, source). docs/terminology.md
  // explains how the GEM flags become equivalences.
  Result<std::string> Translate(const OperationParams& in);

  // Dispatches by resource type and operation name (without "$"): CodeSystem lookup /
  // validate-code / subsumes, ValueSet validate-code / expand, ConceptMap translate.
  // NotFound for any other pair.
  Result<std::string> Invoke(std::string_view resource_type, std::string_view operation,
                             const OperationParams& in);

  // The resources describing what is loaded, as FHIR JSON: for ICD-10-CM and ICD-9-CM
  // summaries (CodeSystem content = not-present, with count), ids "icd-10-cm" (the newest
  // version; older ones are "icd-10-cm-<version>"), "icd-9-cm", ValueSets "icd-10-cm-all",
  // "icd-9-cm-all", ConceptMaps "gem-icd9cm-to-icd10cm", "gem-icd10cm-to-icd9cm"; then every
  // CodeSystem and ValueSet of a loaded package as the package has it.
  Result<std::vector<std::string>> CodeSystems();
  Result<std::vector<std::string>> ValueSets();
  Result<std::vector<std::string>> ConceptMaps();
  // A GEM ConceptMap ("gem-icd9cm-to-icd10cm" or "gem-icd10cm-to-icd9cm") with one group
  // holding every row (about 15 MB of JSON for the backward GEM), for clients that ask for the
  // whole map; the equivalences are those of Translate.
  Result<std::string> ConceptMapWithGroups(std::string_view id);
  // One of the above by resource type and id; NotFound when absent.
  Result<std::string> ReadResource(std::string_view type, std::string_view id);

  // The codes search modifiers stand for (https://hl7.org/fhir/R4/search.html#token), kept in a
  // bounded LRU cache that is emptied when the terminology database changes (a load while the
  // server runs). Each is NotFound for an unknown system, code or value set, and kUnprocessable
  // (too-costly) beyond `limit` codes.
  //
  // :below: `code` and every code below it in the newest version of `system`, release order.
  Result<std::shared_ptr<const CodeList>> CodesBelow(std::string_view system, std::string_view code,
                                                     size_t limit);
  // :above: `code` and every code above it.
  Result<std::shared_ptr<const CodeList>> CodesAbove(std::string_view system,
                                                     std::string_view code);
  // :in / :not-in: the members of the value set `reference` names: a canonical url ("url" or
  // "url|version") of a package or implicit value set, or "ValueSet/<id>" of a package one.
  // kUnprocessable also when the value set cannot be evaluated completely.
  Result<std::shared_ptr<const CodeList>> ValueSetCodes(std::string_view reference, size_t limit);
  // The same for a ValueSet resource the terminology does not hold (e.g. one created through the
  // REST API): its compose evaluated against the loaded code systems; not cached.
  Result<std::shared_ptr<const CodeList>> ValueSetCodes(const json::Value& value_set, size_t limit);

  // Closure queries on the newest loaded version of `system`.
  // True when `code` is `ancestor` or below it. NotFound when the system is not loaded; false
  // for unknown codes.
  Result<bool> IsA(std::string_view system, std::string_view code, std::string_view ancestor);
  // SQL for a SQLite store that ATTACHes the terminology file as `schema`: a subquery yielding the
  // codes (FHIR spelling, "E11.9") at or below ?2 in the newest version of system ?1 (bind
  // both), e.g.
  //   ... WHERE token.code IN (<DescendantsSubquery("term")>)
  static std::string DescendantsSubquery(std::string_view schema);
  // The same for the codes at or above ?2 (`:above`).
  static std::string AncestorsSubquery(std::string_view schema);

  const ServiceOptions& options() const { return options_; }
  // The canonical URLs of the two GEM ConceptMaps.
  std::string ForwardGemUrl() const;
  std::string BackwardGemUrl() const;

 private:
  TerminologyService(std::unique_ptr<internal::Db> db, ServiceOptions options);
  // REQUIRES: mu_ held (for all the *Locked functions).
  Result<std::vector<std::string>> ConceptMapsLocked(bool with_groups, std::string_view only_id);
  // The ICD-10-CM / ICD-9-CM summaries of `type` (CodeSystem or ValueSet).
  Result<std::vector<std::string>> SummariesLocked(std::string_view type);
  // Every package resource of `type`, or the one with `id` when not empty.
  Result<std::vector<std::string>> PackageResourcesLocked(std::string_view type,
                                                          std::string_view id);
  // Empties the cache when another connection has committed since the last call.
  Status RefreshCacheLocked();
  Result<std::shared_ptr<const CodeList>> CachedLocked(
      const std::string& key, const std::function<Result<CodeList>()>& compute);
  Result<std::string> GemGroupJson(int64_t direction, const std::string& from,
                                   const std::string& to);

  std::mutex mu_;
  std::unique_ptr<internal::Db> db_;
  ServiceOptions options_;
  std::unique_ptr<internal::ExpansionCache> cache_;
  int64_t data_version_ = -1;  // db_->ChangeToken() when the cache was last checked
};

}  // namespace vesta::terminology

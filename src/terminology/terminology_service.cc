#include "terminology/terminology_service.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "base/clock.h"
#include "base/strings.h"
#include "terminology/code_system_writer.h"
#include "terminology/db.h"
#include "terminology/expansion_cache.h"
#include "terminology/icd10cm/codes.h"
#include "terminology/json_out.h"
#include "terminology/service_internal.h"

namespace vesta::terminology {

using internal::ConceptKind;
using internal::JsonObject;
using internal::ParametersOut;
using internal::Rows;
using internal::Value;

namespace internal {

std::string_view SystemName(std::string_view url) {
  if (url == kIcd10CmSystem) return "ICD-10-CM";
  if (url == kIcd9CmSystem) return "ICD-9-CM";
  return url;
}

std::string DisplayName(const VersionRow& v) {
  if (v.url == kIcd10CmSystem || v.url == kIcd9CmSystem) return std::string(SystemName(v.url));
  return !v.name.empty() ? v.name : !v.title.empty() ? v.title : v.url;
}

std::string NormalizedCode(std::string_view system, std::string_view code) {
  std::string c(Trim(code));
  if (system == kIcd10CmSystem) return Icd10CmDotted(c);
  if (system == kIcd9CmSystem) return Icd9CmDotted(c);
  return c;
}

namespace {

constexpr std::string_view kVersionColumns =
    "SELECT id, url, version, name, title, source, source_file, concept_count, code_count "
    "FROM code_system_version ";

VersionRow ReadVersionRow(const Rows& q, int i) {
  VersionRow v;
  v.id = q.Int(i, 0);
  v.url = q.Text(i, 1);
  v.version = q.Text(i, 2);
  v.name = q.Text(i, 3);
  v.title = q.Text(i, 4);
  v.source = q.Text(i, 5);
  v.source_file = q.Text(i, 6);
  v.concept_count = q.Int(i, 7);
  v.code_count = q.Int(i, 8);
  return v;
}

}  // namespace

Result<VersionRow> ResolveVersion(internal::Db& db, std::string_view system,
                                  std::string_view version) {
  ASSIGN_OR_RETURN(Rows q,
                   db.Query(std::string(kVersionColumns) +
                                "WHERE url = ?1 AND (CAST(?2 AS TEXT) IS NULL OR version = ?2) "
                                "ORDER BY version DESC LIMIT 1",
                            {system, internal::TextOrNull(version)}));
  if (q.empty()) {
    if (!version.empty()) {
      return NotFound("code system " + std::string(system) + " version " + std::string(version) +
                      " is not loaded");
    }
    return NotFound("code system " + std::string(system) + " is not loaded");
  }
  return ReadVersionRow(q, 0);
}

Result<std::vector<VersionRow>> AllVersions(internal::Db& db) {
  ASSIGN_OR_RETURN(Rows q, db.Query(std::string(kVersionColumns) + "ORDER BY url, version DESC"));
  std::vector<VersionRow> out;
  for (int i = 0; i < q.size(); ++i) out.push_back(ReadVersionRow(q, i));
  return out;
}

Result<std::optional<ConceptInfo>> FindConcept(internal::Db& db, const VersionRow& csv,
                                               std::string_view code) {
  ASSIGN_OR_RETURN(Rows q, db.Query("SELECT " + std::string(kConceptColumns) +
                                        " FROM concept WHERE csv_id = ?1 AND code = ?2",
                                    {csv.id, code}));
  if (q.empty()) return std::optional<ConceptInfo>();
  ConceptInfo c = ReadConceptRow(q, 0);
  if (c.display.empty() && csv.url == kIcd9CmSystem) {
    // The GEMs carry no ICD-9-CM names. The one name available is that of an ICD-10-CM code the
    // forward GEM declares identical (all flags off: "the entry is ... equivalent").
    ASSIGN_OR_RETURN(
        Rows d,
        db.Query("SELECT c.display FROM gem g JOIN concept c ON c.code = g.target "
                 "AND c.csv_id = (SELECT id FROM code_system_version WHERE url = ?2 "
                 "ORDER BY version DESC LIMIT 1) "
                 "WHERE g.direction = 0 AND g.source = ?1 AND g.approximate = 0 AND g.no_map = 0 "
                 "AND g.combination = 0 LIMIT 1",
                 {c.code, kIcd10CmSystem}));
    if (!d.empty()) c.display = d.Text(0, 0);
  }
  return std::optional<ConceptInfo>(std::move(c));
}

Result<std::optional<ConceptInfo>> FindConceptLenient(internal::Db& db, const VersionRow& csv,
                                                      std::string_view code) {
  ASSIGN_OR_RETURN(std::optional<ConceptInfo> c, FindConcept(db, csv, code));
  if (c) return c;
  std::string normalized = NormalizedCode(csv.url, code);
  if (normalized == code) return c;
  return FindConcept(db, csv, normalized);
}

Result<bool> ClosureContains(internal::Db& db, int64_t csv_id, std::string_view ancestor,
                             std::string_view descendant) {
  ASSIGN_OR_RETURN(
      Rows q,
      db.Query("SELECT 1 FROM closure WHERE csv_id = ?1 AND ancestor = ?2 AND descendant = ?3",
               {csv_id, ancestor, descendant}));
  return !q.empty();
}

}  // namespace internal

using internal::ConceptInfo;
using internal::ImplicitValueSet;
using internal::StoredValueSet;
using internal::Validation;
using internal::VersionRow;

TerminologyService::~TerminologyService() = default;

Result<std::unique_ptr<TerminologyService>> TerminologyService::Open(const std::string& location,
                                                                     ServiceOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<internal::Db> db,
                   internal::OpenDb(location, internal::Access::kRead));
  return std::unique_ptr<TerminologyService>(
      new TerminologyService(std::move(db), std::move(options)));
}

TerminologyService::TerminologyService(std::unique_ptr<internal::Db> db, ServiceOptions options)
    : db_(std::move(db)),
      options_(std::move(options)),
      cache_(std::make_unique<internal::ExpansionCache>(options_.cache_entries,
                                                        options_.cache_codes)) {}

std::string TerminologyService::ForwardGemUrl() const {
  return options_.canonical_base + "/ConceptMap/gem-icd9cm-to-icd10cm";
}

std::string TerminologyService::BackwardGemUrl() const {
  return options_.canonical_base + "/ConceptMap/gem-icd10cm-to-icd9cm";
}

// ---------------------------------------------------------------------------------------------
// $lookup

Result<std::string> TerminologyService::Lookup(const OperationParams& in) {
  // https://hl7.org/fhir/R4/codesystem-operation-lookup.html: "code ... system ... version" or
  // "coding"; the output names the system and gives the display and the requested properties.
  std::lock_guard<std::mutex> lock(mu_);
  internal::Db& db = *db_;
  Coding c;
  std::vector<Coding> codings = in.GetCodings("coding");
  if (!codings.empty()) {
    c = codings.front();
  } else {
    c.system = in.GetOr("system", "");
    c.code = in.GetOr("code", "");
    c.version = in.GetOr("version", "");
  }
  if (c.code.empty() || c.system.empty()) {
    return Invalid("$lookup needs code and system, or coding");
  }
  if (c.version.empty()) c.version = in.GetOr("version", "");
  ASSIGN_OR_RETURN(VersionRow csv, internal::ResolveVersion(db, c.system, c.version));
  ASSIGN_OR_RETURN(std::optional<ConceptInfo> found, internal::FindConceptLenient(db, csv, c.code));
  if (!found) {
    return NotFound("unknown code '" + c.code + "' in " + internal::DisplayName(csv) +
                    (csv.version.empty() ? "" : " version " + csv.version));
  }
  std::vector<std::string> wanted = in.GetAll("property");
  auto want = [&](std::string_view p) {
    return wanted.empty() || std::find(wanted.begin(), wanted.end(), p) != wanted.end();
  };
  ParametersOut out;
  out.String("name", internal::DisplayName(csv));
  const bool package = internal::FromPackage(csv);
  if (!csv.version.empty()) out.String("version", csv.version);
  // display is 1..1 in $lookup, but FHIR strings may not be empty: an ICD-9-CM code without a
  // name (see FindConcept) has none.
  if (!found->display.empty()) out.String("display", found->display);
  std::string use_system = options_.canonical_base + "/CodeSystem/icd-10-cm-name-type";
  auto designation = [&](std::string_view use, std::string_view value) {
    out.Parts(
        "designation",
        {ParametersOut::Part("use", "valueCoding", internal::CodingJson(use_system, "", use, "")),
         ParametersOut::Part("value", "valueString", ParametersOut::Q(value))});
  };
  if (!found->short_name.empty()) designation("short", found->short_name);
  if (!found->long_name.empty()) designation("long", found->long_name);
  auto property = [&](std::string_view code, std::string_view type, std::string_view value) {
    out.Parts("property", {ParametersOut::Part("code", "valueCode", ParametersOut::Q(code)),
                           ParametersOut::Part("value", type, value)});
  };
  // Parents and children: a package code system may give a concept several parents (the
  // closure holds them all at depth 1); ICD-10-CM and ICD-9-CM have one, in the concept row.
  auto links = [&](std::string_view name, std::string_view sql) -> Status {
    if (!want(name)) return Status::Ok();
    ASSIGN_OR_RETURN(Rows q, db.Query(sql, {csv.id, found->code}));
    for (int i = 0; i < q.size(); ++i) property(name, "valueCode", ParametersOut::Q(q.Text(i, 0)));
    return Status::Ok();
  };
  if (package) {
    RETURN_IF_ERROR(links("parent",
                          "SELECT cl.ancestor FROM closure cl CROSS JOIN concept c ON c.csv_id = "
                          "cl.csv_id AND c.code = cl.ancestor WHERE cl.csv_id = ?1 AND "
                          "cl.descendant = ?2 AND cl.depth = 1 ORDER BY c.ord"));
    RETURN_IF_ERROR(links("child",
                          "SELECT cl.descendant FROM closure cl CROSS JOIN concept c ON c.csv_id "
                          "= cl.csv_id AND c.code = cl.descendant WHERE cl.csv_id = ?1 AND "
                          "cl.ancestor = ?2 AND cl.depth = 1 ORDER BY c.ord"));
  } else {
    if (want("parent") && !found->parent.empty()) {
      property("parent", "valueCode", ParametersOut::Q(found->parent));
    }
    RETURN_IF_ERROR(
        links("child", "SELECT code FROM concept WHERE csv_id = ?1 AND parent = ?2 ORDER BY ord"));
    bool groups = !internal::IsCodeKind(found->kind);
    if (want("billable")) {
      property("billable", "valueBoolean", found->billable ? "true" : "false");
    }
    if (want("notSelectable")) {
      property("notSelectable", "valueBoolean", groups ? "true" : "false");
    }
  }
  {
    // A package code system's properties as it gives them (notSelectable, status, definition...).
    ASSIGN_OR_RETURN(Rows q, db.Query("SELECT property, value_type, value FROM "
                                      "concept_property WHERE csv_id = ?1 AND code = ?2 "
                                      "ORDER BY ord",
                                      {csv.id, found->code}));
    for (int i = 0; i < q.size(); ++i) {
      const std::string& name = q.Text(i, 0);
      if (!want(name)) continue;
      std::string type = q.Text(i, 1);
      const std::string& value = q.Text(i, 2);
      const bool raw = type == "boolean" || type == "integer" || type == "decimal";
      type[0] = Upper(type[0]);
      property(name, "value" + type, raw ? value : ParametersOut::Q(value));
    }
  }
  {
    ASSIGN_OR_RETURN(
        Rows q,
        db.Query("SELECT kind, text FROM concept_note WHERE csv_id = ?1 AND code = ?2 ORDER BY ord",
                 {csv.id, found->code}));
    for (int i = 0; i < q.size(); ++i) {
      const std::string& kind = q.Text(i, 0);
      if (want(kind)) property(kind, "valueString", ParametersOut::Q(q.Text(i, 1)));
    }
  }
  return out.Done();
}

// ---------------------------------------------------------------------------------------------
// $validate-code

namespace {

// The value set a request names: `url`, pinned by `valueSetVersion` when given
// (https://hl7.org/fhir/R4/valueset-operation-validate-code.html: "valueSetVersion ... The
// identifier that is used to identify a specific version of the value set").
std::string ValueSetUrl(const OperationParams& in) {
  std::string url = in.GetOr("url", "");
  std::string version = in.GetOr("valueSetVersion", "");
  if (!version.empty() && url.find('|') == std::string::npos) url += "|" + version;
  return url;
}

// The version of `system` a request pins with $expand's `system-version` or $validate-code's
// `systemVersion` ("http://hl7.org/fhir/sid/icd-10-cm|2022"), or ''.
std::string SystemVersion(const OperationParams& in, std::string_view system) {
  for (const char* name : {"system-version", "systemVersion"}) {
    for (const std::string& v : in.GetAll(name)) {
      size_t bar = v.find('|');
      if (bar != std::string::npos && std::string_view(v).substr(0, bar) == system) {
        return v.substr(bar + 1);
      }
    }
  }
  return {};
}

}  // namespace

namespace internal {

Result<ImplicitValueSet> ParseImplicitValueSet(internal::Db& db, std::string_view url,
                                               std::string_view canonical_base) {
  // Also accept the ids of the ValueSet resources this service describes.
  std::string base = std::string(canonical_base) + "/ValueSet/";
  if (url.starts_with(base)) {
    std::string_view id = url.substr(base.size());
    if (id == "icd-10-cm-all") return ImplicitValueSet{std::string(kIcd10CmSystem), ""};
    if (id == "icd-9-cm-all") return ImplicitValueSet{std::string(kIcd9CmSystem), ""};
  }
  size_t q = url.find("?fhir_vs");
  if (q == std::string_view::npos) {
    return NotFound("unknown value set '" + std::string(url) +
                    "' (neither a loaded ValueSet nor an implicit value set <system>?fhir_vs, "
                    "<system>?fhir_vs=isa/<code>)");
  }
  ImplicitValueSet vs{std::string(url.substr(0, q)), ""};
  // https://hl7.org/fhir/R4/codesystem.html#implicit: "the value set ... that contains all the
  // codes in the code system"; any loaded code system has one.
  if (Result<VersionRow> loaded = ResolveVersion(db, vs.system, ""); !loaded.ok()) {
    if (loaded.status().code() != StatusCode::kNotFound) return loaded.status();
    return NotFound("unknown value set '" + std::string(url) + "': code system " + vs.system +
                    " is not loaded");
  }
  std::string_view rest = url.substr(q + 8);
  if (rest.empty()) return vs;
  if (rest.starts_with("=isa/") && rest.size() > 5) {
    vs.isa = rest.substr(5);
    return vs;
  }
  return NotFound("unsupported implicit value set '" + std::string(url) + "'");
}

// Validates one coding against (the newest or the given version of) its system, and, when
// `isa` is set, membership below that code.
Result<Validation> ValidateCoding(internal::Db& db, const Coding& c, std::string_view display,
                                  bool abstract_ok, const std::string* isa) {
  Validation v;
  Result<VersionRow> csv = ResolveVersion(db, c.system, c.version);
  if (!csv.ok()) {
    if (csv.status().code() != StatusCode::kNotFound) return csv.status();
    v.message = csv.status().message();
    return v;
  }
  std::string name = DisplayName(*csv);
  ASSIGN_OR_RETURN(std::optional<ConceptInfo> found, FindConcept(db, *csv, c.code));
  if (!found) {
    v.message = "Unknown code '" + c.code + "' in " + name +
                (csv->version.empty() ? "" : " version " + csv->version);
    std::string normalized = NormalizedCode(csv->url, c.code);
    if (normalized != c.code) {
      ASSIGN_OR_RETURN(std::optional<ConceptInfo> hint, FindConcept(db, *csv, normalized));
      if (hint) v.message += " (did you mean '" + normalized + "'?)";
    }
    return v;
  }
  v.display = found->display;
  if (!IsCodeKind(found->kind)) {
    v.result = abstract_ok && isa == nullptr;
    v.message =
        "'" + c.code + "' is " +
        (found->kind == ConceptKind::kAbstract ? "an abstract concept (notSelectable) of " + name
                                               : "a chapter or block of " + name + ", not a code") +
        (v.result ? "; accepted because abstract=true" : "");
    if (!v.result) return v;
  } else {
    v.result = true;
  }
  if (isa != nullptr) {
    ASSIGN_OR_RETURN(bool below, ClosureContains(db, csv->id, *isa, found->code));
    if (!below) {
      v.result = false;
      v.message = "'" + c.code + "' is not '" + *isa + "' or below it";
      return v;
    }
  }
  if (!display.empty() && !EqualsIgnoreCase(display, found->display) &&
      !EqualsIgnoreCase(display, found->short_name) &&
      !EqualsIgnoreCase(display, found->long_name)) {
    v.result = false;
    v.message = "The display '" + std::string(display) + "' is not a valid display for '" + c.code +
                "'; expected '" + found->display + "'";
    return v;
  }
  if (found->kind == ConceptKind::kHeader && !found->billable) {
    v.message = "'" + c.code + "' is a category or subcategory header of " + name +
                ", not valid for submission (not billable)";
  }
  return v;
}

}  // namespace internal

namespace {

// Runs `validate` on the input's code (code + system), coding or codeableConcept codings; the
// result is true when one of them is valid
// (https://hl7.org/fhir/R4/codesystem-operation-validate-code.html: "codeableConcept ... if any of
// the codings are valid").
template <typename F>
Result<std::string> RunValidation(const OperationParams& in, std::string_view default_system,
                                  F&& validate) {
  std::vector<Coding> codings = in.GetCodings("coding");
  std::vector<Coding> cc = in.GetCodings("codeableConcept");
  codings.insert(codings.end(), cc.begin(), cc.end());
  if (const std::string* code = in.Get("code")) {
    Coding c;
    c.code = *code;
    c.system = in.GetOr("system", default_system);
    c.version = in.GetOr("version", "");
    c.display = in.GetOr("display", "");
    codings.insert(codings.begin(), c);
  }
  if (codings.empty()) return Invalid("$validate-code needs code, coding or codeableConcept");
  std::string display_param = in.GetOr("display", "");
  Validation best;
  bool have = false;
  for (Coding& c : codings) {
    if (c.system.empty()) c.system = std::string(default_system);
    if (c.code.empty()) continue;
    std::string display = !c.display.empty() ? c.display : display_param;
    ASSIGN_OR_RETURN(Validation v, validate(c, display));
    if (!have || (v.result && !best.result)) {
      best = std::move(v);
      have = true;
    }
    if (best.result) break;
  }
  if (!have) return Invalid("$validate-code: no coding has a code");
  ParametersOut out;
  out.Boolean("result", best.result);
  if (!best.message.empty()) out.String("message", best.message);
  if (!best.display.empty()) out.String("display", best.display);
  return out.Done();
}

}  // namespace

Result<std::string> TerminologyService::ValidateCodeInCodeSystem(const OperationParams& in) {
  std::lock_guard<std::mutex> lock(mu_);
  internal::Db& db = *db_;
  std::string url = in.GetOr("url", in.GetOr("system", ""));
  if (url.empty() && in.GetCodings("coding").empty() && in.GetCodings("codeableConcept").empty()) {
    return Invalid("CodeSystem/$validate-code needs url (the code system) and code");
  }
  ASSIGN_OR_RETURN(bool abstract_ok, in.GetBool("abstract", false));
  return RunValidation(
      in, url, [&](const Coding& c, std::string_view display) -> Result<Validation> {
        if (!url.empty() && c.system != url) {
          Validation v;
          v.message = "the coding's system '" + c.system + "' is not the code system '" + url + "'";
          return v;
        }
        return internal::ValidateCoding(db, c, display, abstract_ok, nullptr);
      });
}

Result<std::string> TerminologyService::ValidateCodeInValueSet(const OperationParams& in) {
  std::lock_guard<std::mutex> lock(mu_);
  internal::Db& db = *db_;
  const std::string* url = in.Get("url");
  if (url == nullptr) {
    if (in.Get("valueSet") != nullptr) return NotSupported("inline value sets are not supported");
    return Invalid("ValueSet/$validate-code needs url (the value set)");
  }
  ASSIGN_OR_RETURN(bool abstract_ok, in.GetBool("abstract", false));
  Result<ImplicitValueSet> implicit =
      internal::ParseImplicitValueSet(db, *url, options_.canonical_base);
  if (!implicit.ok()) {
    if (implicit.status().code() != StatusCode::kNotFound) return implicit.status();
    ASSIGN_OR_RETURN(std::optional<StoredValueSet> stored,
                     internal::FindStoredValueSet(db, ValueSetUrl(in)));
    if (!stored) return implicit.status();
    ASSIGN_OR_RETURN(std::string default_system, internal::SingleSystem(db, *stored));
    return RunValidation(
        in, default_system, [&](const Coding& c, std::string_view display) -> Result<Validation> {
          return internal::ValidateInStoredValueSet(db, *stored, c, display, abstract_ok);
        });
  }
  const ImplicitValueSet& vs = *implicit;
  return RunValidation(
      in, vs.system, [&](const Coding& c, std::string_view display) -> Result<Validation> {
        if (c.system != vs.system) {
          Validation v;
          v.message = "the system '" + c.system + "' is not in the value set '" + *url + "'";
          return v;
        }
        Coding pinned = c;
        if (pinned.version.empty()) pinned.version = SystemVersion(in, vs.system);
        return internal::ValidateCoding(db, pinned, display, abstract_ok,
                                        vs.isa.empty() ? nullptr : &vs.isa);
      });
}

// ---------------------------------------------------------------------------------------------
// $expand

namespace {

std::string LikeEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

namespace internal {

std::vector<std::string> FilterWords(std::string_view filter) {
  std::vector<std::string> words;
  for (std::string_view w : SplitWords(filter, 16, " \t")) words.emplace_back(w);
  return words;
}

}  // namespace internal

Result<std::string> TerminologyService::Expand(const OperationParams& in) {
  // https://hl7.org/fhir/R4/valueset-operation-expand.html
  std::lock_guard<std::mutex> lock(mu_);
  internal::Db& db = *db_;
  const std::string* url = in.Get("url");
  if (url == nullptr) {
    if (in.Get("valueSet") != nullptr) return NotSupported("inline value sets are not supported");
    return Invalid("$expand needs url (the value set)");
  }
  Result<ImplicitValueSet> implicit =
      internal::ParseImplicitValueSet(db, *url, options_.canonical_base);
  if (!implicit.ok()) {
    if (implicit.status().code() != StatusCode::kNotFound) return implicit.status();
    ASSIGN_OR_RETURN(std::optional<StoredValueSet> stored,
                     internal::FindStoredValueSet(db, ValueSetUrl(in)));
    if (!stored) return implicit.status();
    return internal::ExpandStoredValueSet(db, *stored, in, options_);
  }
  const ImplicitValueSet& vs = *implicit;
  ASSIGN_OR_RETURN(VersionRow csv,
                   internal::ResolveVersion(db, vs.system, SystemVersion(in, vs.system)));
  std::string filter = in.GetOr("filter", "");
  ASSIGN_OR_RETURN(int64_t offset, in.GetInt("offset", 0));
  const bool has_count = in.Get("count") != nullptr;
  ASSIGN_OR_RETURN(int64_t count, in.GetInt("count", options_.max_count));
  count = std::min(count, options_.max_count);
  std::string root;
  if (!vs.isa.empty()) {
    ASSIGN_OR_RETURN(std::optional<ConceptInfo> c, internal::FindConcept(db, csv, vs.isa));
    if (!c) return NotFound("value set " + *url + ": unknown code '" + vs.isa + "'");
    root = c->code;
  }

  // The concepts of the value set: codes only (chapters and blocks are groupings). Filter
  // words with a digit are code prefixes ("E11", "S06.0"); the others match word prefixes of the
  // display and inclusion terms through the full-text index (so "diab kidn" finds "Type 2
  // diabetes mellitus with diabetic chronic kidney disease"); every word must match.
  std::vector<std::string> args;  // bound as ?2, ?3, ... (?1 is the version id)
  auto arg = [&](std::string value) {
    args.push_back(std::move(value));
    return "?" + std::to_string(args.size() + 1);
  };
  const bool postgres = db.dialect() == internal::Dialect::kPostgres;
  std::vector<std::string> code_words;
  std::string text_query;  // FTS5 MATCH syntax on SQLite, tsquery on PostgreSQL
  for (const std::string& w : internal::FilterWords(filter)) {
    if (std::any_of(w.begin(), w.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      code_words.push_back(w);
      continue;
    }
    // The query syntax is not passed through: each run of letters becomes a quoted prefix term
    // ("diab"* in FTS5, 'diab':* in a tsquery), all of which must match.
    std::string token;
    for (size_t i = 0; i <= w.size(); ++i) {
      unsigned char ch = i < w.size() ? static_cast<unsigned char>(w[i]) : ' ';
      if (std::isalnum(ch) || ch >= 0x80) {
        token.push_back(static_cast<char>(ch));
      } else if (!token.empty()) {
        if (postgres) {
          text_query += (text_query.empty() ? "'" : " & '") + token + "':*";
        } else {
          text_query += (text_query.empty() ? "\"" : " AND \"") + token + "\"*";
        }
        token.clear();
      }
    }
  }
  std::string from;
  if (!text_query.empty()) {
    from =
        " FROM concept_fts f CROSS JOIN concept c ON c.csv_id = f.csv_id AND c.code = f.code "
        "WHERE " +
        (postgres ? "f.tsv @@ to_tsquery('simple', " + arg(text_query) + ")"
                  : "concept_fts MATCH " + arg(text_query)) +
        " AND f.csv_id = ?1 AND c.kind IN (3, 4)";
    if (!root.empty()) {
      from += " AND EXISTS (SELECT 1 FROM closure cl WHERE cl.csv_id = ?1 AND cl.ancestor = " +
              arg(root) + " AND cl.descendant = c.code)";
    }
  } else if (root.empty()) {
    from = " FROM concept c WHERE c.csv_id = ?1 AND c.kind IN (3, 4)";
  } else {
    // CROSS JOIN keeps the closure first: the planner would otherwise walk every concept in
    // release order to avoid the sort.
    from =
        " FROM closure cl CROSS JOIN concept c ON c.csv_id = cl.csv_id AND "
        "c.code = cl.descendant WHERE cl.csv_id = ?1 AND cl.ancestor = " +
        arg(root) + " AND c.kind IN (3, 4)";
  }
  // Code prefixes, case-insensitive (SQLite's LIKE is, for ASCII).
  for (const std::string& w : code_words) {
    from += std::string(postgres ? " AND c.code ILIKE " : " AND c.code LIKE ") +
            arg(LikeEscape(w) + "%") + " ESCAPE '\\'";
  }
  std::vector<Value> params = {csv.id};
  for (const std::string& a : args) params.emplace_back(std::string_view(a));
  int64_t total = 0;
  {
    ASSIGN_OR_RETURN(Rows q, db.Query("SELECT count(*)" + from, params));
    total = q.empty() ? 0 : q.Int(0, 0);
  }
  if (!has_count && total - offset > options_.max_expansion) {
    return Status(
        StatusCode::kUnprocessable,
        "the expansion has " + std::to_string(total) +
            " codes; page it with count "
            "and offset, or narrow it with filter",
        {Issue{Severity::kError, "too-costly",
               "expansion of " + *url + " too large (" + std::to_string(total) + ")", ""}});
  }
  std::vector<std::string> contains;
  {
    const size_t limit_index = params.size() + 1;
    params.emplace_back(count);
    params.emplace_back(offset);
    ASSIGN_OR_RETURN(Rows q, db.Query("SELECT c.code, c.display, c.billable" + from +
                                          " ORDER BY c.ord LIMIT ?" + std::to_string(limit_index) +
                                          " OFFSET ?" + std::to_string(limit_index + 1),
                                      params));
    for (int i = 0; i < q.size(); ++i) {
      contains.push_back(JsonObject()
                             .Str("system", csv.url)
                             .StrIf("version", csv.version)
                             .Str("code", q.Text(i, 0))
                             .StrIf("display", q.Text(i, 1))
                             .Done());
    }
  }
  std::vector<std::string> parameters;
  auto param = [&](std::string_view name, std::string_view type, std::string value_json) {
    parameters.push_back(JsonObject().Str("name", name).Raw(type, value_json).Done());
  };
  if (!filter.empty()) param("filter", "valueString", ParametersOut::Q(filter));
  if (offset > 0) param("offset", "valueInteger", std::to_string(offset));
  if (has_count) param("count", "valueInteger", std::to_string(count));
  param("version", "valueUri",
        ParametersOut::Q(csv.url + (csv.version.empty() ? "" : "|" + csv.version)));
  SystemClock system_clock;
  Clock* clock = options_.clock != nullptr ? options_.clock : &system_clock;
  JsonObject expansion;
  expansion.Str("timestamp", FormatInstant(clock->Now())).Int("total", total);
  if (offset > 0 || has_count) expansion.Int("offset", offset);
  expansion.Array("parameter", parameters);
  if (!contains.empty()) expansion.Array("contains", contains);
  JsonObject out;
  out.Str("resourceType", "ValueSet").Str("url", *url).Str("status", "active");
  out.Raw("compose", JsonObject()
                         .Array("include", {[&] {
                                  JsonObject inc;
                                  inc.Str("system", csv.url).StrIf("version", csv.version);
                                  if (!root.empty()) {
                                    inc.Array("filter", {JsonObject()
                                                             .Str("property", "concept")
                                                             .Str("op", "is-a")
                                                             .Str("value", root)
                                                             .Done()});
                                  }
                                  return inc.Done();
                                }()})
                         .Done());
  out.Raw("expansion", expansion.Done());
  return out.Done();
}

// ---------------------------------------------------------------------------------------------
// $subsumes

Result<std::string> TerminologyService::Subsumes(const OperationParams& in) {
  // https://hl7.org/fhir/R4/codesystem-operation-subsumes.html: "equivalent | subsumes |
  // subsumed-by | not-subsumed".
  std::lock_guard<std::mutex> lock(mu_);
  internal::Db& db = *db_;
  std::string system = in.GetOr("system", "");
  std::string version = in.GetOr("version", "");
  std::string a = in.GetOr("codeA", "");
  std::string b = in.GetOr("codeB", "");
  std::vector<Coding> ca = in.GetCodings("codingA");
  std::vector<Coding> cb = in.GetCodings("codingB");
  if (!ca.empty() && !cb.empty()) {
    if (ca[0].system != cb[0].system) return Invalid("codingA and codingB have different systems");
    system = ca[0].system;
    a = ca[0].code;
    b = cb[0].code;
    if (!ca[0].version.empty()) version = ca[0].version;
  }
  if (system.empty() || a.empty() || b.empty()) {
    return Invalid("$subsumes needs system, codeA and codeB (or codingA and codingB)");
  }
  ASSIGN_OR_RETURN(VersionRow csv, internal::ResolveVersion(db, system, version));
  ASSIGN_OR_RETURN(std::optional<ConceptInfo> ka, internal::FindConceptLenient(db, csv, a));
  ASSIGN_OR_RETURN(std::optional<ConceptInfo> kb, internal::FindConceptLenient(db, csv, b));
  if (!ka)
    return NotFound("unknown code '" + a + "' in " + std::string(internal::SystemName(system)));
  if (!kb)
    return NotFound("unknown code '" + b + "' in " + std::string(internal::SystemName(system)));
  std::string outcome;
  if (ka->code == kb->code) {
    outcome = "equivalent";
  } else {
    ASSIGN_OR_RETURN(bool a_above, internal::ClosureContains(db, csv.id, ka->code, kb->code));
    ASSIGN_OR_RETURN(bool b_above, internal::ClosureContains(db, csv.id, kb->code, ka->code));
    outcome = a_above ? "subsumes" : b_above ? "subsumed-by" : "not-subsumed";
  }
  ParametersOut out;
  out.Code("outcome", outcome);
  return out.Done();
}

// ---------------------------------------------------------------------------------------------
// Closure

Result<bool> TerminologyService::IsA(std::string_view system, std::string_view code,
                                     std::string_view ancestor) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(VersionRow csv, internal::ResolveVersion(*db_, system, ""));
  return internal::ClosureContains(*db_, csv.id, internal::NormalizedCode(system, ancestor),
                                   internal::NormalizedCode(system, code));
}

std::string TerminologyService::DescendantsSubquery(std::string_view schema) {
  std::string s(schema);
  return "SELECT descendant FROM " + s + ".closure WHERE csv_id = (SELECT id FROM " + s +
         ".code_system_version WHERE url = ?1 ORDER BY version DESC LIMIT 1) AND ancestor = ?2";
}

std::string TerminologyService::AncestorsSubquery(std::string_view schema) {
  std::string s(schema);
  return "SELECT ancestor FROM " + s + ".closure WHERE csv_id = (SELECT id FROM " + s +
         ".code_system_version WHERE url = ?1 ORDER BY version DESC LIMIT 1) AND descendant = ?2";
}

}  // namespace vesta::terminology

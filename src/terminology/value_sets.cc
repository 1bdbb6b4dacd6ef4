// Value sets whose members are stored (a loaded package's ValueSets: value_set and
// value_set_member, written by terminology/fhir_package/package_loader.cc), and the code lists
// behind the search modifiers :below, :above, :in and :not-in with their cache.
#include <algorithm>
#include <cctype>

#include "base/clock.h"
#include "base/strings.h"
#include "json/parse.h"
#include "terminology/expansion_cache.h"
#include "terminology/json_out.h"
#include "terminology/service_internal.h"
#include "terminology/terminology_service.h"

namespace vesta::terminology {

using internal::JsonObject;
using internal::Members;
using internal::ParametersOut;
using internal::StoredValueSet;
using internal::VersionRow;

namespace internal {
namespace {

constexpr std::string_view kValueSetColumns =
    "SELECT id, url, version, resource_id, name, title, method, note, complete, member_count "
    "FROM value_set ";

StoredValueSet ReadValueSetRow(const Rows& q) {
  StoredValueSet v;
  v.id = q.Int(0, 0);
  v.url = q.Text(0, 1);
  v.version = q.Text(0, 2);
  v.resource_id = q.Text(0, 3);
  v.name = q.Text(0, 4);
  v.title = q.Text(0, 5);
  v.method = q.Text(0, 6);
  v.note = q.Text(0, 7);
  v.complete = q.Int(0, 8) != 0;
  v.member_count = q.Int(0, 9);
  return v;
}

Status TooCostly(std::string_view what, size_t limit) {
  return Status(
      StatusCode::kUnprocessable,
      std::string(what) + " has more than " + std::to_string(limit) + " codes",
      {Issue{Severity::kError, "too-costly",
             std::string(what) + " larger than " + std::to_string(limit) + " codes", ""}});
}

// $expand's filter on a stored member: every word must match; a word with a digit is a code
// prefix, another a prefix of a word of the display (case-insensitive).
bool MatchesFilter(const Member& m, const std::vector<std::string>& words) {
  const std::string display = Lower(m.display);
  for (const std::string& w : words) {
    if (std::any_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      if (!m.code.starts_with(w)) return false;
      continue;
    }
    const std::string word = Lower(w);
    bool found = false;
    for (size_t at = display.find(word); at != std::string::npos && !found;
         at = display.find(word, at + 1)) {
      found = at == 0 || !std::isalnum(static_cast<unsigned char>(display[at - 1]));
    }
    if (!found && !Lower(m.code).starts_with(word)) return false;
  }
  return true;
}

enum class Direction { kBelow, kAbove };

// The codes at or below (at or above) `code` in the newest version of `system`, in release
// order (nearest first).
Result<CodeList> ClosureCodes(Db& db, Direction direction, std::string_view system,
                              std::string_view code, size_t limit) {
  ASSIGN_OR_RETURN(VersionRow csv, ResolveVersion(db, system, ""));
  // One row past `limit` tells that there are more.
  ASSIGN_OR_RETURN(
      Rows q,
      db.Query(direction == Direction::kBelow
                   ? "SELECT cl.descendant FROM closure cl CROSS JOIN concept c ON c.csv_id = "
                     "cl.csv_id AND c.code = cl.descendant WHERE cl.csv_id = ?1 AND "
                     "cl.ancestor = ?2 ORDER BY c.ord LIMIT ?3"
                   : "SELECT ancestor FROM closure WHERE csv_id = ?1 AND descendant = ?2 "
                     "ORDER BY depth LIMIT ?3",
               {csv.id, code, static_cast<int64_t>(std::min<size_t>(limit, size_t{1} << 40)) + 1}));
  CodeList out;
  for (int i = 0; i < q.size(); ++i) {
    if (out.size() == limit) return TooCostly("'" + std::string(code) + "' and below", limit);
    out.push_back({csv.url, q.Text(i, 0)});
  }
  if (out.empty()) {
    return NotFound("'" + std::string(code) + "' is not a code of " + DisplayName(csv));
  }
  return out;
}

// The members as a code list, or kUnprocessable when some are unknown.
Result<CodeList> CompleteCodes(Members members, std::string_view url) {
  if (!members.complete) {
    return Status(
        StatusCode::kUnprocessable,
        "value set " + std::string(url) + " cannot be evaluated completely: " + members.note);
  }
  CodeList out;
  out.reserve(members.codes.size());
  for (Member& m : members.codes) out.push_back({std::move(m.system), std::move(m.code)});
  return out;
}

}  // namespace

Result<std::optional<StoredValueSet>> FindStoredValueSet(Db& db, std::string_view url) {
  size_t bar = url.find('|');
  std::string_view version = bar == std::string_view::npos ? "" : url.substr(bar + 1);
  ASSIGN_OR_RETURN(Rows q,
                   db.Query(std::string(kValueSetColumns) +
                                "WHERE url = ?1 AND (CAST(?2 AS TEXT) IS NULL OR version = ?2) "
                                "ORDER BY version DESC LIMIT 1",
                            {url.substr(0, bar), TextOrNull(version)}));
  if (q.empty()) return std::optional<StoredValueSet>();
  return std::optional<StoredValueSet>(ReadValueSetRow(q));
}

Result<std::optional<StoredValueSet>> FindStoredValueSetById(Db& db, std::string_view id) {
  ASSIGN_OR_RETURN(
      Rows q, db.Query(std::string(kValueSetColumns) + "WHERE resource_id = ?1 LIMIT 1", {id}));
  if (q.empty()) return std::optional<StoredValueSet>();
  return std::optional<StoredValueSet>(ReadValueSetRow(q));
}

Result<Members> StoredMembers(Db& db, const StoredValueSet& vs) {
  Members out;
  out.complete = vs.complete;
  out.note = vs.note;
  out.method = vs.method;
  ASSIGN_OR_RETURN(Rows q, db.Query("SELECT system, code, version, display, abstract FROM "
                                    "value_set_member WHERE vs_id = ?1 ORDER BY ord",
                                    {vs.id}));
  out.codes.reserve(static_cast<size_t>(q.size()));
  for (int i = 0; i < q.size(); ++i) {
    out.codes.push_back({q.Text(i, 0), q.Text(i, 2), q.Text(i, 1), q.Text(i, 3), q.Int(i, 4) != 0});
  }
  return out;
}

Result<Members> KnownValueSetMembers(Db& db, std::string_view url, size_t limit,
                                     std::string_view canonical_base) {
  ASSIGN_OR_RETURN(std::optional<StoredValueSet> stored, FindStoredValueSet(db, url));
  if (stored) {
    if (static_cast<size_t>(stored->member_count) > limit) {
      return TooCostly("value set " + stored->url, limit);
    }
    return StoredMembers(db, *stored);
  }
  ASSIGN_OR_RETURN(ImplicitValueSet implicit, ParseImplicitValueSet(db, url, canonical_base));
  if (!implicit.isa.empty()) {
    ASSIGN_OR_RETURN(VersionRow csv, ResolveVersion(db, implicit.system, ""));
    ASSIGN_OR_RETURN(std::optional<ConceptInfo> root, FindConceptLenient(db, csv, implicit.isa));
    if (!root) {
      return NotFound("value set " + std::string(url) + ": unknown code '" + implicit.isa + "'");
    }
  }
  // The implicit value set as the compose it stands for.
  std::string vs =
      R"({"resourceType":"ValueSet","compose":{"include":[)" +
      JsonObject()
          .Str("system", implicit.system)
          .Raw("filter", implicit.isa.empty()
                             ? "[]"
                             : "[" +
                                   JsonObject()
                                       .Str("property", "concept")
                                       .Str("op", "is-a")
                                       .Str("value", NormalizedCode(implicit.system, implicit.isa))
                                       .Done() +
                                   "]")
          .Done() +
      "]}}";
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(vs));
  ValueSetResolver none = [](std::string_view u) -> Result<Members> {
    return NotFound("value set " + std::string(u));
  };
  return EvaluateValueSet(db, doc.root(), none, limit);
}

Result<std::string> SingleSystem(Db& db, const StoredValueSet& vs) {
  ASSIGN_OR_RETURN(Rows q, db.Query("SELECT DISTINCT system FROM value_set_member WHERE "
                                    "vs_id = ?1 LIMIT 2",
                                    {vs.id}));
  return q.size() == 1 ? q.Text(0, 0) : std::string();
}

// https://hl7.org/fhir/R4/valueset-operation-validate-code.html: "Validate that a coded value is
// in the set of codes allowed by a value set." The members are stored; when the code system is
// loaded too, the display is checked against it as for CodeSystem/$validate-code.
Result<Validation> ValidateInStoredValueSet(Db& db, const StoredValueSet& vs, const Coding& c,
                                            std::string_view display, bool abstract_ok) {
  Validation v;
  if (c.system.empty()) {
    v.message = "The code '" + c.code + "' has no system, and value set " + vs.url +
                " has codes from several systems";
    return v;
  }
  ASSIGN_OR_RETURN(Rows q, db.Query("SELECT display, abstract FROM value_set_member WHERE "
                                    "vs_id = ?1 AND system = ?2 AND code = ?3",
                                    {vs.id, c.system, c.code}));
  const bool member = !q.empty();
  const std::string member_display = member ? q.Text(0, 0) : "";
  const bool member_abstract = member && q.Int(0, 1) != 0;
  Result<VersionRow> csv = ResolveVersion(db, c.system, c.version);
  if (!member) {
    v.message =
        "The code '" + c.code + "' from system '" + c.system + "' is not in value set " + vs.url;
    if (csv.ok()) {
      ASSIGN_OR_RETURN(std::optional<ConceptInfo> known, FindConcept(db, *csv, c.code));
      if (!known) {
        v.message = "Unknown code '" + c.code + "' in " + DisplayName(*csv) +
                    ", so it is not in value set " + vs.url;
      }
    }
    if (!vs.complete) {
      v.message += " (the value set could be evaluated only in part: " + vs.note + ")";
    }
    return v;
  }
  if (csv.ok()) {
    ASSIGN_OR_RETURN(v, ValidateCoding(db, c, display, /*abstract_ok=*/true, nullptr));
    if (!v.result) return v;
  } else {
    v.result = true;
    v.display = member_display;
    if (!display.empty() && !member_display.empty() && !EqualsIgnoreCase(display, member_display)) {
      v.result = false;
      v.message = "The display '" + std::string(display) + "' is not a valid display for '" +
                  c.code + "'; expected '" + member_display + "'";
      return v;
    }
  }
  if (member_abstract && !abstract_ok) {
    v.result = false;
    v.message = "'" + c.code + "' is abstract (notSelectable) in value set " + vs.url +
                "; it is valid only with abstract=true";
  } else if (member_abstract) {
    v.message = "'" + c.code + "' is abstract; accepted because abstract=true";
  } else {
    v.message.clear();
  }
  return v;
}

Result<std::string> ExpandStoredValueSet(Db& db, const StoredValueSet& vs,
                                         const OperationParams& in, const ServiceOptions& options) {
  // https://hl7.org/fhir/R4/valueset-operation-expand.html: "the server ... returns an error if
  // it cannot" expand the value set.
  if (!vs.complete) {
    return Status(
        StatusCode::kUnprocessable,
        "value set " + vs.url + " cannot be expanded completely: " + vs.note,
        {Issue{Severity::kError, "not-supported", "incomplete value set: " + vs.note, ""}});
  }
  std::string filter = in.GetOr("filter", "");
  ASSIGN_OR_RETURN(int64_t offset, in.GetInt("offset", 0));
  const bool has_count = in.Get("count") != nullptr;
  ASSIGN_OR_RETURN(int64_t count, in.GetInt("count", options.max_count));
  count = std::min(count, options.max_count);
  ASSIGN_OR_RETURN(Members members, StoredMembers(db, vs));
  std::vector<std::string> words = FilterWords(filter);
  std::vector<const Member*> matches;
  for (const Member& m : members.codes) {
    if (words.empty() || MatchesFilter(m, words)) matches.push_back(&m);
  }
  const int64_t total = static_cast<int64_t>(matches.size());
  if (!has_count && total - offset > options.max_expansion) {
    return TooCostly("the expansion of " + vs.url, static_cast<size_t>(options.max_expansion));
  }
  std::vector<std::string> contains;
  for (int64_t i = offset; i < total && i < offset + count; ++i) {
    const Member& m = *matches[static_cast<size_t>(i)];
    JsonObject c;
    c.Str("system", m.system).StrIf("version", m.version);
    if (m.abstract) c.Bool("abstract", true);
    c.Str("code", m.code).StrIf("display", m.display);
    contains.push_back(c.Done());
  }
  std::vector<std::string> parameters;
  auto param = [&](std::string_view name, std::string_view type, std::string value_json) {
    parameters.push_back(JsonObject().Str("name", name).Raw(type, value_json).Done());
  };
  if (!filter.empty()) param("filter", "valueString", ParametersOut::Q(filter));
  if (offset > 0) param("offset", "valueInteger", std::to_string(offset));
  if (has_count) param("count", "valueInteger", std::to_string(count));
  SystemClock system_clock;
  Clock* clock = options.clock != nullptr ? options.clock : &system_clock;
  JsonObject expansion;
  expansion.Str("timestamp", FormatInstant(clock->Now())).Int("total", total);
  if (offset > 0 || has_count) expansion.Int("offset", offset);
  if (!parameters.empty()) expansion.Array("parameter", parameters);
  if (!contains.empty()) expansion.Array("contains", contains);
  JsonObject out;
  out.Str("resourceType", "ValueSet").Str("id", vs.resource_id).Str("url", vs.url);
  out.StrIf("version", vs.version).StrIf("name", vs.name).StrIf("title", vs.title);
  out.Str("status", "active").Raw("expansion", expansion.Done());
  return out.Done();
}

}  // namespace internal

// ---------------------------------------------------------------------------------------------
// Code lists for search modifiers, cached

Status TerminologyService::RefreshCacheLocked() {
  // A load commits on another connection (db.h, ChangeToken).
  ASSIGN_OR_RETURN(const int64_t version, db_->ChangeToken());
  if (version != data_version_) {
    cache_->Clear();
    data_version_ = version;
  }
  return Status::Ok();
}

Result<std::shared_ptr<const CodeList>> TerminologyService::CachedLocked(
    const std::string& key, const std::function<Result<CodeList>()>& compute) {
  RETURN_IF_ERROR(RefreshCacheLocked());
  if (std::shared_ptr<const CodeList> hit = cache_->Find(key)) return hit;
  ASSIGN_OR_RETURN(CodeList codes, compute());
  auto shared = std::make_shared<const CodeList>(std::move(codes));
  cache_->Put(key, shared);
  return shared;
}

Result<std::shared_ptr<const CodeList>> TerminologyService::CodesBelow(std::string_view system,
                                                                       std::string_view code,
                                                                       size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string normalized = internal::NormalizedCode(system, code);
  ASSIGN_OR_RETURN(std::shared_ptr<const CodeList> codes,
                   CachedLocked("below\x1f" + std::string(system) + "\x1f" + normalized, [&] {
                     return internal::ClosureCodes(*db_, internal::Direction::kBelow, system,
                                                   normalized, limit);
                   }));
  if (codes->size() > limit) return internal::TooCostly("'" + normalized + "' and below", limit);
  return codes;
}

Result<std::shared_ptr<const CodeList>> TerminologyService::CodesAbove(std::string_view system,
                                                                       std::string_view code) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string normalized = internal::NormalizedCode(system, code);
  return CachedLocked("above\x1f" + std::string(system) + "\x1f" + normalized, [&] {
    return internal::ClosureCodes(*db_, internal::Direction::kAbove, system, normalized,
                                  static_cast<size_t>(options_.max_expansion));
  });
}

Result<std::shared_ptr<const CodeList>> TerminologyService::ValueSetCodes(
    std::string_view reference, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(
      std::shared_ptr<const CodeList> codes,
      CachedLocked("in\x1f" + std::string(reference), [&]() -> Result<CodeList> {
        std::string url(reference);
        // https://hl7.org/fhir/R4/search.html#token: the value set is named by
        // "a URI (relative or absolute)": its canonical url, or ValueSet/<id>.
        if (reference.starts_with("ValueSet/")) {
          ASSIGN_OR_RETURN(std::optional<StoredValueSet> vs,
                           internal::FindStoredValueSetById(*db_, reference.substr(9)));
          if (!vs) return NotFound("unknown value set " + url);
          url = vs->url + (vs->version.empty() ? "" : "|" + vs->version);
        }
        ASSIGN_OR_RETURN(Members members,
                         internal::KnownValueSetMembers(*db_, url, limit, options_.canonical_base));
        return internal::CompleteCodes(std::move(members), url);
      }));
  if (codes->size() > limit)
    return internal::TooCostly("value set " + std::string(reference), limit);
  return codes;
}

Result<std::shared_ptr<const CodeList>> TerminologyService::ValueSetCodes(
    const json::Value& value_set, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  internal::ValueSetResolver resolve = [&](std::string_view url) {
    return internal::KnownValueSetMembers(*db_, url, limit, options_.canonical_base);
  };
  ASSIGN_OR_RETURN(Members members, internal::EvaluateValueSet(*db_, value_set, resolve, limit));
  std::string url(value_set.FindString("url"));
  ASSIGN_OR_RETURN(CodeList codes, internal::CompleteCodes(std::move(members), url));
  return std::make_shared<const CodeList>(std::move(codes));
}

}  // namespace vesta::terminology

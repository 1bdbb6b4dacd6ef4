// Token search modifiers answered by the terminology (https://hl7.org/fhir/R4/search.html#token):
//   :below   "the search matches codes subsumed by the given code"   (E11 → E11, E11.9, E11.65 ...)
//   :above   "the search matches codes that subsume the given code"  (E11.9 → E11.9, E11, E08-E13)
//   :in      "the search parameter is a URI (relative or absolute) that identifies a value set, and
//            the search parameter tests whether the coding is in the specified value set"
//   :not-in  "... tests whether the coding is not in the specified value set"
// The REST layer finds the codes such a parameter stands for and hands them to the planner as a
// code set (search/spec.h, CodeSet), which matches them as an OR over the codes (a long list as
// one lookup per system), or for :not-in as :not does: "Reverse the code matching described
// above to return all resources that do not have a matching item. Note that this includes
// resources that have no value for the parameter": so :not-in matches resources none of whose
// codes is in the value set, including those without the element.
//
// Value sets are named by canonical url (optionally `|version`), by `ValueSet/<id>` or by this
// server's `[base]/ValueSet/<id>`: a value set of the terminology (a package's, or an implicit
// `<system>?fhir_vs`), else a ValueSet resource of the store whose compose the terminology
// evaluates. The code lists come from TerminologyService, which caches them.
#include <algorithm>
#include <set>

#include "base/strings.h"
#include "json/parse.h"
#include "rest/context.h"
#include "search/registry.h"
#include "terminology/terminology_service.h"

namespace vesta::rest {
namespace {

// The most codes one modifier may stand for: a chapter of ICD-10-CM is a few thousand.
constexpr size_t kMaxExpansion = 20000;

// Which kinds of element a token parameter indexes: Codings (a system with each code) or plain
// `code` elements, whose system is implicit in their binding and which the index keeps with an
// empty system (Observation.status). Unknown expressions count as both.
struct ElementKinds {
  bool codings = false;
  bool plain_codes = false;
};

// The FHIR type of the element a simple path expression ends at ("Observation.status" →
// "code"; "(Observation.value as CodeableConcept)" → "CodeableConcept"), or "" when the
// expression is not a plain path.
std::string PathType(const fhir::Model& model, std::string_view expr) {
  while (!expr.empty() && (expr.front() == '(' || expr.front() == ' ')) expr.remove_prefix(1);
  while (!expr.empty() && (expr.back() == ')' || expr.back() == ' ')) expr.remove_suffix(1);
  if (size_t as = expr.find(" as "); as != std::string_view::npos) {
    return std::string(expr.substr(as + 4));
  }
  if (expr.find_first_of("()[]|") != std::string_view::npos) return "";
  size_t dot = expr.find('.');
  if (dot == std::string_view::npos) return "";
  const fhir::StructInfo* at = model.FindStruct(expr.substr(0, dot));
  std::string_view rest = expr.substr(dot + 1);
  for (int depth = 0; at != nullptr && depth < 16; ++depth) {
    size_t next = rest.find('.');
    const fhir::ElementInfo* e = at->FindElement(rest.substr(0, next));
    if (e == nullptr || e->types.size() != 1) return "";
    if (next == std::string_view::npos) return e->types.front().code;
    at = e->types.front().structure;
    rest = rest.substr(next + 1);
  }
  return "";
}

ElementKinds KindsOf(const fhir::Model& model, const std::vector<std::string>& types,
                     std::string_view param) {
  ElementKinds k;
  if (types.empty() || param.find_first_of(".:") != std::string_view::npos) {
    return {true, true};  // system search, chains, _has: not known here
  }
  for (const std::string& type : types) {
    const search::Param* p = search::Registry::Active().Find(type, param);
    if (p == nullptr) return {true, true};
    std::string_view expr = p->expression;
    for (size_t guard = 0; guard < 64 && !expr.empty(); ++guard) {
      size_t bar = expr.find(" | ");
      std::string t = PathType(model, expr.substr(0, bar));
      if (t == "code") {
        k.plain_codes = true;
      } else if (t == "Coding" || t == "CodeableConcept") {
        k.codings = true;
      } else {
        return {true, true};
      }
      if (bar == std::string_view::npos) break;
      expr.remove_prefix(bar + 3);
    }
  }
  return k;
}

// True when `param` is a token parameter of every searched type (or may be, for a system search):
// uri parameters have :below and :above of their own.
bool IsToken(const std::vector<std::string>& types, std::string_view param) {
  for (const std::string& type : types) {
    const search::Param* p = search::Registry::Active().Find(type, param);
    if (p != nullptr && p->type != search::ParamType::kToken) return false;
  }
  return true;
}

Status Bad(const std::string& name, const std::string& message) {
  return Status(StatusCode::kInvalid, name + ": " + message);
}

// The codes of the value set `reference` names.
Result<std::shared_ptr<const terminology::CodeList>> ValueSetCodes(const Context& ctx,
                                                                   const Request& request,
                                                                   const std::string& name,
                                                                   std::string reference) {
  terminology::TerminologyService& term = *ctx.options.terminology;
  const std::string local = BaseUrl(ctx, request) + "/ValueSet/";
  if (reference.starts_with(local)) reference = "ValueSet/" + reference.substr(local.size());
  Result<std::shared_ptr<const terminology::CodeList>> codes =
      term.ValueSetCodes(reference, kMaxExpansion);
  if (codes.ok() || codes.status().code() != StatusCode::kNotFound) {
    if (!codes.ok()) return Bad(name, codes.status().message());
    return codes;
  }
  // Not one the terminology holds: a ValueSet resource of this server, by id or by url.
  std::string id;
  if (reference.starts_with("ValueSet/")) {
    id = reference.substr(9);
  } else {
    size_t bar = reference.find('|');
    QueryList query = {{"url", reference.substr(0, bar)}};
    if (bar != std::string::npos) query.emplace_back("version", reference.substr(bar + 1));
    ASSIGN_OR_RETURN(std::vector<std::string> ids, FindMatches(ctx, "ValueSet", query, 2));
    if (ids.size() > 1) return Bad(name, "several ValueSets have the url " + reference);
    if (!ids.empty()) id = ids.front();
  }
  if (id.empty()) return Bad(name, "unknown value set '" + reference + "'");
  Result<store::StoredVersion> stored = ctx.store.Read("ValueSet", id);
  if (!stored.ok() || stored->deleted) return Bad(name, "unknown value set '" + reference + "'");
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(stored->json));
  if (std::string_view url = doc.root().FindString("url"); !url.empty()) {
    codes = term.ValueSetCodes(url, kMaxExpansion);
    if (codes.ok()) return codes;
  }
  codes = term.ValueSetCodes(doc.root(), kMaxExpansion);
  if (!codes.ok()) return Bad(name, codes.status().message());
  return codes;
}

}  // namespace

Result<std::map<size_t, search::CodeSet>> ExpandTerminologyModifiers(
    const Context& ctx, const Request& request, const std::vector<std::string>& types,
    const QueryList& params) {
  std::map<size_t, search::CodeSet> out;
  for (size_t index = 0; index < params.size(); ++index) {
    const auto& [name, value] = params[index];
    size_t colon = name.rfind(':');
    std::string modifier = colon == std::string::npos ? "" : name.substr(colon + 1);
    std::string base = colon == std::string::npos ? name : name.substr(0, colon);
    const bool value_set = modifier == "in" || modifier == "not-in";
    if ((!value_set && modifier != "below" && modifier != "above") || !IsToken(types, base)) {
      continue;
    }
    terminology::TerminologyService* term = ctx.options.terminology;
    if (!value_set && (term == nullptr || value.find('|') == std::string::npos)) {
      continue;  // the search engine judges (and refuses) it
    }
    if (term == nullptr) {
      return Bad(name, "no terminology is loaded on this server (`vesta terminology load r4`)");
    }
    std::vector<std::shared_ptr<const terminology::CodeList>> lists;
    for (std::string_view item : Split(value, ',')) {
      if (item.empty()) return Bad(name, "empty value");
      if (value_set) {
        ASSIGN_OR_RETURN(auto codes, ValueSetCodes(ctx, request, name, std::string(item)));
        lists.push_back(std::move(codes));
        continue;
      }
      size_t bar = item.find('|');
      if (bar == std::string_view::npos) return Bad(name, "expected system|code");
      std::string system(item.substr(0, bar)), code(item.substr(bar + 1));
      Result<std::shared_ptr<const terminology::CodeList>> codes =
          modifier == "below" ? term->CodesBelow(system, code, kMaxExpansion)
                              : term->CodesAbove(system, code);
      if (!codes.ok()) return Bad(name, codes.status().message());
      lists.push_back(std::move(codes).value());
    }
    // A plain `code` element matches on the code alone (its index rows have no system).
    const ElementKinds kinds = KindsOf(ctx.model, types, base);
    search::CodeSet& set = out[index];
    std::set<std::pair<std::string_view, std::string_view>> seen;
    size_t n = 0;
    for (const auto& list : lists) {
      for (const terminology::SystemCode& c : *list) {
        if (++n > kMaxExpansion) {
          return Bad(name, "stands for more than " + std::to_string(kMaxExpansion) + " codes");
        }
        if (kinds.codings && seen.emplace(c.system, c.code).second) {
          set.codes.emplace_back(c.system, c.code);
        }
        if (kinds.plain_codes && seen.emplace(std::string_view(), c.code).second) {
          set.codes.emplace_back(std::string(), c.code);
        }
      }
    }
  }
  return out;
}

}  // namespace vesta::rest

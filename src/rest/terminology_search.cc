// Token search modifiers answered by the terminology (https://hl7.org/fhir/R4/search.html#token):
//   :below  "the search matches codes subsumed by the given code"  (E11 → E11, E11.9, E11.65 ...)
//   :above  "the search matches codes that subsume the given code" (E11.9 → E11.9, E11, E08-E13
//   ...) :in     the code is in the given value set
// for the code systems and value sets the terminology knows (ICD-10-CM, ICD-9-CM and their
// implicit value sets). The REST layer rewrites such a parameter into the plain token search it
// stands for, `code=system|c1,system|c2,...` (an OR over the closure), which the search index
// answers with its (type, param, code, system) index; other :below/:above values (uri
// parameters, unknown systems) pass through unchanged for the search engine to judge.
#include <functional>

#include "json/parse.h"
#include "rest/context.h"
#include "terminology/operation_params.h"
#include "terminology/terminology_service.h"

namespace vesta::rest {
namespace {

// The most codes one modifier may expand to: a chapter of ICD-10-CM is a few thousand.
constexpr size_t kMaxExpansion = 20000;

std::vector<std::string> SplitCommas(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    out.push_back(v.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool KnownSystem(std::string_view system) {
  return system == "http://hl7.org/fhir/sid/icd-10-cm" ||
         system == "http://hl7.org/fhir/sid/icd-9-cm";
}

// The codes at or above `code`: the code itself and its parents, by $lookup's parent property.
Result<std::vector<std::string>> Ancestors(terminology::TerminologyService& term,
                                           const std::string& system, const std::string& code) {
  std::vector<std::string> out;
  std::string current = code;
  for (int depth = 0; depth < 16 && !current.empty(); ++depth) {
    out.push_back(current);
    terminology::OperationParams p;
    p.Add("system", system);
    p.Add("code", current);
    p.Add("property", "parent");
    Result<std::string> r = term.Lookup(p);
    if (!r.ok()) {
      if (depth == 0) return r.status();
      break;
    }
    ASSIGN_OR_RETURN(json::Document doc, json::Parse(*r));
    std::string parent;
    if (const json::Value* params = doc.root().Find("parameter")) {
      for (const json::Value& prm : params->items()) {
        if (prm.FindString("name") != "property") continue;
        const json::Value* parts = prm.Find("part");
        if (parts == nullptr) continue;
        bool is_parent = false;
        std::string value;
        for (const json::Value& part : parts->items()) {
          if (part.FindString("name") == "code" && part.FindString("valueCode") == "parent") {
            is_parent = true;
          }
          if (part.FindString("name") == "value") {
            value = std::string(part.FindString("valueCode"));
            if (value.empty()) value = std::string(part.FindString("valueString"));
          }
        }
        if (is_parent) parent = value;
      }
    }
    current = parent;
  }
  return out;
}

}  // namespace

Result<QueryList> ExpandTerminologyModifiers(const Context& ctx, const QueryList& params) {
  terminology::TerminologyService* term = ctx.options.terminology;
  if (term == nullptr) return params;
  QueryList out;
  for (const auto& [name, value] : params) {
    size_t colon = name.rfind(':');
    std::string modifier = colon == std::string::npos ? "" : name.substr(colon + 1);
    if (modifier != "below" && modifier != "above" && modifier != "in") {
      out.emplace_back(name, value);
      continue;
    }
    std::string base = name.substr(0, colon);
    std::vector<std::string> codes;  // "system|code"
    bool handled = true;
    for (const std::string& item : SplitCommas(value)) {
      if (modifier == "in") {
        // An implicit value set of a loaded code system: $expand it.
        if (item.find("?fhir_vs") == std::string::npos ||
            !KnownSystem(item.substr(0, item.find('?')))) {
          handled = false;
          break;
        }
        terminology::OperationParams p;
        p.Add("url", item);
        p.Add("count", std::to_string(kMaxExpansion));
        Result<std::string> expansion = term->Expand(p);
        if (!expansion.ok()) {
          return Status(StatusCode::kInvalid, name + ": " + expansion.status().message());
        }
        ASSIGN_OR_RETURN(json::Document doc, json::Parse(*expansion));
        const json::Value* exp = doc.root().Find("expansion");
        const json::Value* contains = exp != nullptr ? exp->Find("contains") : nullptr;
        if (contains != nullptr) {
          for (const json::Value& c : contains->items()) {
            codes.push_back(std::string(c.FindString("system")) + "|" +
                            std::string(c.FindString("code")));
          }
        }
        continue;
      }
      size_t bar = item.find('|');
      if (bar == std::string::npos || !KnownSystem(item.substr(0, bar))) {
        handled = false;
        break;
      }
      std::string system = item.substr(0, bar);
      std::string code = item.substr(bar + 1);
      if (modifier == "below") {
        const size_t before = codes.size();
        bool too_many = false;
        Status s = term->Descendants(system, code, [&](std::string_view c) {
          codes.push_back(system + "|" + std::string(c));
          too_many = codes.size() > kMaxExpansion;
          return !too_many;
        });
        if (!s.ok()) return Status(StatusCode::kInvalid, name + ": " + s.message());
        if (codes.size() == before) {
          return Status(StatusCode::kInvalid, name + ": '" + code + "' is not a code of " + system);
        }
        if (too_many) {
          return Status(StatusCode::kInvalid, name + "=" + item + " covers more than " +
                                                  std::to_string(kMaxExpansion) + " codes");
        }
      } else {
        Result<std::vector<std::string>> up = Ancestors(*term, system, code);
        if (!up.ok()) return Status(StatusCode::kInvalid, name + ": " + up.status().message());
        for (const std::string& c : *up) codes.push_back(system + "|" + c);
      }
    }
    if (!handled) {
      out.emplace_back(name, value);
      continue;
    }
    if (codes.size() > kMaxExpansion) {
      return Status(StatusCode::kInvalid,
                    name + " covers more than " + std::to_string(kMaxExpansion) + " codes");
    }
    if (codes.empty()) {
      // Nothing can match: a code no resource can have keeps the search well-formed.
      codes.push_back(value.substr(0, value.find('|')) + "|urn:vesta:no-code");
    }
    std::string joined;
    for (const std::string& c : codes) joined += (joined.empty() ? "" : ",") + c;
    out.emplace_back(base, joined);
  }
  return out;
}

}  // namespace vesta::rest

#include "search/registry.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>

#include "fhir/model/model.h"
#include "json/parse.h"
#include "search/text.h"

namespace vesta::search {

extern const char kR4SearchText[];

std::string_view ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kNumber:
      return "number";
    case ParamType::kDate:
      return "date";
    case ParamType::kString:
      return "string";
    case ParamType::kToken:
      return "token";
    case ParamType::kReference:
      return "reference";
    case ParamType::kComposite:
      return "composite";
    case ParamType::kQuantity:
      return "quantity";
    case ParamType::kUri:
      return "uri";
    case ParamType::kSpecial:
      return "special";
  }
  return "special";
}

namespace {

std::optional<ParamType> ParseType(std::string_view s) {
  static const std::pair<std::string_view, ParamType> kTypes[] = {
      {"number", ParamType::kNumber},       {"date", ParamType::kDate},
      {"string", ParamType::kString},       {"token", ParamType::kToken},
      {"reference", ParamType::kReference}, {"composite", ParamType::kComposite},
      {"quantity", ParamType::kQuantity},   {"uri", ParamType::kUri},
      {"special", ParamType::kSpecial}};
  for (const auto& [name, t] : kTypes) {
    if (name == s) return t;
  }
  return std::nullopt;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits at '|' outside parentheses, brackets and quotes.
std::vector<std::string_view> SplitUnion(std::string_view e) {
  std::vector<std::string_view> out;
  int depth = 0;
  char quote = 0;
  size_t start = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    char c = e[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '`' || c == '"') {
      quote = c;
    } else if (c == '(' || c == '[') {
      ++depth;
    } else if (c == ')' || c == ']') {
      --depth;
    } else if (c == '|' && depth == 0) {
      out.push_back(Trim(e.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(Trim(e.substr(start)));
  return out;
}

// The resource type name a branch starts with ("(Observation.value as Quantity)" → Observation).
std::string_view LeadingName(std::string_view b) {
  while (!b.empty() && b.front() == '(') b.remove_prefix(1);
  size_t n = 0;
  while (n < b.size() && (std::isalnum(static_cast<unsigned char>(b[n])))) ++n;
  return b.substr(0, n);
}

// R4's search expressions apply `as` to collections ("(Observation.component.value as
// CodeableConcept)"), which FHIRPath defines for single items only; what they mean is ofType():
// keep the items of that type. Rewrites `(E as T)` to `(E).ofType(T)` and `.as(T)` to
// `.ofType(T)`.
std::string AsToOfType(std::string e) {
  for (size_t at = e.find(".as("); at != std::string::npos; at = e.find(".as(", at)) {
    e.replace(at, 4, ".ofType(");
  }
  for (size_t at = e.find(" as "); at != std::string::npos; at = e.find(" as ", at)) {
    // The operand runs back to the '(' that opens this group.
    int depth = 0;
    size_t open = std::string::npos;
    for (size_t i = at; i-- > 0;) {
      if (e[i] == ')') ++depth;
      if (e[i] == '(') {
        if (depth == 0) {
          open = i;
          break;
        }
        --depth;
      }
    }
    size_t type_end = at + 4;
    while (type_end < e.size() &&
           (std::isalnum(static_cast<unsigned char>(e[type_end])) || e[type_end] == '.')) {
      ++type_end;
    }
    if (open == std::string::npos || type_end >= e.size() || e[type_end] != ')') {
      at += 4;
      continue;
    }
    std::string operand = e.substr(open + 1, at - open - 1);
    std::string type = e.substr(at + 4, type_end - at - 4);
    std::string replacement = "(" + operand + ").ofType(" + type + ")";
    e.replace(open + 1, at + 4 + type.size() - open - 1, replacement);
    at = open + 1 + replacement.size();
  }
  return e;
}

}  // namespace

std::string ExpressionForType(std::string_view expression, std::string_view type) {
  std::string out;
  for (std::string_view branch : SplitUnion(expression)) {
    std::string_view lead = LeadingName(branch);
    std::string b(branch);
    if (lead == "Resource" || lead == "DomainResource") {
      size_t at = b.find(lead);
      b.replace(at, lead.size(), type);
    } else if (lead != type) {
      continue;
    }
    out += (out.empty() ? "" : " | ") + AsToOfType(b);
  }
  return out;
}

// Adds one search parameter definition: an entry of tools/modelgen --search's "params", or a
// SearchParameter resource (the same fields: code, url, base, type, expression, target).
// `custom`: a definition stored on the server, which may not replace a parameter the type has;
// then a definition that cannot be used is reported in `*skipped` instead of being dropped quietly.
void Registry::AddDefinition(const json::Value& p, bool custom, std::vector<std::string>* skipped) {
  const fhir::Model& model = fhir::Model::R4();
  std::string code(p.FindString("code"));
  auto skip = [&](const std::string& why) {
    if (custom && skipped != nullptr) {
      skipped->push_back("SearchParameter " + std::string(p.FindString("url")) + " ('" + code +
                         "'): " + why);
    }
  };
  std::optional<ParamType> type = ParseType(p.FindString("type"));
  if (!type) return skip("unknown type '" + std::string(p.FindString("type")) + "'");
  if (custom && (*type == ParamType::kComposite || *type == ParamType::kSpecial)) {
    return skip(std::string(ParamTypeName(*type)) + " parameters are not supported");
  }
  std::vector<std::string> bases;
  if (const json::Value* base = p.Find("base")) {
    for (const json::Value& b : base->items()) {
      std::string_view name = b.string_value();
      if (name == "Resource" || name == "DomainResource") {
        for (const std::string& t : model.resource_types()) {
          if (name == "Resource" || (t != "Bundle" && t != "Binary" && t != "Parameters")) {
            bases.push_back(t);
          }
        }
      } else if (custom && !model.IsResourceType(name)) {
        skip("base '" + std::string(name) + "' is not an R4 resource type");
      } else {
        bases.emplace_back(name);
      }
    }
  }
  std::vector<std::string> targets;
  if (const json::Value* t = p.Find("target")) {
    for (const json::Value& v : t->items()) targets.emplace_back(v.string_value());
  }
  for (const std::string& base : bases) {
    if (custom && Find(base, code) != nullptr) {
      skip(base + " already has a parameter '" + code + "'");
      continue;
    }
    Param param;
    param.code = code;
    param.url = std::string(p.FindString("url"));
    param.type = *type;
    param.targets = targets;
    param.expression = ExpressionForType(p.FindString("expression"), base);
    // _text and _content have no expression: the full-text index answers them (search/text.h).
    const bool full_text = !custom && IsTextSearchParam(code);
    if (param.expression.empty() && !full_text) {
      if (custom) skip("its expression has no branch for " + base);
      continue;
    }
    // _id and _lastUpdated are columns of the resource row; the rest is extracted.
    if (param.code != "_id" && param.code != "_lastUpdated" && !full_text &&
        *type != ParamType::kSpecial && *type != ParamType::kComposite) {
      fhirpath::CompileOptions options;
      options.context_type = base;
      Result<fhirpath::Expression> e = fhirpath::Expression::Compile(param.expression, options);
      if (!e.ok()) e = fhirpath::Expression::Compile(param.expression);
      if (e.ok()) {
        param.compiled = std::move(*e);
      } else if (custom) {
        skip("expression '" + param.expression + "' does not compile: " + e.status().message());
        continue;
      } else {
        ++uncompiled_;
      }
    }
    by_type_[base].push_back(std::move(param));
  }
}

void Registry::SortAndDedupe() {
  for (auto& [type, list] : by_type_) {
    std::stable_sort(list.begin(), list.end(),
                     [](const Param& a, const Param& b) { return a.code < b.code; });
    list.erase(std::unique(list.begin(), list.end(),
                           [](const Param& a, const Param& b) { return a.code == b.code; }),
               list.end());
  }
}

Result<std::unique_ptr<Registry>> Registry::FromJson(std::string_view text) {
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(text));
  auto reg = std::make_unique<Registry>();
  const json::Value* params = doc.root().Find("params");
  if (params == nullptr || !params->is_array()) return Internal("search definitions: no params");
  for (const json::Value& p : params->items()) reg->AddDefinition(p, /*custom=*/false, nullptr);
  reg->SortAndDedupe();
  if (const json::Value* comps = doc.root().Find("compartments")) {
    for (const json::Value& c : comps->items()) {
      if (c.FindString("code") != "Patient") continue;
      const json::Value* res = c.Find("resource");
      if (res == nullptr) continue;
      for (const json::Value& r : res->items()) {
        const json::Value* ps = r.Find("param");
        if (ps == nullptr) continue;
        std::vector<std::string>& out =
            reg->patient_compartment_[std::string(r.FindString("code"))];
        for (const json::Value& v : ps->items()) out.emplace_back(v.string_value());
      }
    }
  }
  return reg;
}

Result<std::unique_ptr<Registry>> Registry::R4WithSearchParameters(
    const std::vector<std::string>& search_parameters, std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::unique_ptr<Registry> reg, FromJson(kR4SearchText));
  for (const std::string& text : search_parameters) {
    Result<json::Document> doc = json::Parse(text);
    if (!doc.ok() || doc->root().FindString("resourceType") != "SearchParameter") {
      if (skipped != nullptr) skipped->push_back("not a SearchParameter resource");
      continue;
    }
    const json::Value& sp = doc->root();
    // https://hl7.org/fhir/R4/searchparameter-definitions.html#SearchParameter.status: a retired
    // parameter is withdrawn; draft and active ones are used.
    if (sp.FindString("status") == "retired") continue;
    reg->AddDefinition(sp, /*custom=*/true, skipped);
    reg->SortAndDedupe();  // so that the next definition's duplicate check sees this one
  }
  return reg;
}

namespace {
std::atomic<const Registry*> g_active{nullptr};
}  // namespace

const Registry& Registry::Active() {
  const Registry* r = g_active.load(std::memory_order_acquire);
  return r != nullptr ? *r : R4();
}

void Registry::SetActive(std::unique_ptr<Registry> registry) {
  // Kept for the life of the process: searches and writes hold references into it.
  g_active.store(registry.release(), std::memory_order_release);
}

const Registry& Registry::R4() {
  static const Registry* r4 = [] {
    Result<std::unique_ptr<Registry>> r = FromJson(kR4SearchText);
    if (!r.ok()) return new Registry();  // can't happen: the text is generated at build time
    return r->release();
  }();
  return *r4;
}

const Param* Registry::Find(std::string_view type, std::string_view code) const {
  auto it = by_type_.find(type);
  if (it == by_type_.end()) return nullptr;
  auto p = std::lower_bound(it->second.begin(), it->second.end(), code,
                            [](const Param& a, std::string_view c) { return a.code < c; });
  return p != it->second.end() && p->code == code ? &*p : nullptr;
}

const std::vector<Param>& Registry::ForType(std::string_view type) const {
  static const std::vector<Param> kNone;
  auto it = by_type_.find(type);
  return it == by_type_.end() ? kNone : it->second;
}

const std::vector<std::string>& Registry::PatientCompartmentParams(std::string_view type) const {
  static const std::vector<std::string> kNone;
  auto it = patient_compartment_.find(type);
  return it == patient_compartment_.end() ? kNone : it->second;
}

}  // namespace vesta::search

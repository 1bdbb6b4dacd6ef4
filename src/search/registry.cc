#include "search/registry.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "fhir/model/model.h"
#include "json/parse.h"

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

Result<std::unique_ptr<Registry>> Registry::FromJson(std::string_view text) {
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(text));
  auto reg = std::make_unique<Registry>();
  const fhir::Model& model = fhir::Model::R4();
  const json::Value* params = doc.root().Find("params");
  if (params == nullptr || !params->is_array()) return Internal("search definitions: no params");
  for (const json::Value& p : params->items()) {
    std::optional<ParamType> type = ParseType(p.FindString("type"));
    if (!type) continue;
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
      Param param;
      param.code = std::string(p.FindString("code"));
      param.url = std::string(p.FindString("url"));
      param.type = *type;
      param.targets = targets;
      param.expression = ExpressionForType(p.FindString("expression"), base);
      if (param.expression.empty()) continue;
      // _id and _lastUpdated are columns of the resource row; the rest is extracted.
      if (param.code != "_id" && param.code != "_lastUpdated" && *type != ParamType::kSpecial &&
          *type != ParamType::kComposite) {
        fhirpath::CompileOptions options;
        options.context_type = base;
        Result<fhirpath::Expression> e = fhirpath::Expression::Compile(param.expression, options);
        if (!e.ok()) e = fhirpath::Expression::Compile(param.expression);
        if (e.ok()) {
          param.compiled = std::move(*e);
        } else {
          ++reg->uncompiled_;
        }
      }
      reg->by_type_[base].push_back(std::move(param));
    }
  }
  for (auto& [type, list] : reg->by_type_) {
    std::sort(list.begin(), list.end(),
              [](const Param& a, const Param& b) { return a.code < b.code; });
    list.erase(std::unique(list.begin(), list.end(),
                           [](const Param& a, const Param& b) { return a.code == b.code; }),
               list.end());
  }
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

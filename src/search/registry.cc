#include "search/registry.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>

#include "base/strings.h"
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

// R4 errata (https://hl7.org/fhir/R4/searchparameter-registry.html): the definition of
// DocumentReference `relationship` gives its `relatesto` component (a reference) the expression
// `code` and its `relation` component (a token) the expression `target`, the wrong way round;
// RelatesTo.target is the Reference and RelatesTo.code the code (as R4B and R5 define them).
constexpr std::string_view kRelationshipUrl =
    "http://hl7.org/fhir/SearchParameter/DocumentReference-relationship";

}  // namespace

bool Registry::AddComponents(const json::Value& p, Param* param) const {
  const json::Value* components = p.Find("component");
  if (components == nullptr || !components->is_array()) return false;
  for (const json::Value& c : components->items()) {
    auto def = definitions_.find(c.FindString("definition"));
    if (def == definitions_.end()) return false;
    const Definition& d = def->second;
    if (d.type == ParamType::kComposite || d.type == ParamType::kSpecial) return false;
    Component component;
    component.definition = std::string(def->first);
    component.code = d.code;
    component.type = d.type;
    component.targets = d.targets;
    component.expression = AsToOfType(std::string(c.FindString("expression")));
    // R4's code-value-date names the FHIR primitive dateTime by its System type name
    // (`value.as(DateTime)`), which no FHIR element is; the plain value-date parameter says
    // `as dateTime`.
    for (size_t at = component.expression.find("ofType(DateTime)"); at != std::string::npos;
         at = component.expression.find("ofType(DateTime)", at)) {
      component.expression.replace(at + 7, 1, "d");
    }
    param->components.push_back(std::move(component));
  }
  if (param->url == kRelationshipUrl && param->components.size() == 2 &&
      param->components[0].expression == "code" && param->components[1].expression == "target") {
    std::swap(param->components[0].expression, param->components[1].expression);
  }
  if (param->components.size() < 2 || param->components.size() > kMaxComponents) return false;
  for (Component& component : param->components) {
    // Evaluated on items of the composite's matches (e.g. Observation.component), whose element
    // type is resolved at run time: no static type.
    Result<fhirpath::Expression> e = fhirpath::Expression::Compile(component.expression);
    if (!e.ok()) return false;
    component.compiled = std::move(*e);
  }
  return true;
}

// https://hl7.org/fhir/R4/searchparameter-definitions.html#SearchParameter.expression: the values
// of a parameter are those its expression selects, so a parameter whose expression is the union
// of other parameters' expressions (same type; for composites, the same components) has exactly
// the rows they have: Observation `combo-code` (code | component-code), `combo-value-quantity`,
// `combo-value-concept`, `combo-data-absent-reason`, `combo-code-value-quantity` and
// `combo-code-value-concept`. Writing them again would double those rows on every write.
// Reference parameters are left alone: includes and the patient compartment read their rows by
// name.
void Registry::LinkUnionRows() {
  auto same_components = [](const Param& a, const Param& b) {
    if (a.components.size() != b.components.size()) return false;
    for (size_t i = 0; i < a.components.size(); ++i) {
      if (a.components[i].type != b.components[i].type ||
          a.components[i].expression != b.components[i].expression) {
        return false;
      }
    }
    return true;
  };
  for (auto& [type, list] : by_type_) {
    std::vector<std::vector<std::string_view>> branches(list.size());
    std::vector<size_t> order(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      branches[i] = SplitUnion(list[i].expression);
      std::sort(branches[i].begin(), branches[i].end());
      order[i] = i;
    }
    // Fewer branches first: a parameter covering others sees their final rows_of.
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return branches[a].size() < branches[b].size(); });
    for (size_t ci : order) {
      Param& c = list[ci];
      const std::vector<std::string_view>& need = branches[ci];
      if (!c.compiled || need.size() < 2 || c.type == ParamType::kReference ||
          c.code.rfind('_', 0) == 0) {
        continue;
      }
      std::vector<std::string_view> covered;
      std::vector<std::string> rows_of;
      for (size_t di = 0; di < list.size(); ++di) {
        const Param& d = list[di];
        const std::vector<std::string_view>& have = branches[di];
        if (di == ci || !d.compiled || d.type != c.type || have.size() >= need.size() ||
            !std::includes(need.begin(), need.end(), have.begin(), have.end()) ||
            (c.type == ParamType::kComposite && !same_components(c, d))) {
          continue;
        }
        covered.insert(covered.end(), have.begin(), have.end());
        if (d.rows_of.empty()) {
          rows_of.push_back(d.code);
        } else {
          rows_of.insert(rows_of.end(), d.rows_of.begin(), d.rows_of.end());
        }
      }
      std::sort(covered.begin(), covered.end());
      covered.erase(std::unique(covered.begin(), covered.end()), covered.end());
      if (covered != need) continue;
      std::sort(rows_of.begin(), rows_of.end());
      rows_of.erase(std::unique(rows_of.begin(), rows_of.end()), rows_of.end());
      c.rows_of = std::move(rows_of);
    }
  }
}

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
        *type != ParamType::kSpecial) {
      fhirpath::CompileOptions options;
      options.context_type = base;
      // A branch for another type selects nothing on this one (expressions are written for many).
      options.mode = fhirpath::Mode::kNonStrict;
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
    if (*type == ParamType::kComposite && param.compiled && !AddComponents(p, &param)) {
      param.compiled.reset();
      ++uncompiled_;
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
  for (const json::Value& p : params->items()) {
    std::optional<ParamType> type = ParseType(p.FindString("type"));
    if (!type) continue;
    Definition& d = reg->definitions_[std::string(p.FindString("url"))];
    d.type = *type;
    d.code = std::string(p.FindString("code"));
    if (const json::Value* t = p.Find("target")) {
      for (const json::Value& v : t->items()) d.targets.emplace_back(v.string_value());
    }
  }
  for (const json::Value& p : params->items()) reg->AddDefinition(p, /*custom=*/false, nullptr);
  reg->SortAndDedupe();
  reg->LinkUnionRows();
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

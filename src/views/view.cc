// Parsing and validating ViewDefinitions (view.h).
#include "views/view.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "fhir/model/model.h"
#include "json/parse.h"

namespace vesta::views {
namespace {

using fhirpath::Collection;
using fhirpath::Item;

// https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html, invariant sql-name:
// ^[A-Za-z][A-Za-z0-9_]*$
bool IsSqlName(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

Status At(const std::string& where, const std::string& what) {
  return Invalid(where + ": " + what);
}

// The variables every view expression may name besides its constants: %rowIndex
// (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html#rowindex) and the
// engine's own (%resource, %rootResource, %context, %ucum, %sct, %loinc, %vs-x, %ext-x).
bool IsEnvironmentVariable(std::string_view name) {
  return name == "rowIndex" || name == "resource" || name == "rootResource" || name == "context" ||
         name == "ucum" || name == "sct" || name == "loinc";
}

// The %names an expression uses, outside string literals and comments. A light scan rather than
// the engine's parser: enough to name an undefined constant when the view is validated, before
// any resource reaches the expression.
std::vector<std::string> VariablesOf(std::string_view e) {
  std::vector<std::string> out;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  size_t i = 0;
  while (i < e.size()) {
    char c = e[i];
    if (c == '\'' || c == '`') {  // string literal or delimited identifier
      for (++i; i < e.size() && e[i] != c; ++i) {
        if (e[i] == '\\') ++i;
      }
      ++i;
    } else if (c == '/' && i + 1 < e.size() && e[i + 1] == '/') {
      while (i < e.size() && e[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < e.size() && e[i + 1] == '*') {
      size_t end = e.find("*/", i + 2);
      i = end == std::string_view::npos ? e.size() : end + 2;
    } else if (c == '%') {
      ++i;
      if (i < e.size() && (e[i] == '`' || e[i] == '\'')) {
        char q = e[i];
        size_t end = e.find(q, i + 1);
        if (end == std::string_view::npos) break;
        out.emplace_back(e.substr(i + 1, end - i - 1));
        i = end + 1;
      } else {
        size_t start = i;
        while (i < e.size() && ident(e[i])) ++i;
        std::string name(e.substr(start, i - start));
        // %vs-name and %ext-name (https://hl7.org/fhir/R4/fhirpath.html#vars).
        if ((name == "vs" || name == "ext") && i < e.size() && e[i] == '-') {
          name += '-';
          for (++i; i < e.size() && (ident(e[i]) || e[i] == '-' || e[i] == '.'); ++i) name += e[i];
        }
        out.push_back(std::move(name));
      }
    } else {
      ++i;
    }
  }
  return out;
}

// A constant's value[x] as a FHIRPath System value
// (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html#using-constants:
// "converts the FHIR literal defined here to a FHIRPath literal").
Result<Item> ConstantValue(std::string_view type, const json::Value& v, const std::string& where) {
  auto need_string = [&]() -> Result<std::string_view> {
    if (!v.is_string()) return At(where, "must be a JSON string");
    return v.string_value();
  };
  auto whole = [&](int64_t min) -> Result<Item> {
    int64_t n = 0;
    std::string_view text = v.is_number() ? v.number_text() : std::string_view();
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (!v.is_number() || ec != std::errc() || p != text.data() + text.size() || n < min ||
        n > INT32_MAX) {
      return At(where, "must be a whole number" + std::string(min > 0 ? " of at least 1" : ""));
    }
    return Item::Integer(n);
  };
  if (type == "Boolean") {
    if (!v.is_bool()) return At(where, "must be true or false");
    return Item::Boolean(v.bool_value());
  }
  if (type == "Integer") return whole(INT32_MIN);
  if (type == "PositiveInt") return whole(1);
  if (type == "UnsignedInt") return whole(0);
  if (type == "Integer64") {
    // integer64 is a JSON string in FHIR R5 (https://hl7.org/fhir/R5/json.html#primitive).
    std::string_view text = v.is_number() ? v.number_text() : v.is_string() ? v.string_value() : "";
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
      return At(where, "must be a 64-bit whole number");
    }
    return Item::Long(n);
  }
  if (type == "Decimal") {
    fhirpath::Decimal d;
    if (!v.is_number() || !fhirpath::Decimal::Parse(v.number_text(), &d)) {
      return At(where, "must be a JSON number");
    }
    return Item::Dec(d);
  }
  if (type == "Date" || type == "DateTime" || type == "Instant" || type == "Time") {
    ASSIGN_OR_RETURN(std::string_view text, need_string());
    fhirpath::Temporal t;
    bool ok = type == "Date"   ? fhirpath::Temporal::ParseDate(text, &t)
              : type == "Time" ? fhirpath::Temporal::ParseTime(text, &t)
                               : fhirpath::Temporal::ParseDateTime(text, &t);
    if (!ok) return At(where, "is not a valid " + std::string(type));
    return Item::Time(t);
  }
  static const std::set<std::string_view> kStrings = {
      "Base64Binary", "Canonical", "Code", "Id", "Oid", "String", "Uri", "Url", "Uuid"};
  if (kStrings.contains(type)) {
    ASSIGN_OR_RETURN(std::string_view text, need_string());
    return Item::String(std::string(text));
  }
  return At(where, "value" + std::string(type) + " is not an allowed constant type");
}

// Members a backbone element may carry besides its own.
bool IsBaseMember(std::string_view key) {
  return key == "id" || key == "extension" || key == "modifierExtension";
}

class Compiler {
 public:
  Compiler(std::string resource_type, std::set<std::string, std::less<>> constants)
      : resource_type_(std::move(resource_type)), constants_(std::move(constants)) {
    functions_ = ViewFunctions();
  }

  // Compiles `e` (a JSON string) at `where`; `at_root` when its context is the resource itself.
  Result<fhirpath::Expression> Expression(const json::Value* e, const std::string& where,
                                          bool at_root) {
    if (e == nullptr) return At(where, "is required");
    if (!e->is_string()) return At(where, "must be a FHIRPath expression (a JSON string)");
    if (e->string_value().empty()) return At(where, "must not be empty");
    for (const std::string& var : VariablesOf(e->string_value())) {
      if (constants_.contains(var) || IsEnvironmentVariable(var) || var.starts_with("vs-") ||
          var.starts_with("ext-")) {
        continue;
      }
      return At(where, "%" + var + " is neither a constant of the view nor a known variable");
    }
    fhirpath::CompileOptions options;
    options.extensions = functions_;
    if (at_root) options.context_type = resource_type_;
    Result<fhirpath::Expression> r = fhirpath::Expression::Compile(e->string_value(), options);
    if (!r.ok()) return At(where, r.status().message());
    return r;
  }

  // ValidateColumns and compilation of one selection structure. `at_root`: its context is the
  // resource (no forEach above it). Appends its columns to *columns (for a unionAll branch other
  // than the first, the branch's columns are compared with the first's instead).
  Result<CompiledSelect> Select(const json::Value& s, const std::string& where, bool at_root,
                                std::vector<ColumnInfo>* columns) {
    if (!s.is_object()) return At(where, "must be an object");
    CompiledSelect out;
    out.location = where;
    out.slot_begin = columns->size();
    for (const json::Member& m : s.members()) {
      static const std::set<std::string_view> kKnown = {"column",  "select",        "unionAll",
                                                        "forEach", "forEachOrNull", "repeat"};
      if (!kKnown.contains(m.key) && !IsBaseMember(m.key)) {
        return At(where, "unknown element '" + std::string(m.key) + "'");
      }
    }
    // Invariant sql-expressions: at most one of forEach, forEachOrNull and repeat.
    const json::Value* for_each = s.Find("forEach");
    const json::Value* or_null = s.Find("forEachOrNull");
    const json::Value* repeat = s.Find("repeat");
    if ((for_each != nullptr) + (or_null != nullptr) + (repeat != nullptr) > 1) {
      return At(where, "can have only one of forEach, forEachOrNull and repeat");
    }
    if (for_each != nullptr || or_null != nullptr) {
      out.iteration = for_each != nullptr ? CompiledSelect::Iteration::kForEach
                                          : CompiledSelect::Iteration::kForEachOrNull;
      ASSIGN_OR_RETURN(
          fhirpath::Expression e,
          Expression(for_each != nullptr ? for_each : or_null,
                     where + (for_each != nullptr ? ".forEach" : ".forEachOrNull"), at_root));
      out.iterate.push_back(std::move(e));
    } else if (repeat != nullptr) {
      out.iteration = CompiledSelect::Iteration::kRepeat;
      if (!repeat->is_array() || repeat->items().empty()) {
        return At(where + ".repeat", "must be a non-empty array of FHIRPath expressions");
      }
      for (size_t i = 0; i < repeat->items().size(); ++i) {
        ASSIGN_OR_RETURN(
            fhirpath::Expression e,
            Expression(&repeat->items()[i], where + ".repeat[" + std::to_string(i) + "]", false));
        out.iterate.push_back(std::move(e));
      }
    }
    const bool inner_root = at_root && out.iteration == CompiledSelect::Iteration::kNone;
    if (const json::Value* cols = s.Find("column")) {
      if (!cols->is_array()) return At(where + ".column", "must be an array");
      for (size_t i = 0; i < cols->items().size(); ++i) {
        ASSIGN_OR_RETURN(CompiledColumn c,
                         Column(cols->items()[i], where + ".column[" + std::to_string(i) + "]",
                                inner_root, columns));
        out.columns.push_back(std::move(c));
      }
    }
    if (const json::Value* sels = s.Find("select")) {
      if (!sels->is_array()) return At(where + ".select", "must be an array");
      for (size_t i = 0; i < sels->items().size(); ++i) {
        ASSIGN_OR_RETURN(CompiledSelect c,
                         Select(sels->items()[i], where + ".select[" + std::to_string(i) + "]",
                                inner_root, columns));
        out.selects.push_back(std::move(c));
      }
    }
    if (const json::Value* unions = s.Find("unionAll")) {
      if (!unions->is_array() || unions->items().empty()) {
        return At(where + ".unionAll", "must be a non-empty array of selects");
      }
      // Every branch takes the same slots: rows of any branch fill the same columns.
      const size_t before = columns->size();
      std::vector<ColumnInfo> first;
      for (size_t i = 0; i < unions->items().size(); ++i) {
        const std::string at = where + ".unionAll[" + std::to_string(i) + "]";
        std::vector<ColumnInfo> branch(columns->begin(), columns->begin() + before);
        ASSIGN_OR_RETURN(CompiledSelect c, Select(unions->items()[i], at, inner_root, &branch));
        std::vector<ColumnInfo> produced(branch.begin() + before, branch.end());
        if (i == 0) {
          first = produced;
        } else {
          RETURN_IF_ERROR(SameColumns(first, produced, at));
        }
        out.union_all.push_back(std::move(c));
      }
      columns->insert(columns->end(), first.begin(), first.end());
    }
    out.slot_end = columns->size();
    CollectRowIndexSlots(out, &out.row_index_slots);
    return out;
  }

 private:
  Result<CompiledColumn> Column(const json::Value& c, const std::string& where, bool at_root,
                                std::vector<ColumnInfo>* columns) {
    if (!c.is_object()) return At(where, "must be an object");
    for (const json::Member& m : c.members()) {
      static const std::set<std::string_view> kKnown = {"path",       "name", "description",
                                                        "collection", "type", "tag"};
      if (!kKnown.contains(m.key) && !IsBaseMember(m.key)) {
        return At(where, "unknown element '" + std::string(m.key) + "'");
      }
    }
    ColumnInfo info;
    const json::Value* name = c.Find("name");
    if (name == nullptr || !name->is_string()) return At(where + ".name", "is required");
    info.name = std::string(name->string_value());
    if (!IsSqlName(info.name)) {
      return At(where + ".name", "'" + info.name +
                                     "' must start with a letter and have only letters, digits "
                                     "and underscores");
    }
    for (const ColumnInfo& other : *columns) {
      if (other.name == info.name) {
        return At(where + ".name", "the column '" + info.name + "' is already defined");
      }
    }
    if (const json::Value* t = c.Find("type")) {
      if (!t->is_string() || t->string_value().empty()) return At(where + ".type", "must be a uri");
      info.type = std::string(t->string_value());
    }
    if (const json::Value* col = c.Find("collection")) {
      if (!col->is_bool()) return At(where + ".collection", "must be true or false");
      info.collection = col->bool_value();
    }
    if (const json::Value* d = c.Find("description"); d != nullptr && d->is_string()) {
      info.description = std::string(d->string_value());
    }
    if (const json::Value* tags = c.Find("tag")) {
      if (!tags->is_array()) return At(where + ".tag", "must be an array");
      for (size_t i = 0; i < tags->items().size(); ++i) {
        const json::Value& t = tags->items()[i];
        const json::Value* n = t.Find("name");
        const json::Value* v = t.Find("value");
        if (n == nullptr || v == nullptr || !n->is_string() || !v->is_string()) {
          return At(where + ".tag[" + std::to_string(i) + "]", "needs a name and a value");
        }
        info.tags.emplace_back(n->string_value(), v->string_value());
      }
    }
    CompiledColumn out;
    out.slot = columns->size();
    out.location = where;
    out.collection = info.collection;
    ASSIGN_OR_RETURN(out.path, Expression(c.Find("path"), where + ".path", at_root));
    std::string_view text = c.Find("path")->string_value();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
      text.remove_prefix(1);
    }
    out.row_index = text == "%rowIndex";
    columns->push_back(std::move(info));
    return out;
  }

  // "Union Branches Inconsistent": the same names in the same order, and the same declared types
  // where both branches declare one.
  static Status SameColumns(const std::vector<ColumnInfo>& a, const std::vector<ColumnInfo>& b,
                            const std::string& where) {
    auto names = [](const std::vector<ColumnInfo>& cols) {
      std::string s;
      for (const ColumnInfo& c : cols) s += (s.empty() ? "" : ", ") + c.name;
      return "(" + s + ")";
    };
    if (a.size() != b.size()) {
      return At(where, "a unionAll branch must produce the same columns as the first: " + names(b) +
                           " against " + names(a));
    }
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].name != b[i].name) {
        return At(where,
                  "a unionAll branch must produce the same columns in the same order as "
                  "the first: " +
                      names(b) + " against " + names(a));
      }
      if (!a[i].type.empty() && !b[i].type.empty() && a[i].type != b[i].type) {
        return At(where, "the column '" + a[i].name + "' is " + b[i].type + " here but " +
                             a[i].type + " in the first unionAll branch");
      }
      if (a[i].collection != b[i].collection) {
        return At(where, "the column '" + a[i].name +
                             "' must be a collection in every unionAll branch or in none");
      }
    }
    return Status::Ok();
  }

  static void CollectRowIndexSlots(const CompiledSelect& s, std::vector<size_t>* out) {
    for (const CompiledColumn& c : s.columns) {
      if (c.row_index) out->push_back(c.slot);
    }
    for (const CompiledSelect& c : s.selects) CollectRowIndexSlots(c, out);
    if (!s.union_all.empty()) CollectRowIndexSlots(s.union_all[0], out);
  }

  std::string resource_type_;
  std::set<std::string, std::less<>> constants_;
  std::shared_ptr<const fhirpath::ExtensionFunctions> functions_;
};

}  // namespace

Result<View> View::Parse(const json::Value& v) {
  if (!v.is_object()) return Invalid("a ViewDefinition must be a JSON object");
  if (const json::Value* rt = v.Find("resourceType");
      rt != nullptr && (!rt->is_string() || rt->string_value() != "ViewDefinition")) {
    return At("resourceType", "must be ViewDefinition");
  }
  View view;
  const json::Value* resource = v.Find("resource");
  if (resource == nullptr) return At("resource", "is required (the resource type the view reads)");
  if (!resource->is_string() || !fhir::Model::R4().IsResourceType(resource->string_value())) {
    return At("resource", "must be a FHIR R4 resource type");
  }
  view.resource_type_ = std::string(resource->string_value());
  if (const json::Value* name = v.Find("name")) {
    if (!name->is_string() || !IsSqlName(name->string_value())) {
      return At("name", "must start with a letter and have only letters, digits and underscores");
    }
    view.name_ = std::string(name->string_value());
  }

  auto env = std::make_shared<fhirpath::Environment>();
  std::set<std::string, std::less<>> constant_names;
  if (const json::Value* constants = v.Find("constant")) {
    if (!constants->is_array()) return At("constant", "must be an array");
    for (size_t i = 0; i < constants->items().size(); ++i) {
      const std::string where = "constant[" + std::to_string(i) + "]";
      const json::Value& c = constants->items()[i];
      if (!c.is_object()) return At(where, "must be an object");
      const json::Value* name = c.Find("name");
      if (name == nullptr || !name->is_string()) return At(where + ".name", "is required");
      const std::string n(name->string_value());
      if (!IsSqlName(n)) {
        return At(where + ".name",
                  "'" + n +
                      "' must start with a letter and have only letters, digits and "
                      "underscores");
      }
      if (IsEnvironmentVariable(n)) {
        return At(where + ".name", "%" + n + " is an environment variable");
      }
      if (!constant_names.insert(n).second) {
        return At(where + ".name", "the constant '" + n + "' is already defined");
      }
      const json::Member* value = nullptr;
      for (const json::Member& m : c.members()) {
        if (m.key.starts_with("value") && m.key.size() > 5) {
          if (value != nullptr) return At(where, "must have only one value[x]");
          value = &m;
        } else if (m.key != "name" && !IsBaseMember(m.key)) {
          return At(where, "unknown element '" + std::string(m.key) + "'");
        }
      }
      if (value == nullptr) return At(where, "needs a value[x] (valueString, valueInteger, ...)");
      ASSIGN_OR_RETURN(Item item, ConstantValue(value->key.substr(5), value->value,
                                                where + "." + std::string(value->key)));
      env->variables[n] = Collection{std::move(item)};
    }
  }
  view.environment_ = std::move(env);

  Compiler compiler(view.resource_type_, constant_names);
  const json::Value* selects = v.Find("select");
  if (selects == nullptr || !selects->is_array() || selects->items().empty()) {
    return At("select", "needs at least one select");
  }
  for (size_t i = 0; i < selects->items().size(); ++i) {
    ASSIGN_OR_RETURN(CompiledSelect s,
                     compiler.Select(selects->items()[i], "select[" + std::to_string(i) + "]", true,
                                     &view.columns_));
    view.selects_.push_back(std::move(s));
  }
  if (const json::Value* where = v.Find("where")) {
    if (!where->is_array()) return At("where", "must be an array");
    for (size_t i = 0; i < where->items().size(); ++i) {
      const std::string at = "where[" + std::to_string(i) + "]";
      const json::Value& w = where->items()[i];
      if (!w.is_object()) return At(at, "must be an object");
      ASSIGN_OR_RETURN(fhirpath::Expression e,
                       compiler.Expression(w.Find("path"), at + ".path", true));
      view.where_.push_back(std::move(e));
    }
  }
  return view;
}

Result<View> View::ParseText(std::string_view text) {
  Result<json::Document> doc = json::Parse(text);
  if (!doc.ok()) return Invalid("the ViewDefinition is not valid JSON: " + doc.status().message());
  return Parse(doc->root());
}

}  // namespace vesta::views

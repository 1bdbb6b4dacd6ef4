// FHIRPath Patch: https://hl7.org/fhir/R4/fhirpatch.html
//
// "The path is a FHIRPath expression that identifies the element(s) the operation applies to.
// [...] Except for the delete operation, it is an error if no element matches the specified
// path. [...] it is an error if the path identifies more than one element" (insert and move
// identify a list, and work on the items of that list).
#include "fhir/patch/fhirpath_patch.h"

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/strings.h"
#include "fhir/fhirpath/fhirpath.h"

namespace vesta::patch {
namespace {

Status Unprocessable(std::string m) { return Status(StatusCode::kUnprocessable, std::move(m)); }

// One step from an object to a member, and into the member's array when index >= 0.
struct Step {
  std::string_view key;
  int index = -1;
};
using Location = std::vector<Step>;

// Finds where `target` (a pointer into the tree under `node`) lives. Bounded by the tree's depth.
bool FindLocation(const json::Value& node, const json::Value* target, Location* path) {
  if (node.is_object()) {
    for (const json::Member& m : node.members()) {
      if (&m.value == target) {
        path->push_back({m.key, -1});
        return true;
      }
      if (m.value.is_object() || m.value.is_array()) {
        path->push_back({m.key, -1});
        if (m.value.is_object() && FindLocation(m.value, target, path)) return true;
        if (m.value.is_array()) {
          for (size_t i = 0; i < m.value.size(); ++i) {
            const json::Value& item = m.value.items()[i];
            path->back().index = static_cast<int>(i);
            if (&item == target) return true;
            if (item.is_object() && FindLocation(item, target, path)) return true;
          }
        }
        path->pop_back();
      }
    }
  }
  return false;
}

// The location of a node item: the element's own JSON name (without '_') and array index.
Result<Location> Locate(const json::Value& root, const fhirpath::Item& item) {
  if (!item.is_node()) {
    return Unprocessable("the path selects a computed value, not an element of the resource");
  }
  const json::Value* target = item.node != nullptr ? item.node : item.extension_part;
  Location path;
  if (target == &root) return path;
  if (target == nullptr || !FindLocation(root, target, &path)) {
    return Unprocessable("the path selects an element outside the resource");
  }
  if (!path.empty() && !path.back().key.empty() && path.back().key[0] == '_') {
    path.back().key.remove_prefix(1);
  }
  return path;
}

// The structure of the object at `path` (the resource's, a datatype's or a backbone's).
const fhir::StructInfo* StructAt(const fhir::Model& model, const json::Value& root,
                                 std::span<const Step> path) {
  const fhir::StructInfo* s = model.FindStruct(root.FindString("resourceType"));
  const json::Value* node = &root;
  for (const Step& step : path) {
    if (s == nullptr || node == nullptr) return nullptr;
    fhir::ElementMatch m = s->Match(step.key);
    node = node->Find(step.key);
    if (node != nullptr && step.index >= 0) {
      node = node->is_array() && static_cast<size_t>(step.index) < node->size()
                 ? &node->items()[step.index]
                 : nullptr;
    }
    if (m.element == nullptr || m.type == nullptr) return nullptr;
    s = m.type->structure;
    if (s == nullptr && m.type->code == "Resource" && node != nullptr) {
      s = model.FindStruct(node->FindString("resourceType"));
    }
  }
  return s;
}

// Whether an element left empty by a change is removed too: FHIR JSON has no empty objects
// (https://hl7.org/fhir/R4/json.html: "empty objects are not allowed").
enum class Empty { kKeep, kPrune };

// Rebuilds `node` with the object at `path` replaced by edit(that object).
template <typename Edit>
Result<json::Value> EditObjectAt(json::Arena& arena, const json::Value& node,
                                 std::span<const Step> path, const Edit& edit,
                                 Empty empty = Empty::kKeep) {
  if (path.empty()) return edit(node);
  const Step& step = path.front();
  const json::Value* child = node.Find(step.key);
  if (child == nullptr) return Unprocessable("internal: lost element " + std::string(step.key));
  auto pruned = [&](const json::Value& v) {
    return empty == Empty::kPrune && v.is_object() && v.size() == 0;
  };
  if (step.index < 0) {
    ASSIGN_OR_RETURN(json::Value changed,
                     EditObjectAt(arena, *child, path.subspan(1), edit, empty));
    if (pruned(changed)) return json::WithoutMember(arena, node, step.key);
    return json::WithMember(arena, node, step.key, changed);
  }
  std::vector<json::Value> items(child->items().begin(), child->items().end());
  ASSIGN_OR_RETURN(json::Value changed,
                   EditObjectAt(arena, items[step.index], path.subspan(1), edit, empty));
  if (pruned(changed)) {
    items.erase(items.begin() + step.index);
    if (items.empty()) return json::WithoutMember(arena, node, step.key);
  } else {
    items[step.index] = changed;
  }
  return json::WithMember(arena, node, step.key, json::Value::Array(arena, items));
}

// An element's values and their `_name` parts (null where none), as one list.
struct ElementList {
  std::vector<json::Value> values;
  std::vector<json::Value> exts;
  bool is_array = false;
};

ElementList ReadList(const json::Value& parent, std::string_view key) {
  ElementList list;
  const json::Value* v = parent.Find(key);
  const json::Value* e = parent.Find("_" + std::string(key));
  list.is_array = (v != nullptr && v->is_array()) || (e != nullptr && e->is_array());
  if (!list.is_array) {
    if (v != nullptr || e != nullptr) {
      list.values.push_back(v != nullptr ? *v : json::Value());
      list.exts.push_back(e != nullptr ? *e : json::Value());
    }
    return list;
  }
  size_t n = std::max(v != nullptr ? v->size() : 0, e != nullptr ? e->size() : 0);
  for (size_t i = 0; i < n; ++i) {
    list.values.push_back(v != nullptr && i < v->size() ? v->items()[i] : json::Value());
    list.exts.push_back(e != nullptr && i < e->size() ? e->items()[i] : json::Value());
  }
  return list;
}

json::Value WriteList(json::Arena& arena, const json::Value& parent, std::string_view key,
                      const ElementList& list) {
  std::string ext_key = "_" + std::string(key);
  json::Value out = json::WithoutMember(arena, json::WithoutMember(arena, parent, key), ext_key);
  bool any_value = false;
  bool any_ext = false;
  for (const json::Value& v : list.values) any_value = any_value || !v.is_null();
  for (const json::Value& e : list.exts) any_ext = any_ext || !e.is_null();
  if (list.is_array) {
    if (any_value) out = json::WithMember(arena, out, key, json::Value::Array(arena, list.values));
    if (any_ext) out = json::WithMember(arena, out, ext_key, json::Value::Array(arena, list.exts));
  } else if (!list.values.empty()) {
    if (!list.values[0].is_null()) out = json::WithMember(arena, out, key, list.values[0]);
    if (!list.exts[0].is_null()) out = json::WithMember(arena, out, ext_key, list.exts[0]);
  }
  return out;
}

// A value given in an operation: `value[x]` (with its `_value[x]` part) or a list of parts.
struct GivenValue {
  json::Value value;
  json::Value ext;
  std::string type_suffix;  // "Date", "HumanName"; empty for parts
  const json::Value* parts = nullptr;
  bool present = false;
};

GivenValue ReadGiven(const json::Value& part) {
  GivenValue g;
  for (const json::Member& m : part.members()) {
    if (m.key.size() > 5 && m.key.starts_with("value")) {
      g.value = m.value;
      g.type_suffix = std::string(m.key.substr(5));
      g.present = true;
    } else if (m.key.size() > 6 && m.key.starts_with("_value")) {
      g.ext = m.value;
      g.type_suffix = std::string(m.key.substr(6));
      g.present = true;
    } else if (m.key == "part" && m.value.is_array()) {
      g.parts = &m.value;
      g.present = true;
    } else if (m.key == "resource") {
      g.value = m.value;
      g.present = true;
    }
  }
  return g;
}

// The JSON name of element `name` for a value of type `suffix`: the name plus the type for a
// choice element (https://hl7.org/fhir/R4/formats.html#choice).
Result<std::string> JsonName(const fhir::ElementInfo* element, std::string_view name,
                             std::string_view suffix) {
  if (element == nullptr || !element->is_choice) return std::string(name);
  if (suffix.empty()) {
    return Unprocessable("'" + std::string(name) + "' is a choice element: give it as value[x]");
  }
  return std::string(name) + std::string(suffix);
}

// The structure of element `e`'s values; for a choice element, of the type named by `suffix`
// ("DateTime" → dateTime). Null for primitives and unknown types.
const fhir::StructInfo* ElementStruct(const fhir::Model& model, const fhir::ElementInfo* e,
                                      std::string_view suffix) {
  if (e == nullptr) return nullptr;
  for (const fhir::TypeRef& t : e->types) {
    if (e->is_choice && !EqualsIgnoreCase(t.code, suffix)) continue;
    return t.structure != nullptr ? t.structure : model.FindStruct(t.code);
  }
  return nullptr;
}

// Builds a complex value from parts: each part's name is an element of `s` (when known).
Result<json::Value> BuildFromParts(json::Arena& arena, const fhir::Model& model,
                                   const fhir::StructInfo* s, const json::Value& parts, int depth) {
  if (depth > 32) return Invalid("parts are nested too deeply");
  struct Entry {
    std::string key;
    ElementList list;
  };
  std::vector<Entry> entries;
  for (const json::Value& part : parts.items()) {
    std::string_view name = part.FindString("name");
    if (name.empty()) return Invalid("a part of a value has no name");
    const fhir::ElementInfo* e = s != nullptr ? s->FindElement(name) : nullptr;
    if (s != nullptr && e == nullptr) {
      return Unprocessable(s->name + " has no element '" + std::string(name) + "'");
    }
    GivenValue g = ReadGiven(part);
    if (!g.present) return Invalid("part '" + std::string(name) + "' has no value");
    ASSIGN_OR_RETURN(std::string key, JsonName(e, name, g.type_suffix));
    json::Value v = g.value;
    if (g.parts != nullptr) {
      ASSIGN_OR_RETURN(v, BuildFromParts(arena, model, ElementStruct(model, e, g.type_suffix),
                                         *g.parts, depth + 1));
    }
    Entry* entry = nullptr;
    for (Entry& x : entries) {
      if (x.key == key) entry = &x;
    }
    if (entry == nullptr) {
      entries.push_back({key, {}});
      entry = &entries.back();
      entry->list.is_array = e != nullptr && e->is_array();
    } else if (!entry->list.is_array) {
      entry->list.is_array = true;  // repeated without a model: make it a list
    }
    entry->list.values.push_back(v);
    entry->list.exts.push_back(g.ext);
  }
  json::Value out = json::Value::Object(arena, {});
  for (const Entry& x : entries) out = WriteList(arena, out, x.key, x.list);
  return out;
}

// The value of an operation, built for element `e` (may be null when the model does not know).
Result<GivenValue> Materialize(json::Arena& arena, const fhir::Model& model, GivenValue g,
                               const fhir::ElementInfo* e) {
  if (g.parts != nullptr) {
    ASSIGN_OR_RETURN(g.value,
                     BuildFromParts(arena, model, ElementStruct(model, e, ""), *g.parts, 0));
  }
  return g;
}

struct Operation {
  std::string type;
  std::string path;
  std::string name;
  GivenValue value;
  std::optional<int64_t> index, source, destination;
};

Result<Operation> ReadOperation(const json::Value& parameter) {
  Operation op;
  const json::Value* parts = parameter.Find("part");
  if (parts == nullptr || !parts->is_array()) return Invalid("an operation has no parts");
  for (const json::Value& part : parts->items()) {
    std::string_view name = part.FindString("name");
    auto integer = [&](std::optional<int64_t>* out) -> Status {
      const json::Value* v = part.Find("valueInteger");
      if (v == nullptr || !v->is_number()) {
        return Invalid(std::string(name) + " must be valueInteger");
      }
      char* end = nullptr;
      std::string text(v->number_text());
      long long n = std::strtoll(text.c_str(), &end, 10);
      if (*end != '\0') return Invalid(std::string(name) + " must be an integer");
      *out = n;
      return Status::Ok();
    };
    if (name == "type") {
      op.type = part.FindString("valueCode");
    } else if (name == "path") {
      op.path = part.FindString("valueString");
    } else if (name == "name") {
      op.name = part.FindString("valueString");
    } else if (name == "value") {
      op.value = ReadGiven(part);
    } else if (name == "index") {
      RETURN_IF_ERROR(integer(&op.index));
    } else if (name == "source") {
      RETURN_IF_ERROR(integer(&op.source));
    } else if (name == "destination") {
      RETURN_IF_ERROR(integer(&op.destination));
    } else {
      return Invalid("unknown part '" + std::string(name) + "'");
    }
  }
  if (op.type.empty()) return Invalid("the operation has no type");
  if (op.path.empty()) return Invalid("the operation has no path");
  auto need = [&](bool ok, const char* what) {
    return ok ? Status::Ok() : Invalid(op.type + " needs " + what);
  };
  if (op.type == "add") {
    RETURN_IF_ERROR(need(!op.name.empty(), "a name"));
    RETURN_IF_ERROR(need(op.value.present, "a value"));
  } else if (op.type == "insert") {
    RETURN_IF_ERROR(need(op.index.has_value(), "an index"));
    RETURN_IF_ERROR(need(op.value.present, "a value"));
  } else if (op.type == "replace") {
    RETURN_IF_ERROR(need(op.value.present, "a value"));
  } else if (op.type == "move") {
    RETURN_IF_ERROR(
        need(op.source.has_value() && op.destination.has_value(), "a source and a destination"));
  } else if (op.type != "delete") {
    return Invalid("unknown operation type '" + op.type +
                   "' (expected add, insert, delete, replace or move)");
  }
  return op;
}

class Patcher {
 public:
  Patcher(json::Arena& arena, const fhir::Model& model) : arena_(arena), model_(model) {}

  Result<json::Value> Apply(const json::Value& root, const Operation& op) {
    // No context type: the path is checked as it is evaluated (what is absent selects nothing).
    fhirpath::CompileOptions options;
    options.mode = fhirpath::Mode::kNonStrict;
    ASSIGN_OR_RETURN(fhirpath::Expression expr, fhirpath::Expression::Compile(op.path, options));
    Result<fhirpath::Collection> found = expr.Evaluate(root);
    if (!found.ok()) return Invalid("path '" + op.path + "': " + found.status().message());
    const fhirpath::Collection& items = *found;
    if (op.type == "delete") {
      if (items.empty()) return root;  // "delete of nothing is not an error"
      RETURN_IF_ERROR(One(items, op));
      ASSIGN_OR_RETURN(Location loc, Locate(root, items[0]));
      if (loc.empty()) return Unprocessable("the resource itself cannot be deleted");
      return EditElement(
          root, loc,
          [&](ElementList* list, size_t i) -> Status {
            list->values.erase(list->values.begin() + static_cast<std::ptrdiff_t>(i));
            list->exts.erase(list->exts.begin() + static_cast<std::ptrdiff_t>(i));
            return Status::Ok();
          },
          Empty::kPrune);
    }
    if (op.type == "replace") {
      RETURN_IF_ERROR(One(items, op));
      ASSIGN_OR_RETURN(Location loc, Locate(root, items[0]));
      if (loc.empty()) return Unprocessable("the resource itself cannot be replaced");
      return Replace(root, loc, op.value);
    }
    if (op.type == "add") {
      RETURN_IF_ERROR(One(items, op));
      ASSIGN_OR_RETURN(Location loc, Locate(root, items[0]));
      return Add(root, loc, items[0], op);
    }
    // insert and move: the path selects a list (all items of one repeating element).
    if (items.empty()) return Unprocessable("no list found at '" + op.path + "'");
    ASSIGN_OR_RETURN(Location loc, Locate(root, items[0]));
    if (loc.empty() || loc.back().index < 0) {
      return Unprocessable("'" + op.path + "' does not select a repeating element");
    }
    Location parent(loc.begin(), loc.end() - 1);
    std::string_view key = loc.back().key;
    ASSIGN_OR_RETURN(const fhir::ElementInfo* element, ElementOf(root, parent, key));
    return EditObjectAt(arena_, root, parent, [&](const json::Value& obj) -> Result<json::Value> {
      ElementList list = ReadList(obj, key);
      if (list.values.size() != items.size()) {
        return Unprocessable("'" + op.path + "' selects only some items of a list");
      }
      const int64_t n = static_cast<int64_t>(list.values.size());
      if (op.type == "insert") {
        if (*op.index < 0 || *op.index > n) {
          return Unprocessable("index " + std::to_string(*op.index) + " is out of range 0.." +
                               std::to_string(n));
        }
        ASSIGN_OR_RETURN(GivenValue g, Materialize(arena_, model_, op.value, element));
        list.values.insert(list.values.begin() + *op.index, g.value);
        list.exts.insert(list.exts.begin() + *op.index, g.ext);
      } else {
        if (*op.source < 0 || *op.source >= n || *op.destination < 0 || *op.destination >= n) {
          return Unprocessable("source " + std::to_string(*op.source) + " or destination " +
                               std::to_string(*op.destination) + " is out of range 0.." +
                               std::to_string(n - 1));
        }
        json::Value v = list.values[*op.source];
        json::Value e = list.exts[*op.source];
        list.values.erase(list.values.begin() + *op.source);
        list.exts.erase(list.exts.begin() + *op.source);
        list.values.insert(list.values.begin() + *op.destination, v);
        list.exts.insert(list.exts.begin() + *op.destination, e);
      }
      return WriteList(arena_, obj, key, list);
    });
  }

 private:
  static Status One(const fhirpath::Collection& items, const Operation& op) {
    if (items.size() == 1) return Status::Ok();
    if (items.empty()) {
      return Unprocessable("No content found at " + op.path + " when " +
                           (op.type == "add" ? std::string("adding") : op.type + "ing"));
    }
    return Unprocessable("'" + op.path + "' selects " + std::to_string(items.size()) +
                         " elements; " + op.type + " needs exactly one");
  }

  // The model element named `key` (a JSON name) in the object at `parent`; null when unknown.
  Result<const fhir::ElementInfo*> ElementOf(const json::Value& root, const Location& parent,
                                             std::string_view key) {
    const fhir::StructInfo* s = StructAt(model_, root, parent);
    if (s == nullptr) return nullptr;
    fhir::ElementMatch m = s->Match(key);
    return m.element;
  }

  // Applies `edit` to the list holding the element at `loc` (its index in the list).
  template <typename Edit>
  Result<json::Value> EditElement(const json::Value& root, const Location& loc, const Edit& edit,
                                  Empty empty = Empty::kKeep) {
    Location parent(loc.begin(), loc.end() - 1);
    const Step step = loc.back();
    return EditObjectAt(
        arena_, root, parent,
        [&](const json::Value& obj) -> Result<json::Value> {
          ElementList list = ReadList(obj, step.key);
          size_t i = step.index < 0 ? 0 : static_cast<size_t>(step.index);
          if (i >= list.values.size()) return Unprocessable("internal: element vanished");
          RETURN_IF_ERROR(edit(&list, i));
          return WriteList(arena_, obj, step.key, list);
        },
        empty);
  }

  Result<json::Value> Replace(const json::Value& root, const Location& loc,
                              const GivenValue& given) {
    Location parent(loc.begin(), loc.end() - 1);
    const Step step = loc.back();
    const fhir::StructInfo* s = StructAt(model_, root, parent);
    fhir::ElementMatch m = s != nullptr ? s->Match(step.key) : fhir::ElementMatch{};
    std::string new_key(step.key);
    if (m.element != nullptr && m.element->is_choice && !given.type_suffix.empty()) {
      // The type may change: valueString → valueQuantity.
      new_key = m.element->name + given.type_suffix;
    }
    ASSIGN_OR_RETURN(GivenValue g, Materialize(arena_, model_, given, m.element));
    if (new_key != step.key) {
      if (step.index >= 0) return Unprocessable("internal: a repeating choice element");
      return EditObjectAt(arena_, root, parent, [&](const json::Value& obj) -> Result<json::Value> {
        json::Value out = WriteList(arena_, obj, step.key, ElementList{});
        return WriteList(arena_, out, new_key, ElementList{{g.value}, {g.ext}, false});
      });
    }
    // The whole element is replaced, so its old id and extensions (`_name`) go too.
    return EditElement(root, loc, [&](ElementList* list, size_t i) -> Status {
      list->values[i] = g.value;
      list->exts[i] = g.ext;
      return Status::Ok();
    });
  }

  Result<json::Value> Add(const json::Value& root, const Location& loc, const fhirpath::Item& item,
                          const Operation& op) {
    if (item.node == nullptr || !item.node->is_object()) {
      // An id or extension on a primitive lives in its `_name` part.
      if (loc.empty() || (op.name != "extension" && op.name != "id")) {
        return Unprocessable("'" + op.path + "' is a primitive: only id and extension can be " +
                             "added to it");
      }
      const fhir::StructInfo* ext_struct = model_.FindStruct("Element");
      const fhir::ElementInfo* e =
          ext_struct != nullptr ? ext_struct->FindElement(op.name) : nullptr;
      ASSIGN_OR_RETURN(GivenValue g, Materialize(arena_, model_, op.value, e));
      return EditElement(root, loc, [&](ElementList* list, size_t i) -> Status {
        json::Value part =
            list->exts[i].is_object() ? list->exts[i] : json::Value::Object(arena_, {});
        ElementList l = ReadList(part, op.name);
        l.is_array = op.name == "extension";
        if (!l.is_array && !l.values.empty()) return Unprocessable(op.name + " is already present");
        l.values.push_back(g.value);
        l.exts.push_back(json::Value());
        list->exts[i] = WriteList(arena_, part, op.name, l);
        return Status::Ok();
      });
    }
    const fhir::StructInfo* s =
        item.structure != nullptr ? item.structure : StructAt(model_, root, loc);
    const fhir::ElementInfo* e = s != nullptr ? s->FindElement(op.name) : nullptr;
    if (s != nullptr && e == nullptr) {
      return Unprocessable(s->name + " has no element '" + op.name + "'");
    }
    ASSIGN_OR_RETURN(std::string key, JsonName(e, op.name, op.value.type_suffix));
    ASSIGN_OR_RETURN(GivenValue g, Materialize(arena_, model_, op.value, e));
    return EditObjectAt(arena_, root, loc, [&](const json::Value& obj) -> Result<json::Value> {
      ElementList list = ReadList(obj, key);
      bool repeats = e != nullptr ? e->is_array() : list.is_array;
      if (!repeats && !list.values.empty()) {
        return Unprocessable("'" + key + "' is already present at '" + op.path +
                             "' and does not repeat: use replace");
      }
      if (e != nullptr && e->is_choice) {
        for (const json::Member& m : obj.members()) {
          fhir::ElementMatch other = s->Match(m.key);
          if (other.element == e) {
            return Unprocessable("'" + op.name + "' is already present at '" + op.path + "'");
          }
        }
      }
      list.is_array = repeats;
      list.values.push_back(g.value);
      list.exts.push_back(g.ext);
      return WriteList(arena_, obj, key, list);
    });
  }

  json::Arena& arena_;
  const fhir::Model& model_;
};

}  // namespace

Result<json::Value> ApplyFhirPathPatch(json::Arena& arena, const json::Value& resource,
                                       const json::Value& parameters, const fhir::Model& model) {
  if (!parameters.is_object() || parameters.FindString("resourceType") != "Parameters") {
    return Invalid("a FHIRPath Patch must be a Parameters resource");
  }
  const json::Value* params = parameters.Find("parameter");
  json::Value current = resource;
  if (params == nullptr) return current;
  if (!params->is_array()) return Invalid("Parameters.parameter must be an array");
  Patcher patcher(arena, model);
  for (size_t i = 0; i < params->size(); ++i) {
    const json::Value& p = params->items()[i];
    Result<Operation> op =
        p.FindString("name") == "operation"
            ? ReadOperation(p)
            : Result<Operation>(Invalid("parameter '" + std::string(p.FindString("name")) +
                                        "' is not an operation"));
    Result<json::Value> next =
        op.ok() ? patcher.Apply(current, *op) : Result<json::Value>(op.status());
    if (!next.ok()) {
      std::string where = "operation " + std::to_string(i) +
                          (op.ok() ? " (" + op->type + " " + op->path + ")" : std::string());
      std::string msg = where + ": " + next.status().message();
      return Status(next.status().code(), msg,
                    {Issue{Severity::kError,
                           next.status().code() == StatusCode::kInvalid ? "invalid" : "processing",
                           msg, "Parameters.parameter[" + std::to_string(i) + "]"}});
    }
    current = next.value();
  }
  return current;
}

}  // namespace vesta::patch
